"""The platform's resellers: list with figures, create, discount, suspend."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import selectors, services
from accounts.models import Account, User
from billing.models import SubscriptionCharge
from billing.selectors import balance_for
from tests.billing.factories import fund
from tests.billing.test_subscriptions_helpers import held_did, start
from tests.factories import AccountFactory, UserFactory, platform

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(account=platform(), role="platform_admin")


@pytest.fixture
def finance():
    return UserFactory(account=platform(), role="platform_finance")


def reseller_with_business(name="Voxel", *, customers=2, wholesale=("4.00", "6.00")):
    """A reseller with customers holding a number each, one number of its own, a balance,
    and the wholesale side of its customers' first periods (net, this month; 0 past the
    ``wholesale`` given)."""
    reseller = AccountFactory(kind="reseller", name=name)
    fund(reseller, "200.00")
    for n in range(customers):
        customer = AccountFactory(parent=reseller)
        fund(customer, "50.00")
        net = Decimal(wholesale[n]) if n < len(wholesale) else Decimal("0.00")
        start(customer, price="3.00", wholesale_recurring_price=net)
    held_did(reseller)
    return reseller


# --- the list ---------------------------------------------------------------------------------


def test_list_shows_each_resellers_figures(client, finance):
    reseller_with_business()
    AccountFactory(kind="reseller", name="Quiet Reseller")
    AccountFactory(name="Direct customer")  # not a reseller: not listed
    client.force_login(finance)
    response = client.get(reverse("accounts:resellers"))
    assert response.status_code == 200
    rows = {r.name: r for r in response.context["page"].object_list}
    assert set(rows) == {"Voxel", "Quiet Reseller"}
    row = rows["Voxel"]
    # 200 topped up, 4 + 6 wholesale net with the platform's VAT on a German reseller (19 %)
    assert row.balance_amount == Decimal("200.00") - Decimal("10.00") * Decimal("1.19")
    assert (row.customer_count, row.customer_numbers, row.own_numbers) == (2, 2, 1)
    assert row.wholesale_month == row.wholesale_total == Decimal("10.00")
    quiet = rows["Quiet Reseller"]
    assert (quiet.balance_amount, quiet.customer_count, quiet.wholesale_total) == (0, 0, 0)
    assert "New reseller" not in response.content.decode()  # finance reads only


def test_list_counts_this_month_apart_from_all_time(finance):
    voxel = reseller_with_business()
    SubscriptionCharge.objects.filter(account=voxel, net=Decimal("4.00")).update(
        created_at=timezone.now() - timezone.timedelta(days=62)
    )
    row = selectors.resellers_for(finance).get(pk=voxel.pk)
    assert (row.wholesale_month, row.wholesale_total) == (Decimal("6.00"), Decimal("10.00"))


def test_list_sale_side_charges_are_not_wholesale_revenue(finance):
    voxel = reseller_with_business(wholesale=())
    row = selectors.resellers_for(finance).get(pk=voxel.pk)
    assert row.wholesale_total == 0  # the customers' sale charges are theirs, not Voxel's


def test_list_searches_by_name_and_paginates(client, admin):
    for n in range(30):
        AccountFactory(kind="reseller", name=f"Reseller {n:02d}")
    AccountFactory(kind="reseller", name="Voxel Telecom")
    client.force_login(admin)
    response = client.get(reverse("accounts:resellers"), {"q": "voxel"})
    assert [r.name for r in response.context["page"].object_list] == ["Voxel Telecom"]
    page2 = client.get(reverse("accounts:resellers"), {"page": 2})
    assert len(page2.context["page"].object_list) == 6


@pytest.mark.postgres
def test_list_query_count_does_not_grow_with_resellers(client, admin):
    client.force_login(admin)
    reseller_with_business("First")
    client.get(reverse("accounts:resellers"))  # warm up (session, content types)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("accounts:resellers"))
    for n in range(6):
        reseller_with_business(f"More {n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("accounts:resellers"))
    assert len(response.context["page"].object_list) == 7
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


@pytest.mark.parametrize("role", ["reseller_admin", "customer_admin", "customer_billing"])
def test_list_is_for_platform_staff_only(client, role):
    platform()
    user = UserFactory(account=AccountFactory(kind=role.split("_")[0]), role=role)
    client.force_login(user)
    assert client.get(reverse("accounts:resellers")).status_code == 403


def test_navigation_has_resellers_for_admin_and_finance(client, admin, finance):
    for user in (admin, finance):
        client.force_login(user)
        page = client.get(reverse("dashboard")).content.decode()
        assert f'href="{reverse("accounts:resellers")}"' in page


# --- create -----------------------------------------------------------------------------------


def _create_form(**over):
    return {
        "name": "Blue Lines",
        "legal_name": "Blue Lines B.V.",
        "country": "NL",
        "address": "Damrak 1\nAmsterdam",
        "vat_number": "nl 004495445 b01",
        "wholesale_discount": "12.5",
        "admin_name": "Bea Blue",
        "admin_email": "Bea@Blue.example",
        **over,
    }


def test_admin_creates_a_reseller_and_its_admin_is_invited(
    client, admin, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:reseller_create"), _create_form())
    reseller = Account.objects.get(name="Blue Lines")
    assert response.status_code == 302
    assert response.url == reverse("accounts:reseller_detail", args=[reseller.pk])
    assert reseller.kind == "reseller" and reseller.parent == platform()
    assert reseller.vat_number == "NL004495445B01"  # through Account.clean, compact
    assert reseller.wholesale_discount == Decimal("12.50")
    assert reseller.signup_code
    invited = User.objects.get(email="bea@blue.example")
    assert (invited.account, invited.role, invited.has_usable_password()) == (
        reseller,
        "reseller_admin",
        False,
    )
    assert [m.to for m in mailoutbox] == [["bea@blue.example"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("vat_number", "NL123"),  # not valid for the Netherlands
        ("wholesale_discount", "100"),
        ("wholesale_discount", "-1"),
        ("wholesale_discount", "NaN"),
        ("wholesale_discount", "1.234"),
        ("country", "XX"),
        ("admin_email", "not-an-address"),
    ],
)
def test_create_refuses_bad_input_and_saves_nothing(client, admin, field, value):
    client.force_login(admin)
    response = client.post(reverse("accounts:reseller_create"), _create_form(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Account.objects.filter(name="Blue Lines").exists()
    assert not User.objects.filter(email="bea@blue.example").exists()


def test_create_with_a_taken_admin_address_saves_no_account(client, admin):
    UserFactory(email="bea@blue.example")
    client.force_login(admin)
    response = client.post(reverse("accounts:reseller_create"), _create_form())
    assert "admin_email" in response.context["form"].errors or response.context["form"].errors
    assert not Account.objects.filter(name="Blue Lines").exists()


def test_finance_may_not_create(client, finance):
    client.force_login(finance)
    assert client.get(reverse("accounts:reseller_create")).status_code == 403
    assert client.post(reverse("accounts:reseller_create"), _create_form()).status_code == 403


@pytest.mark.parametrize("role", ["platform_finance", "reseller_admin", "customer_admin"])
def test_services_check_their_own_permissions(role):
    kind = role.split("_")[0]
    account = platform() if kind == "platform" else AccountFactory(kind=kind)
    actor = UserFactory(account=account, role=role)
    reseller = AccountFactory(kind="reseller")
    with pytest.raises(PermissionDenied):
        services.reseller_create(
            actor=actor, name="X", country="DE", admin_name="X", admin_email="x@example.test"
        )
    with pytest.raises(PermissionDenied):
        services.reseller_discount_set(actor=actor, reseller=reseller, discount=5)
    with pytest.raises(PermissionDenied):
        services.reseller_status_set(actor=actor, reseller=reseller, status="suspended")
    reseller.refresh_from_db()
    assert (reseller.wholesale_discount, reseller.status) == (0, "active")


# --- detail, discount, status -------------------------------------------------------------------


def test_detail_shows_figures_customers_and_ledger(client, finance):
    voxel = reseller_with_business()
    client.force_login(finance)
    response = client.get(reverse("accounts:reseller_detail", args=[voxel.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    for customer in voxel.children.all():
        assert reverse("accounts:customer_detail", args=[customer.pk]) in page
    assert reverse("billing:statement", args=[voxel.pk]) in page
    assert len(response.context["entries"]) == 3  # a top-up and two wholesale charges
    assert "Suspend reseller" not in page and "Save discount" not in page  # finance reads


def test_detail_of_a_customer_id_is_404(client, admin):
    client.force_login(admin)
    customer = AccountFactory()
    assert client.get(reverse("accounts:reseller_detail", args=[customer.pk])).status_code == 404
    assert (
        client.post(
            reverse("accounts:reseller_discount", args=[customer.pk]), {"wholesale_discount": "5"}
        ).status_code
        == 404
    )


def test_discount_change_is_recorded_with_who(client, admin):
    voxel = AccountFactory(kind="reseller")
    client.force_login(admin)
    url = reverse("accounts:reseller_discount", args=[voxel.pk])
    assert client.post(url, {"wholesale_discount": "7.5"}).status_code == 302
    voxel.refresh_from_db()
    assert voxel.wholesale_discount == Decimal("7.50")
    change = voxel.history.latest("history_date")
    assert change.history_user == admin
    assert "0.00% → 7.50%" in change.history_change_reason
    page = client.get(reverse("accounts:reseller_detail", args=[voxel.pk])).content.decode()
    assert "7.50%" in page and admin.email in page


@pytest.mark.parametrize("value", ["100", "-0.01", "abc", "1e3", ""])
def test_discount_refuses_out_of_range(client, admin, value):
    voxel = AccountFactory(kind="reseller")
    client.force_login(admin)
    response = client.post(
        reverse("accounts:reseller_discount", args=[voxel.pk]), {"wholesale_discount": value}
    )
    assert response.status_code == 400
    voxel.refresh_from_db()
    assert voxel.wholesale_discount == 0


def test_discount_service_refuses_a_customer_and_bad_values(admin):
    customer = AccountFactory()
    with pytest.raises(ValidationError):
        services.reseller_discount_set(actor=admin, reseller=customer, discount=5)
    voxel = AccountFactory(kind="reseller")
    for bad in ("100", "-1", "NaN", "Infinity", None, "x"):
        with pytest.raises(ValidationError):
            services.reseller_discount_set(actor=admin, reseller=voxel, discount=bad)


def test_suspend_and_reactivate(client, admin):
    voxel = reseller_with_business()
    client.force_login(admin)
    detail = client.get(reverse("accounts:reseller_detail", args=[voxel.pk])).content.decode()
    assert 'data-confirm="Suspend' in detail
    url = reverse("accounts:reseller_status", args=[voxel.pk])
    assert client.post(url, {"status": "suspended"}).status_code == 302
    voxel.refresh_from_db()
    assert voxel.status == "suspended"
    assert voxel.history.latest("history_date").history_user == admin
    assert client.post(url, {"status": "active"}).status_code == 302
    voxel.refresh_from_db()
    assert voxel.is_active
    assert client.post(url, {"status": "bogus"}).status_code == 302
    voxel.refresh_from_db()
    assert voxel.is_active


def test_suspended_reseller_users_cannot_act_and_its_customers_cannot_buy(client, admin):
    from cart.services import cart_add_any
    from tests.inventory.factories import DIDFactory

    voxel = AccountFactory(kind="reseller")
    reseller_admin = UserFactory(account=voxel, role="reseller_admin")
    customer_admin = UserFactory(account=AccountFactory(parent=voxel), role="customer_admin")
    held = held_did(customer_admin.account)
    services.reseller_status_set(actor=admin, reseller=voxel, status="suspended")
    customer_admin = User.objects.get(pk=customer_admin.pk)  # as a request would load it

    client.force_login(reseller_admin)
    assert client.get(reverse("accounts:customers")).status_code == 403
    assert client.get(reverse("dashboard")).status_code == 403  # the "suspended" page
    with pytest.raises(PermissionDenied, match="provider"):
        cart_add_any(user=customer_admin, block=DIDFactory().block, quantity=1)
    client.force_login(customer_admin)
    assert client.get(reverse("cart:my_number", args=[held.pk])).status_code == 200
    # Its sign-up link no longer opens.
    assert (
        client.get(reverse("accounts:signup_reseller", args=[voxel.signup_code])).status_code == 404
    )

    services.reseller_status_set(actor=admin, reseller=voxel, status="active")
    customer_admin = User.objects.get(pk=customer_admin.pk)
    fund(customer_admin.account, "60.00")
    assert cart_add_any(user=customer_admin, block=DIDFactory().block, quantity=1).items


def test_a_reseller_shows_on_the_finance_balances_and_takes_a_top_up(client, finance):
    voxel = AccountFactory(kind="reseller", name="Voxel")
    client.force_login(finance)
    listed = client.get(reverse("billing:balances"), {"q": "Voxel"}).context["page"].object_list
    assert [a.pk for a in listed] == [voxel.pk]
    statement = client.get(reverse("billing:statement", args=[voxel.pk]))
    token = statement.context["topup_form"]["token"].value()
    response = client.post(
        reverse("billing:topup", args=[voxel.pk]),
        {
            "amount": "250.00",
            "method": "bank_transfer",
            "external_reference": "VOXEL-1",
            "token": token,
        },
    )
    assert response.status_code == 302
    row = selectors.resellers_for(finance).get(pk=voxel.pk)
    assert row.balance_amount == Decimal("250.00")


def test_checkout_of_a_suspended_resellers_customer_charges_nothing(client, admin):
    from cart.services import cart_add_any
    from tests.inventory.factories import DIDFactory

    voxel = AccountFactory(kind="reseller")
    fund(voxel, "100.00")
    buyer = UserFactory(account=AccountFactory(parent=voxel), role="customer_admin")
    fund(buyer.account, "100.00")
    cart_add_any(user=buyer, block=DIDFactory().block, quantity=1)  # before the suspension
    services.reseller_status_set(actor=admin, reseller=voxel, status="suspended")
    client.force_login(buyer)
    token = "suspended-checkout"
    response = client.post(reverse("cart:checkout"), {"token": token})
    assert response.status_code == 403
    assert "provider" in response.content.decode()
    assert not buyer.account.orders.exists()
    assert balance_for(buyer.account) == Decimal("100.00")
    assert selectors.resellers_for(admin).get(pk=voxel.pk).balance_amount == Decimal("100.00")
