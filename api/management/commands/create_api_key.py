"""``manage.py create_api_key EMAIL --name NAME [--read-only]``: a new key for that user's
account, acting as that user. Prints the secret alone on standard output (for scripts:
``KEY=$(manage.py create_api_key …)``); anything else goes to standard error."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.throttles import normalized_email
from api import selectors
from api.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key acting as the user with this e-mail address; prints its secret."

    def add_arguments(self, parser):
        parser.add_argument("email", help="The user the key acts as (its account owns the key).")
        parser.add_argument("--name", required=True, help="What the key is for.")
        parser.add_argument(
            "--read-only", action="store_true", help="A key that may read, never change."
        )

    def handle(self, *args, email, name, read_only, **options):
        user = (
            get_user_model()
            .objects.select_related("account")
            .filter(email__iexact=normalized_email(email))
            .first()
        )
        if user is None:
            raise CommandError(f"No user has the e-mail address {email!r}.")
        try:
            key, secret = api_key_create(user=user, name=name, read_only=read_only)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(secret)
        if not read_only and selectors.pending_requirements([key]).get(key.pk):
            self.stderr.write(
                f"Key {key.prefix}… created. Before it can order regulated numbers, "
                f"{user.email} must agree to their requirement texts on the API keys page."
            )
