"""A demo bank statement for `make run`: finance finds payments to confirm and one to sort
out by hand (Balances → Bank statements). Nothing is booked: confirming is the demo."""

from django.utils import timezone

from accounts.models import User

from .models import BankStatement
from .references import reference_display
from .services.bank import statement_upload

FILENAME = "demo-statement.csv"


def seed_bank_statements(accounts):
    """Upload once, as platform finance, a CSV with a transfer from the direct customer
    quoting its reference and one without a reference; and, as Voxel's finance, one from
    its customer Bäckerei Schmidt."""
    today = timezone.localdate()
    statements = [
        (
            "finance@didportal.test",
            [
                (accounts["direct"], "50.00", f"Top-up {reference_display(accounts['direct'].pk)}"),
                (None, "35.00", "for our numbers, thanks"),
            ],
        ),
        (
            "finance@voxel.didportal.test",
            [(accounts["resold"], "40.00", reference_display(accounts["resold"].pk))],
        ),
    ]
    for email, rows in statements:
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if (
            user is None
            or BankStatement.objects.filter(seller=user.account, filename=FILENAME).exists()
        ):
            continue
        lines = ["date,amount,currency,reference,transaction_id,payer"]
        for number, (account, amount, text) in enumerate(rows, start=1):
            payer = account.legal_name or account.name if account else "Unknown payer"
            tx_id = f"DEMO-{user.account.pk}-{number:04d}"
            lines.append(f'{today:%Y-%m-%d},{amount},USD,"{text}",{tx_id},"{payer}"')
        statement_upload(user=user, filename=FILENAME, data="\n".join(lines).encode())
