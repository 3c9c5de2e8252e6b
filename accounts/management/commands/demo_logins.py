from django.core.management.base import BaseCommand

from accounts.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Print the demo logins created by seed_demo."

    def handle(self, *args, **options):
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        for email, role, _key, _name in DEMO_USERS:
            self.stdout.write(f"  {role.label:<18} {email}")
        self.stdout.write("")
