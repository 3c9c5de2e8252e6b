"""E-mails billing sends, queued in the outbox (which sends them after commit, or later).

Each function builds its message and queues it with ``outbox.services.email_queue``: call it
inside the transaction of the change it reports, and the e-mail exists exactly when that
change was committed. (Called after commit it still works: it queues in a transaction of
its own.) A failing mail server never undoes a charge or a hold: the outbox retries.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.branding import brand_for_account
from accounts.models import Account, Role
from outbox.services import email_queue

from .models import Subscription

ACCOUNT_ADMIN_ROLES = (Role.CUSTOMER_ADMIN, Role.RESELLER_ADMIN)

# How a held number comes back (billing.services.renewals), told in the e-mail and on the
# balance page in the same words.
RESUME_POLICY = (
    "After a top-up it comes back within minutes with a new full period starting then, so "
    "its renewal date moves to that day. The time on hold is never charged, and its extra "
    "channels come back with it."
)


def _account_admin_emails(account):
    admins = account.users.filter(role__in=ACCOUNT_ADMIN_ROLES, is_active=True)
    return list(admins.values_list("email", flat=True))


def low_balance_email_send(*, account_id, balance, threshold):
    account = Account.objects.get(pk=account_id)
    recipients = _account_admin_emails(account)
    if not recipients:
        return
    site = brand_for_account(account).name
    currency = account.currency
    email_queue(
        to=recipients,
        account=account,
        subject=f"[{site}] Low balance on {account.name}: {balance} {currency}",
        text=(
            f"The prepaid balance of {account.name} is {balance} {currency}, "
            f"below your alert threshold of {threshold} {currency}.\n\n"
            "Top up your balance to keep your numbers renewing without interruption.\n"
        ),
    )


def renewal_failed_email_send(*, subscription_id):
    """The renewal of a subscription failed for lack of balance: its number is on hold."""
    subscription = Subscription.objects.select_related("account", "did").get(pk=subscription_id)
    if subscription.status != Subscription.Status.HOLD:
        return  # resumed meanwhile
    account = subscription.account
    recipients = _account_admin_emails(account)
    if not recipients:
        return
    site = brand_for_account(account).name
    hold_days = getattr(settings, "DID_HOLD_DAYS", 30)
    failed_at = subscription.renewal_failed_at
    release_on = timezone.localtime(failed_at) + timedelta(days=hold_days)
    what = subscription.did.number if subscription.did_id else subscription.description
    email_queue(
        # One e-mail per failed renewal, however often this is called for it.
        key=f"renewal-failed:{subscription.pk}:{failed_at.isoformat()}",
        to=recipients,
        account=account,
        subject=f"[{site}] Renewal failed: {what} is on hold",
        text=(
            f"We could not renew {subscription} for {account.name}: the prepaid balance does "
            f"not cover {subscription.recurring_price} {subscription.currency}.\n\n"
            f"{what} is on hold and does not receive calls. Top up your balance and it is "
            f"renewed and reactivated automatically. {RESUME_POLICY}\n\n"
            f"Without a top-up it is released on {release_on:%Y-%m-%d}.\n"
        ),
    )
