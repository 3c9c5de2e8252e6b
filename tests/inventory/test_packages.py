import datetime as dt
import threading

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from inventory.models import DID
from inventory.services import (
    client_package_assign,
    client_package_deactivate,
    client_package_reactivate,
    did_assign,
    holds_release_expired,
)
from tests.inventory.factories import ClientPackageFactory, DIDFactory, PackageFactory

pytestmark = pytest.mark.django_db

# In the future, so history rows written under time travel come after the real-time ones.
START = dt.datetime(2031, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def client_package(customer):
    return ClientPackageFactory(account=customer, package=PackageFactory(max_dids=2))


def assign(did, client_package, actor):
    return did_assign(
        did=did, account=client_package.account, client_package=client_package, actor=actor
    )


def test_client_package_assign(customer, platform_admin):
    package = PackageFactory()
    client_package = client_package_assign(
        account=customer, package=package, start_date=dt.date(2026, 1, 1), actor=platform_admin
    )
    assert client_package.active
    assert client_package.history.get().history_user == platform_admin


def test_inactive_package_cannot_be_assigned(customer, platform_admin):
    with pytest.raises(ValidationError, match="not active"):
        client_package_assign(
            account=customer,
            package=PackageFactory(active=False),
            start_date=dt.date(2026, 1, 1),
            actor=platform_admin,
        )


def test_assign_activates_under_the_package(make_did, client_package, platform_admin):
    did = assign(make_did(), client_package, platform_admin)
    assert did.status == "active"
    assert did.owner == client_package.account
    assert did.client_package == client_package
    assert did.ever_sold
    assert did.history.latest().history_user == platform_admin


def test_package_limit(make_did, client_package, platform_admin):
    assign(make_did(), client_package, platform_admin)
    assign(make_did(), client_package, platform_admin)
    with pytest.raises(ValidationError, match="allows 2 numbers and .* already holds 2"):
        assign(make_did(), client_package, platform_admin)


def test_numbers_on_hold_count_against_the_limit(make_did, client_package, platform_admin):
    make_did("hold", client_package=client_package)
    make_did("hold", client_package=client_package)
    with pytest.raises(ValidationError, match="already holds 2"):
        assign(make_did(), client_package, platform_admin)


def test_package_of_another_account_is_refused(make_did, client_package, stranger):
    with pytest.raises(ValidationError, match="does not belong"):
        did_assign(
            did=make_did(), account=stranger.account, client_package=client_package, actor=stranger
        )


def test_archived_number_cannot_be_assigned(make_did, client_package, platform_admin):
    with pytest.raises(ValidationError, match="from archive to active"):
        assign(make_did("archive"), client_package, platform_admin)


def test_deactivate_holds_and_reactivate_restores(make_did, client_package, platform_admin):
    dids = [
        assign(make_did(destination="+31201234567"), client_package, platform_admin)
        for _ in range(2)
    ]
    with time_machine.travel(START, tick=False):
        client_package_deactivate(client_package=client_package, actor=platform_admin)
    for did in dids:
        did.refresh_from_db()
        assert did.status == "hold"
        assert did.hold_started_at == START
        assert did.owner == client_package.account
        assert did.destination == "+31201234567"
    client_package.refresh_from_db()
    assert not client_package.active

    with time_machine.travel(START + dt.timedelta(days=3)):
        client_package_reactivate(client_package=client_package, actor=platform_admin)
    for did in dids:
        did.refresh_from_db()
        assert (did.status, did.hold_started_at, did.destination) == (
            "active",
            None,
            "+31201234567",
        )
        assert did.history.latest().history_change_reason.endswith("reactivated")
    client_package.refresh_from_db()
    assert client_package.active


def test_reactivate_skips_numbers_already_released(make_did, client_package, platform_admin):
    did = assign(make_did(), client_package, platform_admin)
    client_package_deactivate(client_package=client_package, actor=platform_admin)
    holds_release_expired(now=timezone.now() + dt.timedelta(days=31))
    client_package_reactivate(client_package=client_package, actor=platform_admin)
    did.refresh_from_db()
    assert did.status == "in_stock"
    assert did.owner is None


def test_holds_expire_after_hold_days_and_release_is_idempotent(
    make_did, client_package, platform_admin, settings
):
    settings.DID_HOLD_DAYS = 30
    to_stock = assign(make_did(), client_package, platform_admin)
    to_archive = assign(make_did(after_hold_status="archive"), client_package, platform_admin)
    with time_machine.travel(START, tick=False):
        client_package_deactivate(client_package=client_package, actor=platform_admin)

    with time_machine.travel(START + dt.timedelta(days=29)):
        assert holds_release_expired() == 0
    assert DID.objects.filter(status="hold").count() == 2

    with time_machine.travel(START + dt.timedelta(days=30, seconds=1)):
        assert holds_release_expired() == 2
        assert holds_release_expired() == 0  # the second run finds nothing to do
    to_stock.refresh_from_db()
    to_archive.refresh_from_db()
    assert (to_stock.status, to_archive.status) == ("in_stock", "archive")
    for did in (to_stock, to_archive):
        assert (did.owner, did.client_package, did.destination, did.hold_started_at) == (
            None,
            None,
            "",
            None,
        )
        record = did.history.latest()
        assert record.history_user is None
        assert record.history_change_reason.startswith("release_holds: hold expired")
    assert to_stock.history.count() == 4  # created, assigned, held, released: no extra rows


def test_release_works_in_batches(make_did, settings):
    settings.DID_HOLD_DAYS = 1
    long_ago = timezone.now() - dt.timedelta(days=2)
    for _ in range(5):
        make_did("hold", hold_started_at=long_ago)
    assert holds_release_expired(batch_size=2) == 5
    assert not DID.objects.filter(status="hold").exists()


def test_release_holds_command(make_did):
    make_did("hold", hold_started_at=timezone.now() - dt.timedelta(days=40))
    from django.core.management import call_command

    call_command("release_holds")
    assert DID.objects.get().status == "in_stock"


def test_release_holds_task(make_did):
    from inventory.tasks import release_holds

    make_did("hold", hold_started_at=timezone.now() - dt.timedelta(days=40))
    assert release_holds.apply().get() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_assignments_respect_the_package_limit(block, customer, platform_admin):
    client_package = ClientPackageFactory(account=customer, package=PackageFactory(max_dids=1))
    dids = [DIDFactory(block=block), DIDFactory(block=block)]
    barrier = threading.Barrier(2)
    outcomes = []

    def worker(did):
        try:
            barrier.wait()
            assign(did, client_package, platform_admin)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(did,)) for did in dids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["ok", "refused"]
    assert DID.objects.filter(client_package=client_package, status="active").count() == 1
