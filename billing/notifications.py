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


def reseller_unpaid_renewals_email_send(*, reseller_id, subscription_ids, key):
    """A renewal run put ``subscription_ids`` (the reseller's customers') on hold because
    the reseller's balance did not cover their wholesale price: one e-mail to the
    reseller's admins listing them. The customers were not charged and are not e-mailed."""
    reseller = Account.objects.get(pk=reseller_id)
    recipients = _account_admin_emails(reseller)
    if not recipients or not subscription_ids:
        return
    held = Subscription.objects.filter(pk__in=subscription_ids).select_related("account", "did")
    lines = [
        f"- {sub.did.number if sub.did_id else sub.description} ({sub.account.name}): "
        f"{sub.wholesale_recurring_price} {sub.currency} wholesale"
        for sub in held.order_by("account__name", "pk")
    ]
    site = getattr(settings, "SITE_NAME", "didportal")
    email_queue(
        key=key,
        to=recipients,
        subject=f"[{site}] {len(lines)} of your customers' numbers on hold: your balance is short",
        text=(
            f"The prepaid balance of {reseller.name} did not cover the wholesale price of "
            'these renewals, so they are on hold ("reseller unpaid"). Your customers were '
            "not charged and do not receive calls on them:\n\n"
            + "\n".join(lines)
            + "\n\nTop up your balance and they are renewed and reactivated automatically, "
            "oldest first.\n"
        ),
    )


def reseller_unpaid_checkout_email_send(*, reseller, customer, order_reference, numbers, key):
    """A reseller's customer's order could not include ``numbers`` because the reseller's
    balance did not cover their wholesale price: one e-mail per order to the reseller's
    admins. Nobody was charged for them."""
    recipients = _account_admin_emails(reseller)
    if not recipients or not numbers:
        return
    site = getattr(settings, "SITE_NAME", "didportal")
    email_queue(
        key=key,
        to=recipients,
        subject=f"[{site}] {customer.name} could not buy {len(numbers)} number(s): "
        "your balance is short",
        text=(
            f"{customer.name} tried to buy these numbers in order {order_reference}, but the "
            f"prepaid balance of {reseller.name} does not cover their wholesale price:\n\n"
            + "\n".join(f"- {number}" for number in numbers)
            + "\n\nNobody was charged for them, and your customer was told they cannot be "
            "supplied right now. Top up your balance so your customers can buy again.\n"
        ),
    )
