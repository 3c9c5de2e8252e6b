from django.core.management.base import BaseCommand

from outbox.services import outbox_flush


class Command(BaseCommand):
    help = "Send every queued e-mail that is due (what the periodic flush_outbox job does)."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Stop after this many.")

    def handle(self, *args, limit=None, **options):
        counts = outbox_flush(limit=limit)
        self.stdout.write(
            f"Sent {counts['sent']}, to retry later {counts['retry']}, given up {counts['failed']}."
        )
