"""E-mails billing sends. Called after commit; an outbox can replace these functions later."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from accounts.models import Account, Role

from .models import Subscription

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


def renewal_failed_email_send(*, subscription_id):
    """The renewal of a subscription failed for lack of balance: its number is on hold."""
    subscription = Subscription.objects.select_related("account", "did").get(pk=subscription_id)
    if subscription.status != Subscription.Status.HOLD:
        return  # resumed meanwhile
    account = subscription.account
    admins = account.users.filter(role__in=ACCOUNT_ADMIN_ROLES, is_active=True)
    recipients = list(admins.values_list("email", flat=True))
    if not recipients:
        return
    site = getattr(settings, "SITE_NAME", "didportal")
    hold_days = getattr(settings, "DID_HOLD_DAYS", 30)
    release_on = timezone.localtime(subscription.renewal_failed_at) + timedelta(days=hold_days)
    what = subscription.did.number if subscription.did_id else subscription.description
    send_mail(
        subject=f"[{site}] Renewal failed: {what} is on hold",
        message=(
            f"We could not renew {subscription} for {account.name}: the prepaid balance does "
            f"not cover {subscription.recurring_price} {subscription.currency}.\n\n"
            f"{what} is on hold and does not receive calls. Top up your balance and it is "
            "renewed and reactivated automatically.\n\n"
            f"Without a top-up it is released on {release_on:%Y-%m-%d}.\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
