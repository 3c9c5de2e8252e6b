"""How money reaches a prepaid balance: the seam where a payment provider plugs in.

A method describes itself to the customer (``instructions``). Bank transfers are recorded by
finance with ``billing.services.topup_record`` once the money arrives; a provider added later
confirms its payment (webhook or return URL) and calls the same service with its own
``method`` code, ``external_reference`` and ``job`` name.

``ways_to_pay(user)`` is what the balance page lists: the methods available to the user's
account, each with where to start a payment online (if the user may) and its recent ones.
"""

from django.conf import settings
from django.urls import reverse

from accounts.models import Brand


class PaymentMethod:
    code = ""
    label = ""
    # True when a person records the payment (finance); False when the provider confirms it.
    recorded_by_finance = True

    def instructions(self, account) -> str:
        raise NotImplementedError

    def available(self, account) -> bool:
        return True

    def start_url(self, user) -> str:
        """Where ``user`` starts a payment of this kind online ("" when there is none)."""
        return ""

    def recent(self, account) -> list:
        """The account's latest payments of this kind (shown with their status)."""
        return []


def bank_transfer_details(account) -> tuple[str, str, str]:
    """(payee, bank details, payment reference) for a transfer to ``account``'s balance.
    A reseller's customer pays its reseller (the bank details of its brand, possibly blank),
    never the platform; everyone else pays the platform. The reference is the account's
    own ISO 11649 creditor reference, the same wherever it is shown."""
    from payments.references import reference_display  # noqa: PLC0415 (payments is above)

    reference = reference_display(account.pk)
    reseller = account.reseller
    if reseller is None:
        return settings.PLATFORM_NAME, getattr(settings, "BILLING_BANK_DETAILS", ""), reference
    brand = Brand.objects.filter(account=reseller).first()
    name = brand.display_name if brand and brand.display_name else reseller.name
    return name, brand.bank_details if brand else "", reference


class BankTransfer(PaymentMethod):
    code = "bank_transfer"
    label = "Bank transfer"

    def instructions(self, account) -> str:
        """Where to transfer and the reference to quote (``bank_transfer_details``)."""
        payee, bank_details, reference = bank_transfer_details(account)
        if account.reseller is not None and not bank_details:
            return (
                f"Ask {payee} for its bank details, and quote the reference {reference} "
                "so your balance can be credited."
            )
        payee = "our" if account.reseller is None else f"{payee}’s"
        lines = [
            f"Transfer the amount in {account.currency} to {payee} bank account.",
            bank_details,
            f"Quote the reference {reference} so we can credit your balance.",
        ]
        return "\n".join(line for line in lines if line)


class Card(PaymentMethod):
    """Card payments through the seller's Stripe account (the ``payments`` app); offered
    only where whoever collects the account's money has Stripe keys."""

    code = "card"
    label = "Card"
    recorded_by_finance = False

    def available(self, account) -> bool:
        from payments.stripe_api import card_payments_enabled_for  # noqa: PLC0415

        return card_payments_enabled_for(account)

    def instructions(self, account) -> str:
        return (
            "Pay by credit or debit card on our card processor's secure page: your balance "
            "is credited within a minute, and you get a receipt by e-mail."
        )

    def start_url(self, user) -> str:
        from accounts.permissions import may_fund_balance  # noqa: PLC0415

        return reverse("payments:card_topup") if may_fund_balance(user) else ""

    def recent(self, account) -> list:
        from payments.selectors_card import card_payments_recent  # noqa: PLC0415

        return card_payments_recent(account)


PAYMENT_METHODS = {method.code: method for method in (BankTransfer(), Card())}


def ways_to_pay(user) -> list[dict]:
    account = user.account
    return [
        {
            "code": method.code,
            "label": method.label,
            "instructions": method.instructions(account),
            "start_url": method.start_url(user),
            "recent": method.recent(account),
        }
        for method in PAYMENT_METHODS.values()
        if method.available(account)
    ]


def payment_method(code) -> PaymentMethod:
    return PAYMENT_METHODS[code]
