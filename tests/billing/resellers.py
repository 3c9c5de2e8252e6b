"""Set-up for reseller invoicing tests: resellers with a brand, their customers, and the two
charges of a resold period (the customer's sale charge, the reseller's wholesale charge).

Until checkout and renewals write both charges themselves (lane "money"), a test makes the
wholesale charge here, the way they will: its own row (account = the reseller, side
``wholesale``), VAT decided for the reseller as buyer, and its own ledger debit.
"""

import uuid
from decimal import Decimal

from accounts.models import Brand
from billing.models import Subscription, SubscriptionCharge
from billing.services import charge as ledger_charge
from billing.services.subscriptions import charge_row, debit_fields
from billing.tax import tax_for
from tests.billing.factories import fund
from tests.billing.test_subscriptions_helpers import start
from tests.factories import AccountFactory, UserFactory, platform

# The smallest valid PNG (1×1, transparent) and a JPEG start, for logos.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def reseller_with_brand(name, *, country="NL", vat_number="", bank="", footer="", logo=None):
    reseller = AccountFactory(
        kind="reseller",
        parent=platform(),
        name=name,
        legal_name=f"{name} B.V.",
        country=country,
        vat_number=vat_number,
        address=f"{name}straat 1\n1011 AB Amsterdam",
    )
    Brand.objects.create(
        account=reseller,
        display_name=f"{name} Voice",
        bank_details=bank,
        invoice_footer=footer,
        logo=logo,
        logo_content_type="image/png" if logo else "",
    )
    return reseller


def customer_of(reseller, name=None, **fields):
    return AccountFactory(
        kind="customer", parent=reseller, name=name or f"Customer of {reseller}", **fields
    )


def user_of(account, role):
    return UserFactory(account=account, role=role)


def resold(
    customer, *, retail="10.00", wholesale="6.00", setup="0.00", wholesale_setup="0.00", **kw
):
    """A subscription of a reseller's customer with its first period charged on both sides:
    the customer pays ``retail`` (its sale charge), the reseller ``wholesale``."""
    reseller = customer.reseller
    fund(customer, kw.pop("customer_funds", "500.00"))
    fund(reseller, kw.pop("reseller_funds", "500.00"))
    subscription = start(customer, price=retail, setup=setup, **kw)
    Subscription.objects.filter(pk=subscription.pk).update(
        reseller=reseller,
        wholesale_recurring_price=Decimal(wholesale),
        wholesale_setup_fee=Decimal(wholesale_setup),
    )
    subscription.refresh_from_db()
    sale = subscription.charges.get(side="sale", period_index=0)
    wholesale_charge(sale, wholesale=wholesale, setup=wholesale_setup)
    return subscription


def wholesale_charge(sale, *, wholesale, setup="0.00"):
    """The reseller's wholesale charge for the period of ``sale``, made now."""
    subscription = sale.subscription
    reseller = subscription.reseller
    row = charge_row(
        subscription,
        decision=tax_for(reseller),
        index=sale.period_index,
        start=sale.period_start,
        end=sale.period_end,
        recurring=Decimal(wholesale),
        setup=Decimal(setup),
        job="tests",
    )
    row.account = reseller
    row.side = SubscriptionCharge.Side.WHOLESALE
    row.created_at = sale.created_at
    if row.amount > 0:
        fields = debit_fields(
            subscription, index=sale.period_index, start=sale.period_start, end=sale.period_end
        )
        fields["idempotency_key"] = f"wholesale:{uuid.uuid4().hex}"
        row.ledger_entry = ledger_charge(account=reseller, amount=row.amount, job="tests", **fields)
    row.save(force_insert=True)
    return row
