"""Who hears about an account's money: the e-mail addresses payments' e-mails go to."""

from accounts.models import Role

# The roles that handle an account's money (its admins and billing users; a reseller's
# admins and finance).
MONEY_ROLES = (
    Role.CUSTOMER_ADMIN,
    Role.CUSTOMER_BILLING,
    Role.RESELLER_ADMIN,
    Role.RESELLER_FINANCE,
)


def money_contacts(account, *, also=None) -> list[str]:
    """E-mail addresses of ``account``'s active users who handle its money, and ``also``
    (the user who started the payment or asked for the payout) when that user is still an
    active user of the account."""
    emails = set(
        account.users.filter(role__in=MONEY_ROLES, is_active=True).values_list("email", flat=True)
    )
    if also is not None and also.is_active and also.account_id == account.pk:
        emails.add(also.email)
    return sorted(emails)
