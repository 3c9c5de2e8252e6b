"""Reads for the auto top-up page."""

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from billing.selectors import balance_for

from .models import AutoTopup, CardPayment
from .services.autotopup import attempts_today, open_auto_payment


@dataclass(frozen=True)
class AutoTopupView:
    auto: AutoTopup | None
    balance: object
    attempts_today: int
    attempts_per_day: int
    open_payment: CardPayment | None
    recent: list

    @property
    def has_card(self):
        return bool(self.auto and self.auto.provider_payment_method_id)


def auto_topup_for(account) -> AutoTopupView:
    """The account's auto top-up (None before a card was saved), with today's attempts,
    the payment waiting for the provider, and the last few auto top-ups."""
    auto = AutoTopup.objects.filter(account=account).first()
    return AutoTopupView(
        auto=auto,
        balance=balance_for(account),
        attempts_today=attempts_today(auto, timezone.localdate()) if auto else 0,
        attempts_per_day=settings.AUTO_TOPUP_ATTEMPTS_PER_DAY,
        open_payment=open_auto_payment(account.pk),
        recent=list(
            CardPayment.objects.filter(
                account=account, purpose=CardPayment.Purpose.AUTO_TOPUP
            ).order_by("-pk")[:5]
        ),
    )
