"""My numbers shows the E.164 form first and the national form beneath it (item 23)."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.billing.factories import fund
from tests.cart.test_my_numbers import page_text, rent
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db

E164, NATIONAL = "+31 20 555 0001", "020 555 0001"


@pytest.fixture
def rental(client, customer, customer_admin):
    fund(customer, "200.00")
    client.force_login(customer_admin)
    block = NumberBlockFactory(extra_channel_monthly_price=Decimal("1.50"), channels_included=2)
    return rent(customer, "+31205550001", block=block)


def first_of_the_two(html):
    forms = re.findall(rf"{re.escape(E164)}|{re.escape(NATIONAL)}", html)
    assert forms, "the number is not shown"
    return forms


def test_the_list_shows_e164_first_in_the_table_and_in_the_phone_cards(client, rental):
    text = page_text(client.get(reverse("cart:my_numbers")))
    table = text[text.index('id="my-numbers-table"') : text.index('id="my-numbers-cards"')]
    cards = text[text.index('id="my-numbers-cards"') :]
    assert first_of_the_two(table)[:2] == [E164, NATIONAL]
    assert first_of_the_two(cards)[:2] == [E164, NATIONAL]


@pytest.mark.parametrize("name", ["my_number", "my_number_cancel", "my_number_channels"])
def test_a_numbers_pages_lead_with_e164(client, rental, name):
    url = reverse(f"cart:{name}", args=[rental.did_id])
    response = (
        client.post(url, {"channels": "4"}) if name == "my_number_channels" else client.get(url)
    )
    text = page_text(response)
    title = re.search(r"<title>(.*?)</title>", text).group(1)
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", text).group(1)
    assert E164 in title and E164 in heading
    assert NATIONAL not in title and NATIONAL not in heading
