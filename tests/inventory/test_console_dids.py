"""The DID list of the stock console: filters, keyset pages, bulk actions and the CSV export."""

import csv
import io

import pytest
from django.urls import reverse

from didportal.csv_export import spreadsheet_safe, spreadsheet_unescape
from inventory.importing.columns import EXPORT_ONLY, NAMES
from inventory.models import DID
from tests.factories import AccountFactory
from tests.inventory.factories import DIDFactory, NumberBlockFactory

pytestmark = pytest.mark.django_db

LIST = reverse("inventory:dids")
BULK = reverse("inventory:did_bulk")
EXPORT = reverse("inventory:did_export")


@pytest.fixture
def admin_client(client, platform_admin):
    client.force_login(platform_admin)
    return client


def numbers_on(response):
    return [did.number for did in response.context["page"].object_list]


def make_range(block, first, count, **fields):
    return [
        DIDFactory(block=block, number=f"+3120555{first + i:04d}", **fields) for i in range(count)
    ]


# --- list and filters -----------------------------------------------------------------------


def test_empty_list_invites_to_add_numbers(admin_client):
    response = admin_client.get(LIST)
    assert response.status_code == 200
    assert "No numbers in stock yet" in response.content.decode()


def test_filters(admin_client, block, make_did, customer):
    berlin = NumberBlockFactory(country="DE", city="Berlin", area_code="30")
    make_did(number="+31205550001", tag="promo")
    make_did(number="+31205551234", status="active")
    DIDFactory(block=berlin, number="+49305550001")

    assert numbers_on(admin_client.get(LIST, {"prefix": "+3120555"})) == [
        "+31205550001",
        "+31205551234",
    ]
    assert numbers_on(admin_client.get(LIST, {"prefix": "49"})) == ["+49305550001"]
    assert numbers_on(admin_client.get(LIST, {"contains": "1234"})) == ["+31205551234"]
    assert numbers_on(admin_client.get(LIST, {"country": "DE"})) == ["+49305550001"]
    assert numbers_on(admin_client.get(LIST, {"city": "berl"})) == ["+49305550001"]
    assert numbers_on(admin_client.get(LIST, {"operator": berlin.operator_id})) == ["+49305550001"]
    assert numbers_on(admin_client.get(LIST, {"status": "active"})) == ["+31205551234"]
    assert numbers_on(admin_client.get(LIST, {"tag": "promo"})) == ["+31205550001"]
    assert numbers_on(admin_client.get(LIST, {"owner": customer.name[:5]})) == ["+31205551234"]
    by_block = admin_client.get(LIST, {"block": berlin.pk})
    assert numbers_on(by_block) == ["+49305550001"]
    assert by_block.context["total"] == 1  # counted only within a block
    assert f"Block <strong>{berlin.pk}</strong>: Berlin Local" in by_block.content.decode()
    assert admin_client.get(LIST).context["total"] is None


def test_invalid_filter_values_are_ignored(admin_client, make_did):
    make_did()
    response = admin_client.get(LIST, {"status": "bogus", "operator": "x", "block": "999999"})
    assert response.status_code == 200
    assert len(numbers_on(response)) == 1


def test_htmx_request_gets_only_the_results(admin_client, make_did):
    make_did()
    response = admin_client.get(LIST, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="did-results">')
    assert "<nav" not in html.split('id="did-results"')[0]


def test_back_button_history_restore_gets_the_whole_page(admin_client, make_did):
    make_did()
    response = admin_client.get(
        LIST, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "inventory/did_list.html" in [t.name for t in response.templates]
    assert "HX-Request" in response["Vary"]


def test_keyset_pagination_walks_forward_and_back(admin_client, block):
    make_range(block, 0, 60)
    first = admin_client.get(LIST, {"size": 25})
    page = first.context["page"]
    assert numbers_on(first)[0] == "+31205550000" and len(numbers_on(first)) == 25
    assert page.previous_cursor is None and page.next_cursor == "+31205550024"

    second = admin_client.get(LIST, {"size": 25, "after": page.next_cursor})
    assert numbers_on(second)[0] == "+31205550025"
    third = admin_client.get(LIST, {"size": 25, "after": second.context["page"].next_cursor})
    assert numbers_on(third) == [f"+3120555{n:04d}" for n in range(50, 60)]
    assert third.context["page"].next_cursor is None

    back = admin_client.get(LIST, {"size": 25, "before": third.context["page"].previous_cursor})
    assert numbers_on(back) == numbers_on(second)
    html = second.content.decode()
    assert "after=%2B31205550049" in html and "before=%2B31205550025" in html


def test_keyset_pagination_keeps_the_filters(admin_client, block):
    make_range(block, 0, 30, tag="a")
    response = admin_client.get(LIST, {"size": 25, "tag": "a"})
    assert "?size=25&amp;tag=a&amp;after=%2B31205550024" in response.content.decode()


@pytest.mark.parametrize("size", [25, 200])
def test_list_query_count_does_not_grow_with_the_page(
    admin_client, block, customer, size, django_assert_max_num_queries
):
    make_range(block, 0, 100, tag="x")
    make_range(NumberBlockFactory(), 500, 100, status="active", owner=customer, ever_sold=True)
    with django_assert_max_num_queries(6):
        response = admin_client.get(LIST, {"size": size})
    assert len(numbers_on(response)) == min(size, 200)
    with django_assert_max_num_queries(8):
        admin_client.get(LIST, {"size": size, "block": block.pk, "operator": block.operator_id})


def test_finance_reads_the_list_without_bulk_actions(client, finance_user, make_did):
    make_did()
    client.force_login(finance_user)
    response = client.get(LIST)
    assert response.status_code == 200
    assert 'name="ids"' not in response.content.decode()
    assert client.post(BULK, {"action": "tag", "ids": [1]}).status_code == 403


@pytest.mark.parametrize("role", ["reseller_admin", "customer_admin", "customer_member"])
def test_other_roles_are_refused(client, role):
    from tests.factories import UserFactory

    client.force_login(UserFactory(account=AccountFactory(kind=role.split("_")[0]), role=role))
    for name in ["dids", "did_export", "blocks", "operators", "packages", "audit_log"]:
        assert client.get(reverse(f"inventory:{name}")).status_code == 403


# --- bulk actions ---------------------------------------------------------------------------


def test_bulk_first_asks_for_confirmation(admin_client, make_did):
    dids = [make_did(), make_did()]
    response = admin_client.post(
        BULK, {"action": "status", "ids": [d.pk for d in dids], "query": "tag=x"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "This applies to <strong" in html and ">2</strong> numbers" in html
    assert "Change status: 2 numbers" in html
    assert DID.objects.filter(status="in_stock").count() == 2


def test_bulk_without_selection_goes_back(admin_client):
    response = admin_client.post(BULK, {"action": "status", "query": "tag=x"})
    assert response.status_code == 302 and response.url == f"{LIST}?tag=x"


def test_bulk_ignores_ids_that_are_not_ascii_digits(admin_client, make_did):
    did = make_did()
    response = admin_client.post(
        BULK, {"action": "status", "ids": [did.pk, "²", "٣"], "query": "tag=x"}
    )
    assert response.status_code == 200
    assert ">1</strong> number" in response.content.decode()


def test_bulk_status_change(admin_client, make_did, platform_admin):
    dids = [make_did(), make_did()]
    response = admin_client.post(
        BULK,
        {
            "action": "status",
            "ids": [d.pk for d in dids],
            "to_status": "reserved",
            "reason": "for a tender",
            "confirm": "1",
        },
        follow=True,
    )
    assert "Change status: done for 2 numbers." in response.content.decode()
    for did in dids:
        did.refresh_from_db()
        assert did.status == "reserved"
        record = did.history.latest()
        assert (record.history_user, record.history_change_reason) == (
            platform_admin,
            "for a tender",
        )


def test_bulk_illegal_move_names_both_states_and_changes_nothing(admin_client, make_did):
    stock, active = make_did(), make_did(status="active")
    response = admin_client.post(
        BULK,
        {
            "action": "status",
            "ids": [stock.pk, active.pk],
            "to_status": "archive",
            "confirm": "1",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "No status change fits every selected number: they are in stock, active." in page
    assert DID.objects.get(pk=stock.pk).status == "in_stock"
    assert DID.objects.get(pk=active.pk).status == "active"


def test_bulk_tag_edit_writes_history(admin_client, make_did, platform_admin):
    dids = [make_did(tag="old"), make_did(tag="old")]
    admin_client.post(
        BULK,
        {
            "action": "tag",
            "ids": [d.pk for d in dids],
            "tag": "campaign-7",
            "reason": "ticket 42",
            "confirm": "1",
        },
    )
    for did in dids:
        did.refresh_from_db()
        assert did.tag == "campaign-7"
        record = did.history.latest()
        assert record.tag == "campaign-7"
        assert record.history_type == "~"
        assert record.history_user == platform_admin
        assert record.history_change_reason == "tag set to “campaign-7”: ticket 42"


def test_select_all_matching_the_filter(admin_client, block):
    tagged = make_range(block, 0, 3, tag="sale")
    other = DIDFactory(block=block, number="+31205559999")
    data = {"action": "notes", "select_all": "1", "query": "tag=sale"}
    confirm = admin_client.post(BULK, data)
    assert ">3</strong> numbers" in confirm.content.decode()
    admin_client.post(BULK, {**data, "notes": "for the fair", "confirm": "1"})
    assert {d.notes for d in DID.objects.filter(pk__in=[d.pk for d in tagged])} == {"for the fair"}
    other.refresh_from_db()
    assert other.notes == ""


def test_bulk_after_hold_status(admin_client, make_did):
    did = make_did()
    admin_client.post(
        BULK,
        {"action": "after_hold", "ids": [did.pk], "after_hold_status": "archive", "confirm": "1"},
    )
    did.refresh_from_db()
    assert did.after_hold_status == "archive"


def test_bulk_move_to_a_block_of_the_same_country_only(admin_client, make_did):
    did = make_did()
    rotterdam = NumberBlockFactory(city="Rotterdam", area_code="10")
    berlin = NumberBlockFactory(country="DE", city="Berlin", area_code="30")
    refused = admin_client.post(
        BULK, {"action": "block", "ids": [did.pk], "block": berlin.pk, "confirm": "1"}
    )
    assert "Numbers move only within their country" in refused.content.decode()
    did.refresh_from_db()
    assert did.block_id != berlin.pk

    admin_client.post(
        BULK, {"action": "block", "ids": [did.pk], "block": rotterdam.pk, "confirm": "1"}
    )
    did.refresh_from_db()
    assert did.block_id == rotterdam.pk
    assert did.history.latest().history_change_reason.startswith("moved to block")


def test_delete_never_sold_numbers_leaves_a_history_row(admin_client, make_did, platform_admin):
    did = make_did()
    confirm = admin_client.post(BULK, {"action": "delete", "ids": [did.pk]})
    assert "Delete never-sold numbers: 1 number" in confirm.content.decode()
    response = admin_client.post(
        BULK, {"action": "delete", "ids": [did.pk], "reason": "typo", "confirm": "1"}, follow=True
    )
    assert "Delete never-sold numbers: done for 1 number." in response.content.decode()
    assert not DID.objects.filter(pk=did.pk).exists()
    record = DID.history.get(id=did.pk, history_type="-")
    assert (record.number, record.history_user) == (did.number, platform_admin)
    assert record.history_change_reason == "deleted: typo"  # .get(): no second "-" row


@pytest.mark.parametrize(
    "fields", [{"status": "archive", "ever_sold": True}, {"status": "active"}, {"status": "hold"}]
)
def test_delete_refuses_sold_numbers_and_offers_archive(admin_client, make_did, fields):
    fresh, sold = make_did(), make_did(**fields)
    ids = [fresh.pk, sold.pk]
    confirm = admin_client.post(BULK, {"action": "delete", "ids": ids}).content.decode()
    assert "Archive sold numbers instead" in confirm
    assert "Delete never-sold numbers: 2" not in confirm  # no delete button
    response = admin_client.post(BULK, {"action": "delete", "ids": ids, "confirm": "1"})
    assert f"Nothing was deleted: {sold.number}" in response.content.decode()
    assert DID.objects.filter(pk__in=ids).count() == 2


# --- export ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+31205550000", "+31205550000"),  # E.164 stays as it is
        ("-12.50", "-12.50"),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),  # a sign not only before a number
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-x", "'-x"),
        ("+", "'+"),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("＝1+1", "'＝1+1"),  # full-width equals sign
        ("＋３１２０", "'＋３１２０"),  # full-width plus: not a plain number
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
    ],
)
def test_spreadsheet_safe(value, expected):
    assert spreadsheet_safe(value) == expected
    assert spreadsheet_unescape(expected) == ("" if value is None else value)


def test_list_explains_the_export(admin_client, make_did):
    make_did()
    html = admin_client.get(LIST).content.decode()
    assert (
        "The CSV has the import&#x27;s columns" in html
        or "The CSV has the import's columns" in html
    )


def test_export_streams_escaped_csv_of_the_filtered_list(admin_client, make_did):
    make_did(number="+31205550001", tag="=cmd|' /C calc'!A0", notes="@SUM(1)")
    make_did(number="+31205550002", tag="other")
    response = admin_client.get(EXPORT, {"tag": "=cmd|' /C calc'!A0"})
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, body = rows[0], rows[1:]
    assert header[:13] == list(NAMES)  # the import's columns, in its order
    assert header[13:] == list(EXPORT_ONLY)
    assert len(body) == 1
    row = dict(zip(header, body[0], strict=True))
    assert row["number"] == "+31205550001"
    assert row["tag"] == "'=cmd|' /C calc'!A0"
    assert row["notes"] == "'@SUM(1)"
    assert row["status"] == "in_stock" and row["city"] == "Amsterdam"
    assert not any(cell.startswith(("=", "@")) for r in rows for cell in r)
