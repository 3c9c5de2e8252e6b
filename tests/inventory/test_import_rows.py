"""Row rules, block mapping and the all-or-nothing write of the DID import."""

from decimal import Decimal

import pytest

from inventory.importing.services import ImportRejected, file_check, file_import
from inventory.models import DID, NumberBlock
from inventory.selectors import audit_entries, audit_log_filtered, did_history
from inventory.services.console import dids_bulk_edit, dids_delete_unsold
from tests.inventory.factories import DIDFactory, NumberBlockFactory, OperatorFactory
from tests.inventory.import_files import amsterdam_rows, csv_bytes, row

pytestmark = pytest.mark.django_db


@pytest.fixture
def kpn(db):
    return OperatorFactory(name="KPN")


@pytest.fixture
def write(tmp_path):
    def write(rows, **kwargs):
        path = tmp_path / "numbers.csv"
        path.write_bytes(csv_bytes(rows, **kwargs))
        return path

    return write


def errors_of(plan):
    return [(e["row"], e["column"], e["message"]) for e in plan.sorted_errors()]


def rejected(path, actor=None):
    with pytest.raises(ImportRejected) as exc_info:
        file_import(path=path, name=path.name, actor=actor)
    return exc_info.value.plan


def test_rows_make_a_new_block_and_history_says_who(kpn, write, platform_admin):
    rows = amsterdam_rows(3, tag="batch-1", notes="from KPN", capabilities="voice;sms")
    plan = file_import(path=write(rows), name="numbers.csv", actor=platform_admin)
    assert plan.number_count == 3
    block = NumberBlock.objects.get()
    assert (block.operator, block.country.code, block.city, block.area_code) == (
        kpn,
        "NL",
        "Amsterdam",
        "20",
    )
    assert (block.voice, block.sms, block.fax) == (True, True, False)
    assert (block.setup_fee, block.monthly_price) == (Decimal("1.00"), Decimal("2.00"))
    assert block.history.get().history_user == platform_admin
    did = DID.objects.get(number="+31205550001")
    assert (did.block, did.status, did.tag, did.notes) == (block, "in_stock", "batch-1", "from KPN")
    # Its origin is the import batch, shown as the number's "Added" history entry.
    assert not did.history.exists()
    [added] = did_history(did)
    record = added.record
    assert record.history_type == "+"
    assert record.history_user == platform_admin
    assert record.history_change_reason == "imported from numbers.csv"
    assert ("tag", "", "batch-1") in added.changes and ("notes", "", "from KPN") in added.changes


def test_an_imported_numbers_first_change_is_compared_with_its_import(kpn, write, platform_admin):
    file_import(path=write(amsterdam_rows(2, tag="batch-1")), name="n.csv", actor=platform_admin)
    did = DID.objects.get(number="+31205550001")
    dids_bulk_edit(dids_queryset_or_ids=[did.pk], actor=platform_admin, tag="sold-out")
    changed, added = did_history(did)
    assert (changed.record.history_type, changed.changes) == ("~", [("tag", "batch-1", "sold-out")])
    assert changed.record.import_batch == did.import_batch
    assert (added.record.history_type, added.record.history_user) == ("+", platform_admin)
    # The global audit log pairs it the same way.
    [entry] = audit_entries(audit_log_filtered(number="+31205550001"))
    assert entry.changes == [("tag", "batch-1", "sold-out")]


def test_a_deleted_imported_number_keeps_its_origin(kpn, write, platform_admin):
    file_import(path=write(amsterdam_rows(1)), name="n.csv", actor=platform_admin)
    did = DID.objects.get()
    batch = did.import_batch
    dids_delete_unsold(dids_queryset_or_ids=[did.pk], actor=platform_admin)
    assert DID.history.get(history_type="-").import_batch == batch
    assert (batch.number_count, batch.created_by) == (1, platform_admin)


def test_an_existing_block_is_reused(kpn, write, platform_admin):
    block = NumberBlockFactory(operator=kpn)  # Amsterdam, area 20, local, voice, 1.00 / 2.00
    rows = amsterdam_rows(2, setup_fee="", monthly_price="") + amsterdam_rows(
        1, start=5551000, monthly_price="2.00000"
    )
    file_import(path=write(rows), name="numbers.csv", actor=platform_admin)
    assert NumberBlock.objects.get() == block
    assert block.dids.count() == 3


def test_a_different_price_makes_a_new_block(kpn, write, platform_admin):
    existing = NumberBlockFactory(operator=kpn)
    file_import(
        path=write(amsterdam_rows(2, monthly_price="3.50")), name="x.csv", actor=platform_admin
    )
    new = NumberBlock.objects.exclude(pk=existing.pk).get()
    assert new.monthly_price == Decimal("3.5")
    assert new.dids.count() == 2 and not existing.dids.exists()


def test_rows_with_the_same_values_share_one_new_block(kpn, write, platform_admin):
    rows = amsterdam_rows(1, country="nl") + amsterdam_rows(1, start=5551000, country=" NL ")
    file_import(path=write(rows), name="x.csv", actor=platform_admin)
    assert NumberBlock.objects.get().dids.count() == 2


def test_a_new_block_needs_a_monthly_price(kpn, write):
    plan = rejected(write(amsterdam_rows(1, monthly_price="")))
    assert errors_of(plan) == [
        (2, "monthly_price", "no block matches this row; a new block needs a price.")
    ]


def test_two_matching_blocks_need_prices_to_choose(kpn, write):
    first = NumberBlockFactory(operator=kpn)
    second = NumberBlockFactory(operator=kpn, monthly_price=Decimal("3.00"))
    plan = rejected(write(amsterdam_rows(1, monthly_price="", setup_fee="")))
    assert errors_of(plan) == [
        (
            2,
            "monthly_price",
            f"matches several blocks (#{first.pk}, #{second.pk}); give the prices of one.",
        )
    ]
    plan = file_check(path=write(amsterdam_rows(1, monthly_price="3")), name="x.csv")
    assert plan.error_count == 0 and plan.summary()["blocks"][0]["id"] == second.pk


def test_unknown_operator_is_an_error_not_created(kpn, write):
    plan = rejected(
        write(amsterdam_rows(1, operator="kpn") + amsterdam_rows(1, 5551000, operator="Nope"))
    )
    assert errors_of(plan) == [
        (2, "operator", "no operator is named “kpn”. Did you mean “KPN”?"),
        (3, "operator", "no operator is named “Nope”. Add it under Operators first."),
    ]
    assert not NumberBlock.objects.exists()


def test_duplicates_in_the_file_and_in_stock(kpn, write):
    DIDFactory(number="+31205550001")
    rows = amsterdam_rows(3) + [row("+31205550000")]
    plan = rejected(write(rows))
    assert errors_of(plan) == [
        (3, "number", "+31205550001 is already in stock."),
        (5, "number", "+31205550000 is also on row 2."),
    ]


def test_number_rules(kpn, write):
    rows = [
        row("+442079460000"),  # another country
        row("+31105550000"),  # another area code
        row("+3120555000"),  # too short for NL
        row("0205550000"),  # national form
        row("31205550009"),  # digits without +: fine
        row("+31 20 555 0010"),  # spaces: fine
        row(""),
        row("+1 (212) 555-0000"),
    ]
    plan = rejected(write(rows))
    assert errors_of(plan) == [
        (2, "number", "+442079460000 is not a NL number (they start +31)."),
        (3, "number", "+31105550000 does not start with the area code (+3120)."),
        (4, "number", "+3120555000 is not a valid NL number."),
        (5, "number", "not a phone number in E.164 form."),
        (8, "number", "required."),
        (9, "number", "not a phone number in E.164 form."),
    ]
    assert plan.number_count == 2


def test_shared_country_codes_belong_to_one_country(kpn, write):
    # +1 416 is Toronto: valid NANPA, but Canadian.
    rows = [row("+14165550123", country="US", area_code="", city="New York")]
    plan = rejected(write(rows))
    assert errors_of(plan) == [(2, "number", "+14165550123 is a CA number, not US.")]


def test_other_columns(kpn, write):
    rows = [
        row("+31205550000", status="active"),
        row("+31205550001", capabilities="voice;telex"),
        row("+31205550002", number_type="landline"),
        row("+31205550003", monthly_price="2,50"),
        row("+31205550004", setup_fee="-1"),
        row("+31205550005", country="XX"),
        row("+31205550006", area_code="020x"),
        row("+31205550007", tag="t" * 65),
    ]
    plan = rejected(write(rows))
    assert errors_of(plan) == [
        (2, "status", "numbers are imported as in_stock, reserved or archive."),
        (3, "capabilities", "voice, sms and/or fax, separated by ;"),
        (4, "number_type", "one of local, national, mobile, toll_free, shared_cost."),
        (5, "monthly_price", "a price like 2.50, not negative. Use a dot for decimals."),
        (6, "setup_fee", "a price like 2.50, not negative."),
        (7, "country", "not a two-letter country code, e.g. NL."),
        (8, "area_code", "up to 8 digits, without the trunk 0."),
        (9, "tag", "at most 64 characters."),
    ]


def test_statuses_and_labels_are_read_loosely(kpn, write, platform_admin):
    rows = [
        row("+31205550000", status="Reserved", number_type="Local"),
        row("+31205550001", status="archive"),
        row("+31205550002", status="in stock"),
    ]
    file_import(path=write(rows), name="x.csv", actor=platform_admin)
    assert dict(DID.objects.values_list("number", "status")) == {
        "+31205550000": "reserved",
        "+31205550001": "archive",
        "+31205550002": "in_stock",
    }


def test_text_that_looks_like_a_formula_is_stored_as_text(kpn, write, platform_admin):
    rows = [
        row("+31205550000", notes='=HYPERLINK("http://evil.test","x")', tag="@cmd", city="=1+2")
    ]
    file_import(path=write(rows), name="x.csv", actor=platform_admin)
    did = DID.objects.get()
    assert (did.notes, did.tag, did.block.city) == (
        '=HYPERLINK("http://evil.test","x")',
        "@cmd",
        "=1+2",
    )


def test_one_bad_row_saves_nothing_then_the_fixed_file_imports_everything(
    kpn, write, platform_admin
):
    rows = amsterdam_rows(50)
    rows[36] = row("+3120555003X")
    plan = rejected(write(rows), actor=platform_admin)
    assert errors_of(plan) == [(38, "number", "not a phone number in E.164 form.")]
    assert plan.errors[0]["value"] == "+3120555003X"
    assert not DID.objects.exists() and not NumberBlock.objects.exists()

    rows[36] = row("+31205550036")
    assert file_import(path=write(rows), name="x.csv", actor=platform_admin).number_count == 50
    assert DID.objects.count() == 50
    assert DID.objects.filter(import_batch__created_by=platform_admin).count() == 50


def test_every_error_is_counted_but_only_some_are_kept(kpn, write, settings):
    settings.IMPORT_ERRORS_SHOWN = 5
    plan = rejected(write(amsterdam_rows(20, operator="Nope")))
    assert plan.error_count == 20
    assert [e["row"] for e in plan.errors] == [2, 3, 4, 5, 6]


def test_blank_rows_are_skipped_and_rows_keep_their_numbers(kpn, write):
    rows = amsterdam_rows(1) + [[""] * 13, []] + [row("bad")]
    plan = file_check(path=write(rows), name="x.csv")
    assert plan.rows == 2
    assert errors_of(plan) == [(5, "number", "not a phone number in E.164 form.")]


def test_short_rows_and_long_rows(kpn, write):
    header = ["number", "operator", "country", "city", "number_type", "monthly_price"]
    rows = [
        ["+31205550000", "KPN", "NL", "", "national", "1"],
        ["+31205550001", "KPN", "NL", "", "national", "1", "surprise"],
        ["+31205550002", "KPN", "NL", "", "national"],
    ]
    plan = file_check(path=write(rows, header=header), name="x.csv")
    assert errors_of(plan) == [
        (3, "", "this row has 7 cells; the header 6."),
        (4, "monthly_price", "no block matches this row; a new block needs a price."),
    ]


def test_a_number_added_meanwhile_rejects_the_import(kpn, write, platform_admin, monkeypatch):
    """The dry run passed; by the time of the import someone added one of the numbers."""
    from inventory.importing import services

    path = write(amsterdam_rows(3))
    plan = services.file_read(path=path, name="x.csv")
    DIDFactory(number="+31205550002")
    with pytest.raises(ImportRejected) as exc_info:
        services.plan_import(plan=plan, actor=platform_admin, reason="test")
    assert errors_of(exc_info.value.plan) == [(4, "number", "+31205550002 is already in stock.")]
    assert (
        DID.objects.count() == 1
        and not NumberBlock.objects.exclude(dids__number="+31205550002").exists()
    )
