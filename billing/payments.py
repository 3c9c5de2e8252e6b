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


class BankTransfer(PaymentMethod):
    code = "bank_transfer"
    label = "Bank transfer"

    def instructions(self, account) -> str:
        """Where to transfer: the seller's bank account. A reseller's customer pays its
        reseller (the bank details of its brand), never the platform."""
        reseller = account.reseller
        if reseller is None:
            payee, bank_details = "our", getattr(settings, "BILLING_BANK_DETAILS", "")
        else:
            brand = Brand.objects.filter(account=reseller).first()
            name = brand.display_name if brand else reseller.name
            payee, bank_details = f"{name}’s", brand.bank_details if brand else ""
            if not bank_details:
                return (
                    f"Ask {name} for its bank details, and quote the reference "
                    f"ACCOUNT-{account.pk} so your balance can be credited."
                )
        lines = [
            f"Transfer the amount in {account.currency} to {payee} bank account.",
            bank_details,
            f"Quote the reference ACCOUNT-{account.pk} so we can credit your balance.",
        ]
        return "\n".join(line for line in lines if line)


PAYMENT_METHODS = {method.code: method for method in (BankTransfer(),)}


def payment_method(code) -> PaymentMethod:
    return PAYMENT_METHODS[code]
