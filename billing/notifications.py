"""E-mails billing sends. Called after commit; an outbox can replace these functions later."""

from django.conf import settings
from django.core.mail import send_mail

from accounts.models import Account, Role

ACCOUNT_ADMIN_ROLES = (Role.CUSTOMER_ADMIN, Role.RESELLER_ADMIN)


def low_balance_email_send(*, account_id, balance, threshold):
    account = Account.objects.get(pk=account_id)
    admins = account.users.filter(role__in=ACCOUNT_ADMIN_ROLES, is_active=True)
    recipients = list(admins.values_list("email", flat=True))
    if not recipients:
        return
    site = getattr(settings, "SITE_NAME", "didportal")
    currency = account.currency
    send_mail(
        subject=f"[{site}] Low balance on {account.name}: {balance} {currency}",
        message=(
            f"The prepaid balance of {account.name} is {balance} {currency}, "
            f"below your alert threshold of {threshold} {currency}.\n\n"
            "Top up your balance to keep your numbers renewing without interruption.\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
