from django.core.management.base import BaseCommand

from inventory.services import cart_holds_release_expired


class Command(BaseCommand):
    help = "End the cart holds whose CART_HOLD_MINUTES are up (Celery beat does it every minute)."

    def handle(self, *args, **options):
        released = cart_holds_release_expired()
        self.stdout.write(self.style.SUCCESS(f"Released {released} cart holds."))
