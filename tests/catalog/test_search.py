"""The number search reads digits the way people type them (issue 10, item 23)."""

import pytest
from django.urls import reverse

from catalog.search import number_query_parse
from inventory import services as inventory_services
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db

AMSTERDAM_12 = "+31 20 555 0012"  # +31205550012 as the page prints it


def found(client, country, text, match):
    response = client.get(reverse("catalog:numbers", args=[country]), {"n": text, "match": match})
    assert response.status_code == 200
    return [row["did"].number for row in response.context["rows"]], response.content.decode()


@pytest.mark.parametrize(
    "text",
    [
        "31205550012",  # international digits without +
        "+31 20 555 0012",
        "0031 20 555 0012",  # the 00 international prefix
        "00 31-20-555-0012",
        "020 555 0012",  # national, with the trunk prefix 0
        "20 555 0012",  # national, without it
        "(020) 555.00.12",
    ],
)
@pytest.mark.parametrize("match", ["starts", "contains", "ends"])
def test_national_or_international_digits_find_the_number_in_every_mode(client, stock, text, match):
    numbers, content = found(client, "NL", text, match)
    assert numbers == ["+31205550012"]
    assert AMSTERDAM_12 in content


def test_starts_with_digits_that_begin_with_the_calling_code_keeps_the_national_reading(
    client, stock, platform_admin
):
    # A Dutch number whose national digits start with 31 (+31 31…) is still found by "31".
    block = NumberBlockFactory(
        operator=stock["amsterdam"].operator, city="Doetinchem", area_code="314"
    )
    inventory_services.dids_add(block=block, spec_text="+31314000000", actor=platform_admin)
    numbers, _ = found(client, "NL", "314", "starts")
    assert numbers == ["+31314000000"]
    numbers, _ = found(client, "NL", "3120555001", "starts")
    assert numbers == [f"+3120555001{i}" for i in range(10)]


def test_a_country_without_a_trunk_prefix_keeps_its_leading_zero(client, stock, platform_admin):
    # Italian numbers keep the 0 after the calling code: 06 … is +39 06 …, never +39 6 ….
    rome = NumberBlockFactory(
        operator=stock["amsterdam"].operator, country="IT", city="Roma", area_code="06"
    )
    inventory_services.dids_add(
        block=rome, spec_text="+390612345000-+390612345002", actor=platform_admin
    )
    for text in ("06 1234 5001", "+39 06 1234 5001", "0039 0612345001", "390612345001"):
        numbers, _ = found(client, "IT", text, "starts")
        assert numbers == ["+390612345001"], text
    assert found(client, "IT", "0612345001", "ends")[0] == ["+390612345001"]


def test_a_number_of_another_country_is_not_found(client, stock):
    assert found(client, "NL", "+49 89 555", "starts")[0] == []
    assert found(client, "DE", "0049 89 555 019", "starts")[0] == ["+4989555019"]


def test_ignored_letters_are_named_and_the_digits_still_searched(client, stock):
    numbers, content = found(client, "NL", "abc0012", "ends")
    assert numbers == ["+31205550012"]
    assert "Letters are ignored: searching for 0012." in content
    assert 'value="abc0012"' in content  # the box keeps what was typed


def test_other_ignored_characters_are_named_too(client, stock):
    _, content = found(client, "NL", "#0012*", "ends")
    assert "Characters other than digits are ignored: searching for 0012." in content
    numbers, content = found(client, "NL", "xyz", "starts")
    assert "Letters are ignored: showing all numbers." in content
    assert len(numbers) == 25


def test_formatting_characters_pass_silently(client, stock):
    _, content = found(client, "NL", "+31 (20) 555-00.12", "starts")
    assert "ignored" not in content


def test_htmx_results_carry_the_notice(client, stock):
    response = client.get(
        reverse("catalog:numbers", args=["NL"]),
        {"n": "n0012", "match": "ends"},
        HTTP_HX_REQUEST="true",
    )
    assert "catalog/numbers.html" not in [t.name for t in response.templates]
    assert "Letters are ignored: searching for 0012." in response.content.decode()


@pytest.mark.parametrize(
    ("text", "digits", "international", "ignored"),
    [
        ("+33 4 72", "33472", True, ""),
        ("0033-4-72", "33472", True, ""),
        ("33472", "33472", False, ""),
        ("04 72", "0472", False, ""),
        ("0049 89", "004989", False, ""),  # 00 + another country's code: not France's
        ("abc 4+72", "472", False, "abc+"),
        ("٤٧٢", "", False, "٤٧٢"),  # other scripts' digits are not ASCII digits
        ("\x00472", "472", False, "\x00"),
        ("4" * 100, "4" * 40, False, ""),
    ],
)
def test_parse(text, digits, international, ignored):
    query = number_query_parse(text, "FR")
    assert (query.digits, query.international, query.ignored) == (digits, international, ignored)
