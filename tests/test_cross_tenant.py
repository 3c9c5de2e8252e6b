"""Every URL that takes an object id answers 404 to a user of another tenant.

The walker lists every URL pattern with a parameter. Each must be one of:
- a platform-staff page (its ``@allow`` predicates admit platform roles only): every other
  role is refused before any lookup, whatever the id — checked here for all of them;
- a page with a scenario below (an object owned by one tenant, the owner who may open it,
  and a stranger with the same role in another tenant, who must get 404);
- listed in NOT_TENANT_OBJECTS with the reason.
A new view with an id that is none of these makes this test fail.
"""

from decimal import Decimal

import pytest
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
}

SKIPPED_NAMESPACES = {"admin"}  # Django admin: operations superusers only


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


SCENARIOS = {
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
}


def test_every_url_with_an_id_has_a_scenario():
    names = set(_parameterised_patterns())
    covered = SCENARIOS.keys() | NOT_TENANT_OBJECTS.keys() | set(_platform_only_url_names())
    missing = names - covered
    assert not missing, f"add a cross-tenant scenario for: {sorted(missing)}"


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", _platform_only_url_names())
@pytest.mark.parametrize(
    "role", ["reseller_admin", "customer_admin", "customer_member", "customer_billing"]
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
