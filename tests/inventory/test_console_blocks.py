"""Operators, number blocks with their price plan, and adding numbers to a block."""

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import DID, NumberBlock, Operator
from tests.inventory.factories import DIDFactory, NumberBlockFactory, OperatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, platform_admin):
    client.force_login(platform_admin)
    return client


# --- operators ------------------------------------------------------------------------------


def test_operator_list_empty_state(admin_client):
    assert "No operators yet" in admin_client.get(reverse("inventory:operators")).content.decode()


def test_operator_create_and_edit(admin_client, platform_admin):
    response = admin_client.post(
        reverse("inventory:operator_create"),
        {"name": "KPN", "contact_name": "Eva", "contact_email": "eva@kpn.test", "active": "on"},
    )
    assert response.status_code == 302
    operator = Operator.objects.get(name="KPN")
    assert operator.history.get().history_user == platform_admin

    admin_client.post(
        reverse("inventory:operator_edit", args=[operator.pk]),
        {"name": "KPN Wholesale", "notes": "range holder NL"},
    )
    operator.refresh_from_db()
    assert (operator.name, operator.active, operator.notes) == (
        "KPN Wholesale",
        False,
        "range holder NL",
    )
    listing = admin_client.get(reverse("inventory:operators")).content.decode()
    assert "KPN Wholesale" in listing and "Inactive" in listing


def test_operator_duplicate_name_is_a_form_error(admin_client):
    OperatorFactory(name="KPN")
    response = admin_client.post(reverse("inventory:operator_create"), {"name": "KPN"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_finance_cannot_manage_operators(client, finance_user):
    client.force_login(finance_user)
    assert client.get(reverse("inventory:operators")).status_code == 403


# --- blocks ---------------------------------------------------------------------------------


BLOCK_POST = {
    "country": "NL",
    "region": "North Holland",
    "city": "Amsterdam",
    "area_code": "20",
    "number_type": "local",
    "voice": "on",
    "billing_type": "recurring",
    "setup_fee": "1.50",
    "monthly_price": "2.00",
    "weekly_price": "",
    "daily_price": "0.10",
    "channels_included": "2",
    "extra_channel_monthly_price": "0.50",
    "max_concurrent_calls": "10",
    "call_timeout_seconds": "60",
    "connection_fee": "0.01",
    "rate_per_minute": "0.006",
    "grace_seconds": "5",
    "initial_increment_seconds": "30",
    "increment_seconds": "6",
    "buy_setup_cost": "0.50",
    "buy_monthly_cost": "0.80",
    "tag": "ams",
    "notes": "",
}


def test_block_create_with_its_price_plan(admin_client, platform_admin):
    operator = OperatorFactory()
    response = admin_client.post(
        reverse("inventory:block_create"), {**BLOCK_POST, "operator": operator.pk}
    )
    block = NumberBlock.objects.get()
    assert response.url == reverse("inventory:block_add_numbers", args=[block.pk])
    assert block.monthly_price == Decimal("2.00")
    assert block.weekly_price is None  # empty: not offered
    assert block.billing_periods == ["monthly", "daily"]
    assert (block.max_concurrent_calls, block.increment_seconds) == (10, 6)
    assert block.history.get().history_user == platform_admin


def test_block_form_has_sections(admin_client):
    html = admin_client.get(reverse("inventory:block_create")).content.decode()
    for legend in ["Selling price", "Per-minute rating", "Buy cost (platform staff only)"]:
        assert legend in html


def test_block_recurring_without_any_period_is_refused(admin_client):
    data = {**BLOCK_POST, "operator": OperatorFactory().pk, "monthly_price": "", "daily_price": ""}
    response = admin_client.post(reverse("inventory:block_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not NumberBlock.objects.exists()


def test_block_edit(admin_client, block):
    data = {**BLOCK_POST, "operator": block.operator_id, "monthly_price": "3.00"}
    response = admin_client.post(reverse("inventory:block_edit", args=[block.pk]), data)
    assert response.status_code == 302
    block.refresh_from_db()
    assert block.monthly_price == Decimal("3.00")


def test_block_with_numbers_keeps_its_country(admin_client, block):
    DIDFactory(block=block)
    data = {**BLOCK_POST, "operator": block.operator_id, "country": "BE", "area_code": "2"}
    response = admin_client.post(reverse("inventory:block_edit", args=[block.pk]), data)
    assert response.status_code == 200
    assert "This block has numbers; its country cannot change." in response.content.decode()
    block.refresh_from_db()
    assert block.country == "NL"


def test_block_overview_counts_and_margin(admin_client, block, make_did):
    make_did()
    make_did()
    make_did(status="active")
    make_did(status="hold")
    response = admin_client.get(reverse("inventory:blocks"))
    [(listed, counts)] = response.context["rows"]
    assert listed == block
    assert counts == {
        "in_stock": 2,
        "reserved": 0,
        "active": 1,
        "hold": 1,
        "archive": 0,
        "awaiting_registration": 0,
    }
    html = response.content.decode()
    assert "1.20" in html  # margin: 2.00 monthly price - 0.80 buy cost


def test_block_filters(admin_client, block):
    berlin = NumberBlockFactory(country="DE", city="Berlin", area_code="30", number_type="local")
    tollfree = NumberBlockFactory(city="", area_code="800", number_type="toll_free")

    def listed(**params):
        return [b for b, _ in admin_client.get(reverse("inventory:blocks"), params).context["rows"]]

    assert listed(country="DE") == [berlin]
    assert listed(city="amster") == [block]
    assert listed(operator=berlin.operator_id) == [berlin]
    assert listed(number_type="toll_free") == [tollfree]


def test_block_list_query_count(admin_client, django_assert_max_num_queries):
    for _ in range(20):
        DIDFactory(block=NumberBlockFactory())
    with django_assert_max_num_queries(7):
        response = admin_client.get(reverse("inventory:blocks"))
    assert len(response.context["rows"]) == 20


def test_finance_sees_blocks_and_buy_cost_but_cannot_edit(client, finance_user, block):
    client.force_login(finance_user)
    html = client.get(reverse("inventory:blocks")).content.decode()
    assert "Buy / month" in html
    assert reverse("inventory:block_edit", args=[block.pk]) not in html
    assert client.get(reverse("inventory:block_edit", args=[block.pk])).status_code == 403


# --- adding numbers -------------------------------------------------------------------------


def add(client, block, spec, **extra):
    url = reverse("inventory:block_add_numbers", args=[block.pk])
    data = {"spec_text": spec, "status": "in_stock", "after_hold_status": "in_stock", **extra}
    return client.post(url, data)


def test_add_numbers_page_explains_short_numbers(admin_client, block):
    url = reverse("inventory:block_add_numbers", args=[block.pk])
    html = admin_client.get(url).content.decode()
    assert "area code 20: short numbers are completed as <code>+3120…</code>" in html


def test_add_a_short_range(admin_client, block, platform_admin):
    response = add(admin_client, block, "5550000-5550999", tag="batch")
    assert response.status_code == 302
    assert response.url == f"{reverse('inventory:dids')}?block={block.pk}"
    assert DID.objects.filter(block=block, tag="batch").count() == 1000
    page = admin_client.get(response.url)
    assert "1,000 numbers added" in page.content.decode()


def test_add_a_list_and_e164_range(admin_client, block):
    add(admin_client, block, "+31205550000-+31205550009\n5551000, 5551001")
    assert DID.objects.filter(block=block).count() == 12


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("hello", "hello is not a phone number"),
        ("5550999-5550000", "the range is reversed"),
        ("+49305550000", "this block is in NL"),
        ("5000000-5999999", "At most 100,000 can be added at once"),
    ],
)
def test_add_errors_show_on_the_form_and_save_nothing(admin_client, block, spec, message):
    response = add(admin_client, block, spec)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["spec_text"])
    assert not DID.objects.exists()


def test_add_lists_existing_numbers(admin_client, block):
    DIDFactory(block=block, number="+31205550005")
    response = add(admin_client, block, "5550000-5550009")
    assert "Already in stock, nothing was added: +31205550005." in response.content.decode()
    assert DID.objects.count() == 1
