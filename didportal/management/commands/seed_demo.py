from django.core.management.base import BaseCommand

from accounts.demo import seed_accounts


class Command(BaseCommand):
    help = "Load the demo data (idempotent: running it again changes nothing)."

    def handle(self, *args, **options):
        accounts = seed_accounts()
        self.stdout.write(self.style.SUCCESS(f"Demo accounts ready: {len(accounts)}"))
