from django.core.management.base import BaseCommand

from webhooks.services import webhooks_flush


class Command(BaseCommand):
    help = "Send every webhook delivery that is due, here and now (beat's sweep uses workers)."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Stop after this many.")

    def handle(self, *args, limit=None, **options):
        counts = webhooks_flush(limit=limit)
        self.stdout.write(
            f"Delivered {counts['delivered']}, to retry later {counts['retry']}, "
            f"given up {counts['failed']}."
        )
