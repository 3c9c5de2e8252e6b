from django.core.management.base import BaseCommand, CommandError

from billing.selectors import balance_mismatches


class Command(BaseCommand):
    help = "Compare every cached balance with its ledger sum; exit non-zero on a mismatch."

    def handle(self, *args, **options):
        mismatches = list(balance_mismatches())
        for account in mismatches:
            self.stdout.write(
                f"{account.pk}\t{account.name}\tcached {account.cached_balance:.2f}"
                f"\tledger {account.ledger_sum:.2f}"
            )
        if mismatches:
            raise CommandError(f"{len(mismatches)} balance(s) disagree with the ledger.")
        self.stdout.write("All balances agree with the ledger.")
