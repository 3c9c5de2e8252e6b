"""The buyable-stock counts kept by database triggers follow every kind of write."""

import pytest
from django.db import connection

from catalog.models import StockDelta
from catalog.selectors import buyable_blocks
from catalog.services import stock_compact
from inventory import services as inventory_services
from inventory.models import DID
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def available(block):
    return buyable_blocks().filter(pk=block.pk).values_list("available", flat=True).first() or 0


def test_added_numbers_are_counted(stock):
    assert available(stock["amsterdam"]) == 40
    assert available(stock["munich"]) == 20


def test_status_changes_move_the_count(stock, platform_admin):
    block = stock["amsterdam"]
    first, second, third = DID.objects.filter(block=block).order_by("number")[:3]
    inventory_services.did_transition(
        did=first, to_status="reserved", actor=platform_admin, reason="held back"
    )
    inventory_services.did_transition(
        did=second, to_status="active", owner=AccountFactory(), actor=platform_admin, reason="sold"
    )
    assert available(block) == 38
    inventory_services.did_transition(
        did=first, to_status="in_stock", actor=platform_admin, reason="back on sale"
    )
    assert available(block) == 39
    DID.objects.filter(pk=third.pk).delete()
    assert available(block) == 38


def test_bulk_moves_are_counted(stock, platform_admin):
    block = stock["amsterdam"]
    inventory_services.dids_transition(
        dids_queryset_or_ids=DID.objects.filter(block=block)[:10].values("pk"),
        to_status="archive",
        actor=platform_admin,
        reason="retired",
    )
    assert available(block) == 30


def test_moving_numbers_between_blocks_moves_the_count(stock):
    DID.objects.filter(block=stock["amsterdam"]).update(block=stock["dutch_mobile"])
    assert available(stock["amsterdam"]) == 0
    assert available(stock["dutch_mobile"]) == 50


def test_compaction_keeps_the_sums_and_is_repeatable(stock, platform_admin):
    block = stock["amsterdam"]
    did = DID.objects.filter(block=block).first()
    inventory_services.did_transition(
        did=did, to_status="reserved", actor=platform_admin, reason="x"
    )
    stock_compact()
    stock_compact()
    assert StockDelta.objects.filter(block=block).count() == 1
    assert available(block) == 39
    assert available(stock["munich"]) == 20


@pytest.mark.postgres
def test_a_copy_of_many_rows_adds_one_delta_row_per_block(stock, platform_admin):
    before = StockDelta.objects.count()
    inventory_services.dids_add(
        block=stock["amsterdam"], spec_text="5560000-5569999", actor=platform_admin
    )
    assert StockDelta.objects.count() == before + 1
    assert available(stock["amsterdam"]) == 10_040


@pytest.mark.django_db(transaction=True)
def test_emptying_the_tables_leaves_no_stray_counts(stock):
    """What a test flush does: numbers deleted, then their blocks, with raw SQL."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM inventory_did")
        cursor.execute("DELETE FROM inventory_numberblock")
    assert not StockDelta.objects.exists()
