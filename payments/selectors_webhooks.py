"""Reads of the finance pages on card payments: payments, the webhook log and balance
claims, each limited to what the viewer's account collected (its ``seller``)."""

from .models import BalanceClaim, CardPayment, PaymentEvent


def card_payments_for(seller, *, status="", search="", date_from=None, date_to=None):
    payments = CardPayment.objects.filter(seller=seller).select_related("account")
    if status:
        payments = payments.filter(status=status)
    if search:
        payments = payments.filter(account__name__icontains=search)
    if date_from:
        payments = payments.filter(created_at__date__gte=date_from)
    if date_to:
        payments = payments.filter(created_at__date__lte=date_to)
    return payments.order_by("-pk")


def card_payment_of(seller, pk):
    return CardPayment.objects.select_related("account").filter(seller=seller, pk=pk).first()


def events_for(seller, *, outcome="", payment=None):
    events = PaymentEvent.objects.filter(seller=seller).select_related("payment__account")
    if outcome:
        events = events.filter(outcome=outcome)
    if payment is not None:
        events = events.filter(payment=payment)
    return events.order_by("-pk")


def claims_for(seller, *, state=""):
    """Claims on the accounts ``seller`` collects for (``seller_for``: the account's parent)."""
    claims = BalanceClaim.objects.filter(account__parent=seller).select_related(
        "account", "payment", "settled_by"
    )
    if state == "open":
        claims = claims.filter(settled_at__isnull=True)
    elif state == "settled":
        claims = claims.filter(settled_at__isnull=False)
    return claims.order_by("-pk")


def claim_of(seller, pk):
    return claims_for(seller).filter(pk=pk).first()
