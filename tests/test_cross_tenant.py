"""Every URL that takes an object id answers 404 to a user of another tenant.

The walker lists every URL pattern with a parameter. Each must be one of:
- a platform-staff page (its ``@allow`` predicates admit platform roles only): every other
  role is refused before any lookup, whatever the id — checked here for all of them, and
  platform finance is refused the pages only platform admins may use;
- a tenant's object page whose id the walk can make (the path segment before the id names
  its kind: ``customers/<pk>`` an account, ``invoices/<pk>`` an invoice; ``KIND_BY_SEGMENT``,
  or ``KIND_BY_URL_NAME`` where the path does not say). The persona walk builds five tenants
  (resellers A and B, a customer of each, a direct customer), makes one object of that
  kind for each, and has six personas (each tenant's admin and platform finance) open it
  with GET and POST: a persona reaches only its own tenant's objects (a reseller: its own
  and its customers'; finance: everything, read only), and at least one persona reaches
  each page (so the ids are the right kind). Pages other lanes add are covered when they
  merge, as long as their kind is known;
- listed in NOT_TENANT_OBJECTS with the reason.
The scenarios below add the weaker roles (a teammate owner against a stranger admin).
A new view with an id that is none of these makes this test fail.
"""

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.scoping import PLATFORM_ROLES
from tests.factories import AccountFactory, UserFactory, platform

# URL names whose parameter is not a tenant's object id.
NOT_TENANT_OBJECTS = {
    "accounts:password_reset_confirm": "signed one-time token, not an object id",
    "accounts:signup_reseller": "a reseller's public sign-up code",
    "accounts:verify_email": "signed e-mail verification token, not an object id",
    "brand_css": "a reseller's brand is public (anonymous visitors of its host see it)",
    "brand_logo": "a reseller's brand is public (anonymous visitors of its host see it)",
    "catalog:country": "a public country code (coverage is public)",
    "catalog:numbers": "a public country code (coverage is public)",
    "compliance:requirement": "a requirement's legal text is public (the catalog links to it)",
    "compliance:registration_start": (
        "a requirement's id (public); it opens the viewer's own account's registration, only "
        "for a requirement its own numbers await (else 404)"
    ),
    "payments:stripe_webhook_seller": "a reseller's webhook token: Stripe calls it, signed",
}

# Django admin: operations superusers only. /v3/ (the API, keys not sessions): every route
# and key kind is walked by tests/api/test_api_tenancy.py.
SKIPPED_NAMESPACES = {"admin", "api"}


def _walk(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            if ns in SKIPPED_NAMESPACES:
                continue
            child = f"{namespace}{ns}:" if ns else namespace
            yield from _walk(entry.url_patterns, child)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}", entry


def _parameterised_patterns():
    found = {}
    for name, pattern in _walk(get_resolver().url_patterns):
        if pattern.pattern.regex.groups:
            found[name] = pattern
    return found


def _is_platform_only(pattern):
    predicates = getattr(pattern.callback, "allowed_predicates", ())
    return bool(predicates) and all(
        set(getattr(p, "roles", ("?",))) <= set(PLATFORM_ROLES) for p in predicates
    )


def _platform_only_url_names():
    return sorted(n for n, p in _parameterised_patterns().items() if _is_platform_only(p))


def _dummy_kwargs(pattern):
    converters = getattr(pattern.pattern, "converters", {})
    return {
        key: 1 if type(conv).__name__ == "IntConverter" else "x" for key, conv in converters.items()
    }


# --- scenarios: each returns (owner, stranger, kwargs, method) ------------------------------


def _reseller_pair():
    reseller_a = AccountFactory(kind="reseller", name="Reseller A")
    reseller_b = AccountFactory(kind="reseller", name="Reseller B")
    return (
        reseller_a,
        UserFactory(account=reseller_a, role="reseller_admin"),
        UserFactory(account=reseller_b, role="reseller_admin"),
    )


def customer_detail():
    reseller, owner, stranger = _reseller_pair()
    customer = AccountFactory(parent=reseller)
    return owner, stranger, {"pk": customer.pk}, "get"


def customer_set_status():
    reseller, owner, stranger = _reseller_pair()
    customer = AccountFactory(parent=reseller)
    return owner, stranger, {"pk": customer.pk}, "post"


def team_edit():
    owner = UserFactory(role="customer_admin")
    member = UserFactory(account=owner.account, role="customer_member")
    stranger = UserFactory(role="customer_admin")
    return owner, stranger, {"pk": member.pk}, "get"


def agreement_detail():
    from compliance.services import agreements_record
    from tests.compliance.factories import RequirementFactory

    owner = UserFactory(role="customer_admin")
    stranger = UserFactory(role="customer_admin")
    (agreement,) = agreements_record(
        user=owner,
        account=owner.account,
        requirements=[RequirementFactory()],
        order_id=1,
        ip_address=None,
    )
    return owner, stranger, {"pk": agreement.pk}, "get"


def _cart_line():
    from cart.services import cart_add_any
    from tests.inventory.factories import DIDFactory

    owner = UserFactory(role="customer_admin")
    stranger = UserFactory(role="customer_admin")
    did = DIDFactory()
    (item,) = cart_add_any(user=owner, block=did.block, quantity=1).items
    return owner, stranger, item


def cart_item_update():
    owner, stranger, item = _cart_line()
    return owner, stranger, {"pk": item.pk}, "post"


def cart_item_remove():
    owner, stranger, item = _cart_line()
    return owner, stranger, {"pk": item.pk}, "get"


def _invoice():
    from billing.services.invoices import LineDraft, invoice_issue

    owner = UserFactory(role="customer_member")  # a teammate: the weaker customer role
    stranger = UserFactory(role="customer_admin")
    zero = Decimal("0.00")
    line = LineDraft(description="Monthly fee", net=Decimal("5.00"), vat_rate=zero, vat=zero)
    invoice = invoice_issue(
        account=owner.account, lines=[line], source="order", idempotency_key="x", job="tests"
    )
    return owner, stranger, {"pk": invoice.pk}, "get"


def _credit_note():
    from billing.services.invoices import invoice_void

    owner, stranger, kwargs, method = _invoice()
    finance = UserFactory(account=platform(), role="platform_finance")
    invoice = invoice_void(
        invoice=owner.account.invoices.get(pk=kwargs["pk"]), actor=finance, reason="Wrong"
    )
    return owner, stranger, {"pk": invoice.credit_note.pk}, method


def _reseller_invoice():
    """An invoice reseller A issued to its customer: A's finance may void it, reseller B's
    finance must not find it."""
    from billing.services.invoices import LineDraft, invoice_issue

    reseller_a = AccountFactory(kind="reseller", name="Reseller A")
    reseller_b = AccountFactory(kind="reseller", name="Reseller B")
    buyer = AccountFactory(kind="customer", parent=reseller_a)
    zero = Decimal("0.00")
    line = LineDraft(description="Monthly fee", net=Decimal("5.00"), vat_rate=zero, vat=zero)
    invoice = invoice_issue(
        account=buyer, lines=[line], source="order", idempotency_key="r", job="tests"
    )
    owner = UserFactory(account=reseller_a, role="reseller_finance")
    stranger = UserFactory(account=reseller_b, role="reseller_finance")
    return owner, stranger, {"pk": invoice.pk}, "get"


def _order():
    from cart.orders import order_place
    from cart.services import cart_add_any
    from tests.billing.factories import fund
    from tests.inventory.factories import DIDFactory

    # A teammate: the weaker customer role, allowed to buy by the account's admin.
    owner = UserFactory(role="customer_member", may_buy=True)
    stranger = UserFactory(role="customer_admin")
    fund(owner.account, "100.00")
    cart_add_any(user=owner, block=DIDFactory().block, quantity=1)
    order = order_place(user=owner, token="cross-tenant")
    return owner, stranger, {"pk": order.pk}, "get"


def _my_number(owner_role):
    """A number rented by the owner's account (My numbers); the stranger is another
    account's admin."""
    from tests.billing.factories import fund
    from tests.billing.test_subscriptions_helpers import held_did, start

    owner = UserFactory(role=owner_role)
    stranger = UserFactory(role="customer_admin")
    fund(owner.account, "50.00")
    rental = start(owner.account, did=held_did(owner.account), price="3.00", channels=2)
    return owner, stranger, {"pk": rental.did_id}


def my_number():
    return (*_my_number("customer_member"), "get")  # members see the page, read only


def my_number_change():
    return (*_my_number("customer_admin"), "post")  # only admins change a number


def my_number_cancel():
    return (*_my_number("customer_admin"), "get")


def _reseller_customer(method):
    """A customer of reseller A: A's admin opens its console pages; B's admin gets 404."""

    def scenario():
        reseller, owner, stranger = _reseller_pair()
        customer = AccountFactory(parent=reseller)
        return owner, stranger, {"pk": customer.pk}, method

    return scenario


def price_rule():
    from tests.factories import MarkupRuleFactory

    reseller, owner, stranger = _reseller_pair()
    return owner, stranger, {"pk": MarkupRuleFactory(reseller=reseller).pk}, "get"


def renewal_price_change_cancel():
    from datetime import timedelta

    from django.utils import timezone

    from catalog.models import RenewalPriceChange

    reseller, owner, stranger = _reseller_pair()
    change = RenewalPriceChange.objects.create(
        reseller=reseller, effective_on=timezone.localdate() + timedelta(days=40)
    )
    return owner, stranger, {"pk": change.pk}, "post"


def _card_payment():
    """A card payment reseller A collected (its own Stripe keys) from its customer: A's
    finance opens it, reseller B's admin does not find it."""
    from payments.models import CardPayment

    reseller_a, owner, stranger = _reseller_pair()
    buyer = AccountFactory(kind="customer", parent=reseller_a)
    payment = CardPayment.objects.create(
        account=buyer,
        seller=reseller_a,
        amount=Decimal("60.00"),
        currency="USD",
        created_by_job="t",
    )
    owner = UserFactory(account=reseller_a, role="reseller_finance")
    return owner, stranger, {"pk": payment.pk}, payment


def card_payment():
    owner, stranger, kwargs, _ = _card_payment()
    return owner, stranger, kwargs, "get"


def balance_claim():
    from payments.models import BalanceClaim

    owner, stranger, _, payment = _card_payment()
    claim = BalanceClaim.objects.create(
        account=payment.account, amount=Decimal("5.00"), payment=payment, reason="t", key="t"
    )
    return owner, stranger, {"pk": claim.pk}, "get"


def _bank_statement():
    """A statement uploaded by reseller A (a line matched to its customer, one unmatched);
    reseller B's admin is the stranger."""
    from payments.references import reference_display
    from payments.services.bank import statement_upload

    reseller, owner, stranger = _reseller_pair()
    customer = AccountFactory(parent=reseller)
    data = (
        "date,amount,currency,reference,transaction_id,payer\n"
        f"2026-12-01,10.00,USD,{reference_display(customer.pk)},T-1,Payer\n"
        "2026-12-01,5.00,USD,no reference,T-2,Payer\n"
    )
    statement = statement_upload(user=owner, filename="s.csv", data=data.encode()).statement
    return owner, stranger, statement


def bank_statement():
    owner, stranger, statement = _bank_statement()
    return owner, stranger, {"pk": statement.pk}, "get"


def bank_confirm():
    owner, stranger, statement = _bank_statement()
    return owner, stranger, {"pk": statement.pk}, "post"


def _bank_line(method):
    def scenario():
        owner, stranger, statement = _bank_statement()
        line = statement.lines.get(bank_transaction_id="T-2")
        return owner, stranger, {"pk": line.pk}, method

    return scenario


def _registration_scenario(make, method):
    """A member (the weaker role that still provides registrations) opens its account's
    page; another customer's admin gets 404."""

    def scenario():
        owner = UserFactory(role="customer_member")
        stranger = UserFactory(role="customer_admin")
        tenant = Tenant("owner", owner.account, owner)
        return owner, stranger, {"pk": make(tenant)}, method

    return scenario


SCENARIOS = {
    **{
        f"resellers:{name}": _reseller_customer("get")
        for name in (
            "statement",
            "statement_export",
            "numbers",
            "orders",
            "invoices",
            "buy",
            "customer_registrations",
        )
    },
    "resellers:topup": _reseller_customer("post"),
    "catalog:price_rule_edit": price_rule,
    "catalog:price_rule_delete": price_rule,
    "catalog:renewal_price_change_cancel": renewal_price_change_cancel,
    "accounts:customer_detail": customer_detail,
    "accounts:customer_set_status": customer_set_status,
    "accounts:team_edit": team_edit,
    "compliance:agreement_detail": agreement_detail,
    "cart:item_update": cart_item_update,
    "cart:item_remove": cart_item_remove,
    "cart:order": _order,
    "cart:order_complete": _order,
    "billing:invoice": _invoice,
    "billing:invoice_pdf": _invoice,  # renders the PDF on demand (into a tmp root, below)
    "billing:credit_note_pdf": _credit_note,
    "billing:invoice_void": _reseller_invoice,
    "cart:my_number": my_number,
    "cart:my_number_destination": my_number_change,
    "cart:my_number_users": my_number_change,
    "cart:my_number_channels": my_number_change,
    "cart:my_number_cancel": my_number_cancel,
    "cart:my_number_keep": my_number_change,
    "payments:card_payment": card_payment,
    "payments:balance_claim": balance_claim,
    "payments:bank_statement": bank_statement,
    "payments:bank_confirm": bank_confirm,
    "payments:bank_line": _bank_line("get"),
    "payments:bank_line_assign": _bank_line("post"),
    "payments:bank_line_ignore": _bank_line("post"),
    "payments:bank_line_reopen": _bank_line("post"),
    "compliance:submission": _registration_scenario(lambda t: make_submission(t), "get"),
    "compliance:registration_cancel": _registration_scenario(
        lambda t: make_number_registration(t), "get"
    ),
}


def test_every_url_with_an_id_has_a_scenario():
    names = set(_parameterised_patterns())
    covered = (
        SCENARIOS.keys()
        | NOT_TENANT_OBJECTS.keys()
        | set(_platform_only_url_names())
        | set(_persona_url_names())
    )
    missing = {
        name: str(_parameterised_patterns()[name].pattern) for name in sorted(names - covered)
    }
    assert not missing, (
        "name the kind of object these ids are (KIND_BY_SEGMENT / KIND_BY_URL_NAME, with a "
        f"maker in MAKERS), or say why they are not a tenant's: {missing}"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", _platform_only_url_names())
@pytest.mark.parametrize(
    "role",
    [
        "reseller_admin",
        "reseller_support",
        "reseller_finance",
        "customer_admin",
        "customer_member",
        "customer_billing",
    ],
)
def test_platform_pages_refuse_every_other_role(client, url_name, role):
    platform()
    user = UserFactory(account=AccountFactory(kind=role.split("_")[0]), role=role)
    client.force_login(user)
    url = reverse(url_name, kwargs=_dummy_kwargs(_parameterised_patterns()[url_name]))
    assert client.get(url).status_code in (403, 405)
    assert client.post(url).status_code in (403, 405)


@pytest.fixture(autouse=True)
def _private_files_in_tmp(settings, tmp_path):
    """Invoice PDFs rendered by a scenario go to a throwaway root, not var/private."""
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", sorted(SCENARIOS))
def test_stranger_gets_404_and_owner_does_not(client, url_name):
    platform()
    owner, stranger, kwargs, method = SCENARIOS[url_name]()
    url = reverse(url_name, kwargs=kwargs)

    client.force_login(owner)
    owner_response = getattr(client, method)(url)
    assert owner_response.status_code in (200, 302), owner_response.status_code

    client.force_login(stranger)
    stranger_response = getattr(client, method)(url)
    assert stranger_response.status_code == 404


# --- every persona against every tenant's objects --------------------------------------------

# The path segment before the id says what the id is.
KIND_BY_SEGMENT = {
    "customers": "account",
    "balances": "account",
    "resellers": "account",
    "accounts": "account",
    "team": "user",
    "users": "user",
    "invoices": "invoice",
    "credit-notes": "credit_note",
    "orders": "order",
    "numbers": "did",
    "dids": "did",
    "items": "cart_item",
    "agreements": "agreement",
    "rules": "price_rule",
    "renewal-changes": "renewal_price_change",
    "receipts": "topup",
    "payouts": "payout",
    "card": "card_payment",
    "registrations": "submission",
    "awaiting": "number_registration",
    "identities": "identity",
    "addresses": "address",
    "documents": "document",
    "endpoints": "webhook_endpoint",
    "deliveries": "webhook_delivery",
}
# Where the path does not say: {"app:name": "kind"}.
KIND_BY_URL_NAME = {
    "api_keys:detail": "api_key",
    "api_keys:agree": "api_key",
    "api_keys:revoke": "api_key",
}

# POSTs platform finance may make on a tenant's object page that is not platform-only
# (finance reads everything; it writes money, on the platform's own pages).
FINANCE_MAY_POST = set()
# Tables a page writes on any view, not as a change the viewer makes.
VIEW_SIDE_WRITES = {
    "billing:invoice_pdf": {"billing_invoice"},  # the PDF, rendered on first view, is kept
    "billing:credit_note_pdf": {"billing_creditnote"},
}


def _id_kwarg(pattern):
    converters = getattr(pattern.pattern, "converters", {})
    return next(iter(converters)) if len(converters) == 1 else None


def _object_kind(name, pattern):
    if name in KIND_BY_URL_NAME:
        return KIND_BY_URL_NAME[name]
    kwarg = _id_kwarg(pattern)
    if kwarg is None:
        return None
    found = re.search(rf"(?:^|/)([\w-]+)/<(?:\w+:)?{kwarg}>", str(pattern.pattern))
    return KIND_BY_SEGMENT.get(found.group(1)) if found else None


def _persona_url_names():
    platform_only = set(_platform_only_url_names())
    return sorted(
        name
        for name, pattern in _parameterised_patterns().items()
        if name not in NOT_TENANT_OBJECTS
        and name not in platform_only
        and _object_kind(name, pattern) in MAKERS
    )


@dataclass
class Tenant:
    key: str
    account: object
    admin: object


def _tenants():
    """Resellers A and B, a customer of each and a direct customer, each with its admin."""
    root = platform()
    a = AccountFactory(kind="reseller", name="Reseller A")
    b = AccountFactory(kind="reseller", name="Reseller B")
    accounts = {
        "reseller A": a,
        "reseller B": b,
        "A's customer": AccountFactory(parent=a, name="A's customer"),
        "B's customer": AccountFactory(parent=b, name="B's customer"),
        "direct customer": AccountFactory(parent=root, name="Direct customer"),
    }
    return [
        Tenant(
            key, account, UserFactory(account=account, role=f"{account.kind}_admin", full_name=key)
        )
        for key, account in accounts.items()
    ]


def _may_reach(user, account):
    """Whose objects a persona may open: a reseller its own and its customers', a customer
    its own, platform finance everyone's."""
    if user.role in PLATFORM_ROLES:
        return True
    return account.pk == user.account_id or account.parent_id == user.account_id


# --- makers: one object of a kind for a tenant (None: that kind does not exist for it) ---------


def _fund(account, amount):
    from tests.billing.factories import fund

    fund(account, amount)
    if account.parent.is_reseller:  # a reseller's customer's purchase costs it wholesale too
        fund(account.parent, amount)


def make_account(tenant):
    return tenant.account.pk


def make_user(tenant):
    weaker = {"reseller": "reseller_support", "customer": "customer_member"}
    return UserFactory(account=tenant.account, role=weaker[tenant.account.kind]).pk


def make_invoice(tenant):
    from billing.services.invoices import LineDraft, invoice_issue

    zero = Decimal("0.00")
    line = LineDraft(description="Monthly fee", net=Decimal("5.00"), vat_rate=zero, vat=zero)
    return invoice_issue(
        account=tenant.account,
        lines=[line],
        source="order",
        idempotency_key=f"walk:{uuid.uuid4().hex}",
        job="tests",
    ).pk


def make_credit_note(tenant):
    from billing.models import Invoice
    from billing.services.invoices import invoice_void

    finance = UserFactory(account=platform(), role="platform_finance")
    invoice = Invoice.objects.get(pk=make_invoice(tenant))
    return invoice_void(invoice=invoice, actor=finance, reason="Wrong").credit_note.pk


def make_did(tenant):
    """A number the tenant rents (for a reseller: one it holds itself)."""
    from tests.billing.test_subscriptions_helpers import held_did, start

    _fund(tenant.account, "50.00")
    return start(tenant.account, did=held_did(tenant.account), price="3.00", channels=2).did_id


def _customers_only(make):
    def maker(tenant):
        return make(tenant) if tenant.account.is_customer else None

    return maker


@_customers_only
def make_order(tenant):
    from cart.orders import order_place
    from cart.services import cart_add_any
    from tests.inventory.factories import DIDFactory

    _fund(tenant.account, "100.00")
    cart_add_any(user=tenant.admin, block=DIDFactory().block, quantity=1)
    return order_place(user=tenant.admin, token=f"walk-{uuid.uuid4().hex[:20]}").pk


@_customers_only
def make_cart_item(tenant):
    from cart.services import cart_add_any
    from tests.inventory.factories import DIDFactory

    (item,) = cart_add_any(user=tenant.admin, block=DIDFactory().block, quantity=1).items
    return item.pk


@_customers_only
def make_agreement(tenant):
    from compliance.services import agreements_record
    from tests.compliance.factories import RequirementFactory

    (agreement,) = agreements_record(
        user=tenant.admin,
        account=tenant.account,
        requirements=[RequirementFactory()],
        order_id=1,
        ip_address=None,
    )
    return agreement.pk


def _resellers_only(make):
    def maker(tenant):
        return make(tenant) if tenant.account.is_reseller else None

    return maker


@_resellers_only
def make_price_rule(tenant):
    from tests.factories import MarkupRuleFactory

    return MarkupRuleFactory(reseller=tenant.account).pk


@_resellers_only
def make_renewal_price_change(tenant):
    from datetime import timedelta

    from django.utils import timezone

    from catalog.models import RenewalPriceChange

    return RenewalPriceChange.objects.create(
        reseller=tenant.account, effective_on=timezone.localdate() + timedelta(days=40)
    ).pk


def make_topup(tenant):
    from tests.billing.factories import fund

    return fund(tenant.account, "10.00").pk


def make_payout(tenant):
    """An open request for some of the tenant's balance, asked by its admin."""
    from payments.services.refunds import payout_request
    from tests.billing.factories import fund

    fund(tenant.account, "10.00")
    return payout_request(user=tenant.admin, amount="5.00").pk


def make_card_payment(tenant):
    """A card payment the tenant's admin started (its pages are the account's own)."""
    from payments.models import CardPayment, seller_for

    return CardPayment.objects.create(
        account=tenant.account,
        seller=seller_for(tenant.account),
        amount=Decimal("60.00"),
        currency=tenant.account.currency,
        created_by=tenant.admin,
    ).pk


def _requirement_needing_registration():
    from compliance.models import Requirement

    return Requirement.objects.create(
        country="FR",
        number_type="local",
        title=f"Registration {uuid.uuid4().hex[:8]}",
        text="French numbers need the end user's identity and address.",
        identity_type="any",
        address_scope="country",
        identity_proofs=1,
    )


def make_submission(tenant):
    """The tenant's registration for a requirement (a reseller's: for its own numbers)."""
    from compliance.services.registrations import submission_get_or_create

    return submission_get_or_create(
        account=tenant.account, requirement=_requirement_needing_registration(), actor=tenant.admin
    ).pk


def make_number_registration(tenant):
    """A number the tenant holds awaiting registration."""
    from datetime import timedelta

    from django.utils import timezone

    from compliance.models import NumberRegistration
    from tests.inventory.factories import DIDFactory, NumberBlockFactory

    requirement = _requirement_needing_registration()
    block = NumberBlockFactory(country="FR", requirement=requirement)
    did = DIDFactory(block=block, status="awaiting_registration", owner=tenant.account)
    return NumberRegistration.objects.create(
        account=tenant.account,
        did=did,
        requirement=requirement,
        status="awaiting",
        deadline_at=timezone.now() + timedelta(days=30),
    ).pk


def make_identity(tenant):
    """Compliance profile rows: the tenant's own papers (a reseller's for its own account).
    Only the account's own providers reach them; its reseller and platform finance get 404
    or 403, which the walk allows."""
    from tests.compliance.factories import IdentityFactory

    return IdentityFactory(account=tenant.account).pk


def make_address(tenant):
    from tests.compliance.factories import AddressFactory

    return AddressFactory(account=tenant.account).pk


def make_document(tenant):
    from tests.compliance.factories import DocumentFactory

    return DocumentFactory(account=tenant.account).pk


def make_webhook_endpoint(tenant):
    """An endpoint of the tenant's (made directly: the SSRF guard would look the host up)."""
    from didportal.crypto import encrypt
    from webhooks.models import Endpoint

    return Endpoint.objects.create(
        account=tenant.account,
        url="https://hooks.example.com/x",
        events=["order.completed"],
        secret_encrypted=encrypt("whsec_walk"),
        secret_hint="whsec_walk…",
    ).pk


def make_webhook_delivery(tenant):
    from webhooks.models import Delivery

    return Delivery.objects.create(
        account=tenant.account,
        endpoint_id=make_webhook_endpoint(tenant),
        event="order.completed",
        url="https://hooks.example.com/x",
        body="{}",
    ).pk


def make_api_key(tenant):
    from api.services import api_key_create

    return api_key_create(user=tenant.admin, name=f"{tenant.key}'s key")[0].pk


MAKERS = {
    "api_key": make_api_key,
    "webhook_endpoint": make_webhook_endpoint,
    "webhook_delivery": make_webhook_delivery,
    "identity": make_identity,
    "address": make_address,
    "document": make_document,
    "account": make_account,
    "user": make_user,
    "invoice": make_invoice,
    "credit_note": make_credit_note,
    "did": make_did,
    "order": make_order,
    "cart_item": make_cart_item,
    "agreement": make_agreement,
    "price_rule": make_price_rule,
    "renewal_price_change": make_renewal_price_change,
    "topup": make_topup,
    "payout": make_payout,
    "card_payment": make_card_payment,
    "submission": make_submission,
    "number_registration": make_number_registration,
}


# Written by any request (sign-in bookkeeping), not by the page.
BOOKKEEPING_TABLES = ("django_session", "axes_")


def _writes(queries):
    """The tables a request wrote to, besides the bookkeeping."""
    found = set()
    for query in queries.captured_queries:
        written = re.match(r'\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)', query["sql"], re.I)
        if written and not written.group(1).startswith(BOOKKEEPING_TABLES):
            found.add(written.group(1))
    return sorted(found)


def _reached(response):
    """The page answered as for its object (anything but a refusal, a 404 or an error)."""
    return 200 <= response.status_code < 400


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", _persona_url_names())
def test_each_persona_reaches_only_its_own_tenants_objects(url_name):
    pattern = _parameterised_patterns()[url_name]
    tenants = _tenants()
    finance = UserFactory(account=platform(), role="platform_finance", full_name="finance")
    personas = [tenant.admin for tenant in tenants] + [finance]
    make = MAKERS[_object_kind(url_name, pattern)]
    objects = [(tenant, make(tenant)) for tenant in tenants]
    urls = [
        (tenant, reverse(url_name, kwargs={_id_kwarg(pattern): pk}))
        for tenant, pk in objects
        if pk is not None
    ]
    assert urls, f"no tenant has an object for {url_name}"

    client = Client()
    failures, reached = [], []

    def request(user, method, url):
        client.force_login(user)
        return getattr(client, method)(url)

    # Refusals first: the allowed personas' POSTs below may change or end the objects.
    for tenant, url in urls:
        for user in personas:
            if _may_reach(user, tenant.account):
                continue
            for method in ("get", "post"):
                response = request(user, method, url)
                if _reached(response):
                    failures.append(
                        f"{user.full_name} {method.upper()} {tenant.key}'s {url}: "
                        f"{response.status_code}"
                    )
    if url_name not in FINANCE_MAY_POST:
        for tenant, url in urls:
            client.force_login(finance)
            with CaptureQueriesContext(connection) as queries:
                client.post(url)
            if writes := set(_writes(queries)) - VIEW_SIDE_WRITES.get(url_name, set()):
                failures.append(
                    f"finance (read only) POST {tenant.key}'s {url} wrote: {sorted(writes)}"
                )
    for tenant, url in urls:
        for user in personas:
            if not _may_reach(user, tenant.account):
                continue
            response = request(user, "get", url)
            if response.status_code == 405 and user is not finance:
                response = request(user, "post", url)
            if _reached(response):
                reached.append((user.full_name, tenant.key))

    assert not failures, "\n".join(failures)
    assert reached, f"nobody reached {url_name}: are its ids of the kind the walk made?"


def _platform_admin_only_url_names():
    return [
        name
        for name in _platform_only_url_names()
        if not any(
            "platform_finance" in getattr(p, "roles", ())
            for p in _parameterised_patterns()[name].callback.allowed_predicates
        )
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", _platform_admin_only_url_names())
def test_platform_admin_pages_refuse_finance(client, url_name):
    """Finance reads; the pages that change the stock, prices or resellers are the admins'."""
    client.force_login(UserFactory(account=platform(), role="platform_finance"))
    url = reverse(url_name, kwargs=_dummy_kwargs(_parameterised_patterns()[url_name]))
    assert client.get(url).status_code in (403, 405)
    assert client.post(url).status_code in (403, 405)
