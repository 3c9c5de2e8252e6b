"""How money reaches a prepaid balance: the seam where a payment provider plugs in.

A method describes itself to the customer (``instructions``). Bank transfers are recorded by
finance with ``billing.services.topup_record`` once the money arrives; a provider added later
confirms its payment (webhook or return URL) and calls the same service with its own
``method`` code, ``external_reference`` and ``job`` name.
"""

from django.conf import settings

from accounts.models import Brand


class PaymentMethod:
    code = ""
    label = ""
    # True when a person records the payment (finance); False when the provider confirms it.
    recorded_by_finance = True

    def instructions(self, account) -> str:
        raise NotImplementedError


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


PAYMENT_METHODS = {method.code: method for method in (BankTransfer(),)}


def payment_method(code) -> PaymentMethod:
    return PAYMENT_METHODS[code]
