"""What needs attention in the money a seller collects, for the Payments page."""

from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from .models import BalanceClaim, BankStatementLine, CardPayment, PaymentEvent, Payout


def payments_summary(seller, *, now=None) -> dict:
    now = now or timezone.now()
    month_ago, week_ago = now - timedelta(days=30), now - timedelta(days=7)
    cards = CardPayment.objects.filter(seller=seller).aggregate(
        open=Count("pk", filter=Q(status=CardPayment.Status.OPEN)),
        paid_30d=Count("pk", filter=Q(status=CardPayment.Status.PAID, paid_at__gte=month_ago)),
        paid_30d_sum=Sum(
            "amount", filter=Q(status=CardPayment.Status.PAID, paid_at__gte=month_ago)
        ),
    )
    lines = BankStatementLine.objects.filter(seller=seller).aggregate(
        proposed=Count("pk", filter=Q(status=BankStatementLine.Status.PROPOSED)),
        unmatched=Count("pk", filter=Q(status=BankStatementLine.Status.UNMATCHED)),
    )
    claims = BalanceClaim.objects.filter(account__parent=seller, settled_at__isnull=True)
    return {
        "cards": cards,
        "lines": lines,
        "payouts_requested": Payout.objects.filter(
            seller=seller, status=Payout.Status.REQUESTED
        ).count(),
        "claims": claims.aggregate(count=Count("pk"), total=Sum("amount")),
        "refused_events_7d": PaymentEvent.objects.filter(
            seller=seller, outcome=PaymentEvent.Outcome.REFUSED, received_at__gte=week_ago
        ).count(),
    }
