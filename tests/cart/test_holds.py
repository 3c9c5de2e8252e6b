"""Cart holds on the DID row: exclusive, refreshable, expiring, and counted as not buyable."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.selectors import buyable_blocks, buyable_numbers, search_numbers
from inventory import services as inventory_services
from inventory.models import DID
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def available(block):
    return buyable_blocks().filter(pk=block.pk).values_list("available", flat=True).first() or 0


def hold(dids, user, minutes=15, now=None):
    now = now or timezone.now()
    return inventory_services.dids_cart_hold(
        dids=[d.pk for d in dids], user=user, until=now + timedelta(minutes=minutes), now=now
    )


@pytest.fixture
def two_buyers(db):
    return UserFactory(role="customer_admin"), UserFactory(role="customer_admin")


def test_a_hold_is_exclusive_and_refreshable(blocks, two_buyers):
    alice, bob = two_buyers
    first, second = DID.objects.filter(block=blocks["amsterdam"]).order_by("number")[:2]
    assert hold([first], alice) == {first.pk}
    assert hold([first, second], bob) == {second.pk}
    first.refresh_from_db()
    assert first.cart_held_by == alice and first.status == "in_stock"
    later = timezone.now() + timedelta(minutes=5)
    assert hold([first], alice, now=later) == {first.pk}  # refreshed
    first.refresh_from_db()
    assert first.cart_held_until > later + timedelta(minutes=14)


def test_an_expired_hold_can_be_taken_by_another(blocks, two_buyers):
    alice, bob = two_buyers
    did = DID.objects.filter(block=blocks["amsterdam"]).first()
    past = timezone.now() - timedelta(minutes=30)
    hold([did], alice, now=past)
    assert hold([did], bob) == {did.pk}
    did.refresh_from_db()
    assert did.cart_held_by == bob


def test_release_only_touches_own_holds(blocks, two_buyers):
    alice, bob = two_buyers
    first, second = DID.objects.filter(block=blocks["amsterdam"]).order_by("number")[:2]
    hold([first], alice)
    hold([second], bob)
    assert inventory_services.dids_cart_release(dids=[first.pk, second.pk], user=alice) == 1
    assert DID.objects.filter(cart_held_by__isnull=False).get() == second


def test_the_expiry_job_releases_only_ended_holds(blocks, two_buyers):
    alice, bob = two_buyers
    first, second = DID.objects.filter(block=blocks["amsterdam"]).order_by("number")[:2]
    hold([first], alice, now=timezone.now() - timedelta(minutes=20))
    hold([second], bob)
    assert inventory_services.cart_holds_release_expired() == 1
    assert inventory_services.cart_holds_release_expired() == 0
    first.refresh_from_db()
    assert first.cart_held_until is None and first.cart_held_by is None
    assert DID.objects.get(cart_held_by=bob) == second


def test_holds_write_no_history(blocks, two_buyers):
    did = DID.objects.filter(block=blocks["amsterdam"]).first()
    before = did.history.count()
    hold([did], two_buyers[0])
    inventory_services.cart_holds_release_expired(now=timezone.now() + timedelta(hours=1))
    assert did.history.count() == before


def test_numbers_out_of_stock_are_never_held(blocks, two_buyers, platform_admin):
    did = DID.objects.filter(block=blocks["amsterdam"]).first()
    inventory_services.did_transition(
        did=did, to_status="reserved", actor=platform_admin, reason="kept back"
    )
    assert hold([did], two_buyers[0]) == set()


def test_leaving_in_stock_ends_the_hold(blocks, two_buyers, platform_admin):
    first, second = DID.objects.filter(block=blocks["amsterdam"]).order_by("number")[:2]
    hold([first, second], two_buyers[0])
    inventory_services.did_transition(
        did=first, to_status="active", owner=AccountFactory(), actor=platform_admin, reason="sold"
    )
    inventory_services.dids_transition(
        dids_queryset_or_ids=[second.pk], to_status="archive", actor=platform_admin, reason="x"
    )
    assert not DID.objects.filter(cart_held_until__isnull=False).exists()


def test_the_database_refuses_an_inconsistent_hold(blocks, two_buyers):
    did = DID.objects.filter(block=blocks["amsterdam"]).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        DID.objects.filter(pk=did.pk).update(cart_held_until=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        DID.objects.filter(pk=did.pk).update(
            status="reserved", cart_held_until=timezone.now(), cart_held_by=two_buyers[0]
        )


def test_deleting_the_holder_ends_the_hold(blocks, two_buyers):
    did = DID.objects.filter(block=blocks["amsterdam"]).first()
    hold([did], two_buyers[0])
    two_buyers[0].delete()
    did.refresh_from_db()
    assert did.cart_held_until is None and did.cart_held_by is None


# --- The catalog follows the holds (both databases) ---------------------------------------


def test_a_hold_and_its_release_move_the_count(blocks, two_buyers):
    block = blocks["amsterdam"]
    first, second = DID.objects.filter(block=block).order_by("number")[:2]
    assert available(block) == 10
    hold([first, second], two_buyers[0])
    assert available(block) == 8
    hold([first], two_buyers[0])  # refresh: no change
    assert available(block) == 8
    inventory_services.dids_cart_release(dids=[first.pk], user=two_buyers[0])
    assert available(block) == 9
    inventory_services.cart_holds_release_expired(now=timezone.now() + timedelta(hours=1))
    assert available(block) == 10


def test_a_held_number_sold_is_counted_once(blocks, two_buyers, platform_admin):
    block = blocks["amsterdam"]
    did = DID.objects.filter(block=block).first()
    hold([did], two_buyers[0])
    inventory_services.did_transition(
        did=did, to_status="active", owner=AccountFactory(), actor=platform_admin, reason="sold"
    )
    assert available(block) == 9


def test_a_hold_passing_to_another_cart_does_not_move_the_count(blocks, two_buyers):
    block = blocks["amsterdam"]
    did = DID.objects.filter(block=block).first()
    hold([did], two_buyers[0], now=timezone.now() - timedelta(hours=1))
    assert available(block) == 9
    hold([did], two_buyers[1])
    assert available(block) == 9


def test_search_hides_others_holds_but_not_expired_or_own(blocks, two_buyers):
    alice, bob = two_buyers
    first, second = DID.objects.filter(block=blocks["amsterdam"]).order_by("number")[:2]
    hold([first], alice)
    hold([second], alice, now=timezone.now() - timedelta(hours=1))
    numbers = [first.number, second.number]

    assert [d.number for d in buyable_numbers(numbers, holder=bob)] == [second.number]
    assert [d.number for d in buyable_numbers(numbers, holder=alice)] == numbers
    assert [d.number for d in buyable_numbers(numbers)] == [second.number]

    def found(holder):
        page = search_numbers(country="NL", holder=holder, page_size=100)
        return {d.number for d in page.rows}

    assert first.number not in found(bob) and second.number in found(bob)
    assert first.number in found(alice)


def test_sqlite_triggers_lost_to_a_table_rebuild_come_back_after_migrate(blocks, two_buyers):
    """SQLite drops a table's triggers when Django rebuilds it; post_migrate puts them back."""
    from django.db import connection

    from catalog.triggers import ensure_sqlite_triggers

    if connection.vendor != "sqlite":
        assert ensure_sqlite_triggers() == []
        return
    assert ensure_sqlite_triggers() == []  # all there
    block = blocks["amsterdam"]
    first, second = DID.objects.filter(block=block).order_by("number")[:2]
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER catalog_stock_update")
    hold([first], two_buyers[0])  # not counted: no trigger
    assert available(block) == 10
    assert ensure_sqlite_triggers() == ["catalog_stock_update"]
    assert available(block) == 9  # recounted from the table
    hold([second], two_buyers[0])
    assert available(block) == 8  # and followed again


def test_the_minute_job_and_the_command_release_expired_holds(blocks, two_buyers):
    from io import StringIO

    from django.core.management import call_command

    from cart.tasks import release_cart_holds
    from didportal.celery import app

    assert app.conf.beat_schedule["release-cart-holds"] == {
        "task": "cart.tasks.release_cart_holds",
        "schedule": 60.0,
    }
    first, second = DID.objects.filter(block=blocks["amsterdam"]).order_by("number")[:2]
    hold([first], two_buyers[0], now=timezone.now() - timedelta(minutes=20))
    assert release_cart_holds.apply().get() == 1
    hold([second], two_buyers[1], now=timezone.now() - timedelta(minutes=20))
    out = StringIO()
    call_command("release_cart_holds", stdout=out)
    assert "Released 1 cart holds." in out.getvalue()
    assert not DID.objects.filter(cart_held_until__isnull=False).exists()
