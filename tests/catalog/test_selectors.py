from decimal import Decimal

import pytest

from catalog import selectors
from catalog.search import number_query_parse
from catalog.selectors import CoverageFilters
from compliance.models import Requirement
from inventory import services as inventory_services
from inventory.models import DID
from tests.factories import AccountFactory, reseller_account

pytestmark = pytest.mark.django_db


def by_country(filters=None):
    return {row["country"]: row for row in selectors.country_list(filters or CoverageFilters())}


def test_country_list_counts_and_from_prices(stock):
    rows = by_country()
    assert rows["NL"]["numbers"] == 50
    assert rows["NL"]["from_monthly"] == Decimal("2.00")
    assert rows["DE"]["numbers"] == 20
    assert rows["DE"]["from_setup"] == Decimal("5.00")
    assert rows["DE"]["name"] == "Germany"


def test_counts_match_what_can_be_bought(stock, platform_admin):
    did = DID.objects.filter(block=stock["munich"]).first()
    inventory_services.did_transition(
        did=did, to_status="active", owner=AccountFactory(), actor=platform_admin, reason="sold"
    )
    assert by_country()["DE"]["numbers"] == 19
    assert DID.objects.filter(block__country="DE", status="in_stock").count() == 19


def test_sold_out_country_disappears(stock, platform_admin):
    inventory_services.dids_transition(
        dids_queryset_or_ids=DID.objects.filter(block=stock["munich"]).values("pk"),
        to_status="reserved",
        actor=platform_admin,
        reason="held back",
    )
    assert "DE" not in by_country()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"service": "sms"}, {"DE"}),
        ({"type": "mobile"}, {"NL"}),
        ({"billing": "weekly"}, {"DE"}),
        ({"registration": "yes"}, {"DE"}),
        ({"registration": "no"}, {"NL"}),
        ({"registration": "no", "type": "local"}, {"NL"}),
        ({"service": "sms", "type": "mobile"}, set()),
        ({"type": "not-a-type"}, {"NL", "DE"}),
    ],
)
def test_filters_combine(stock, query, expected):
    # München's requirement asks for an address: its numbers wait for a registration.
    Requirement.objects.filter(pk=stock["munich"].requirement_id).update(address_scope="area")
    assert set(by_country(CoverageFilters.from_query(query))) == expected


def test_a_requirement_with_only_a_text_to_agree_needs_no_registration(stock):
    """München's requirement is a text to agree to and nothing to provide."""
    assert set(by_country(CoverageFilters.from_query({"registration": "yes"}))) == set()
    no = CoverageFilters.from_query({"registration": "no"})
    assert set(by_country(no)) == {"NL", "DE"}


@pytest.mark.parametrize("search", ["munchen", "MÜNCHEN", "bavaria", "89", "+4989"])
def test_city_search_ignores_accents_and_case(stock, search):
    assert [b.city for b in selectors.city_rows("DE", search=search)] == ["München"]


def test_city_search_without_match_is_empty(stock):
    assert selectors.city_rows("DE", search="paris") == []


def numbers(*, country, digits, **kwargs):
    query = number_query_parse(digits, country)
    return [
        did.number for did in selectors.search_numbers(country=country, query=query, **kwargs).rows
    ]


def test_number_search_starts_with_national_digits(stock):
    assert numbers(country="NL", digits="6123450", mode="starts")[:2] == [
        "+31612345000",
        "+31612345001",
    ]
    assert numbers(country="NL", digits="+3120555003", mode="starts") == [
        f"+3120555003{i}" for i in range(10)
    ]


def test_number_search_contains_and_ends_with(stock):
    assert numbers(country="NL", digits="5550012", mode="contains") == ["+31205550012"]
    assert numbers(country="DE", digits="19", mode="ends") == ["+4989555019"]


def test_number_search_shows_only_buyable_numbers(stock, platform_admin):
    did = DID.objects.get(number="+31205550012")
    inventory_services.did_transition(
        did=did, to_status="reserved", actor=platform_admin, reason="x"
    )
    assert numbers(country="NL", digits="12", mode="ends") == []


def test_number_search_pages_by_keyset(stock):
    first = selectors.search_numbers(country="NL", block_ids=[stock["amsterdam"].pk], page_size=15)
    assert len(first.rows) == 15 and first.next_after == "+31205550014" and not first.prev_before
    second = selectors.search_numbers(
        country="NL", block_ids=[stock["amsterdam"].pk], page_size=15, after=first.next_after
    )
    assert second.rows[0].number == "+31205550015"
    assert second.prev_before == "+31205550015"
    back = selectors.search_numbers(
        country="NL", block_ids=[stock["amsterdam"].pk], page_size=15, before=second.prev_before
    )
    assert [d.number for d in back.rows] == [d.number for d in first.rows]
    last = selectors.search_numbers(
        country="NL", block_ids=[stock["amsterdam"].pk], page_size=15, after="+31205550029"
    )
    assert len(last.rows) == 10 and last.next_after == ""


def test_formatted_for_people():
    assert selectors.formatted("+31205550012") == ("020 555 0012", "+31 20 555 0012")


@pytest.mark.parametrize("discount", [None, Decimal("0"), Decimal("12.5")])
def test_country_list_grouped_in_sql_matches_block_by_block(stock, discount):
    """The list and wholesale prices (one rule for every block) are grouped in SQL; the
    result is what applying the viewer's price to each block and taking minimums gives."""
    stock["munich"].monthly_price = Decimal("1.23457")  # rounding at the discount
    stock["munich"].save()
    viewer = None if discount is None else reseller_account(wholesale_discount=discount)
    for filters in (CoverageFilters(), CoverageFilters(number_type="mobile")):
        grouped = selectors.country_list(filters, viewer)
        assert grouped == selectors._country_list_per_block(filters, viewer, None)
        assert grouped  # not vacuous
    if discount:
        de = by_country()["DE"]
        mine = {row["country"]: row for row in selectors.country_list(CoverageFilters(), viewer)}
        assert mine["DE"]["from_monthly"] == Decimal("1.08025")  # 1.23457 × 0.875, half-up
        assert mine["DE"]["from_monthly"] < de["from_monthly"]
