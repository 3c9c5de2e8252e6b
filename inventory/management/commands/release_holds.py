from django.core.management.base import BaseCommand

from inventory.services import holds_release_expired


class Command(BaseCommand):
    help = "Release numbers on hold for longer than DID_HOLD_DAYS to their after-hold status."

    def handle(self, *args, **options):
        released = holds_release_expired(job="release_holds")
        self.stdout.write(self.style.SUCCESS(f"Released {released} numbers."))
