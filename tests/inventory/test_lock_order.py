"""One lock order everywhere (balances → client package → numbers): a checkout and an
admin's assignment touching the same package and number never deadlock (issue 10, item 2).

Real threads on PostgreSQL. A third connection holds the number's row lock so the two
racers queue on it in a known order: the checkout first (it has its balance, and now its
package), then the assignment. Before the fix the checkout took the number and then
waited for the package the assignment held while waiting for the number: a deadlock.
"""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from billing.services.capacity import number_rental_cancel
from billing.services.subscriptions import subscription_cancel
from cart.models import Cart, CartItem
from cart.orders import order_place
from inventory.models import DID
from inventory.services import did_assign, did_release, dids_add
from tests.billing.factories import fund
from tests.billing.test_subscriptions_helpers import start
from tests.factories import AccountFactory, UserFactory
from tests.inventory.factories import ClientPackageFactory, NumberBlockFactory, PackageFactory

pytestmark = [pytest.mark.postgres]
LOCK_TABLES = ("inventory_clientpackage", "inventory_did")


def locked_tables(work, tables):
    """The tables among ``tables`` that ``work()`` locks (SELECT … FOR UPDATE), in the order
    it first locks each."""
    with CaptureQueriesContext(connection) as captured:
        work()
    order = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if "FOR UPDATE" in sql:
            table = sql.split(" FROM ", 1)[1].split()[0].strip('"')
            if table in tables and table not in order:
                order.append(table)
    return order


def wait_for_lock_waiters(count, timeout=10):
    """Until ``count`` other sessions of this database wait on a lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
            time.sleep(0.02)
    raise AssertionError(f"{count} sessions never queued on a lock")


def in_thread(work, results, name):
    def run():
        try:
            results[name] = work()
        except Exception as exc:  # the test reports what each thread got
            results[name] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_checkout_and_assignment_of_the_same_number_do_not_deadlock(platform_admin):
    block = NumberBlockFactory()
    dids_add(block=block, spec_text="5550000", actor=platform_admin)
    did = DID.objects.get()
    account = AccountFactory()
    fund(account, "100.00")
    buyer = UserFactory(account=account, role="customer_admin")
    package = ClientPackageFactory(
        account=account, package=PackageFactory(max_dids=5, limits_self_service=True)
    )
    cart = Cart.objects.create(user=buyer, account=account)
    CartItem.objects.create(cart=cart, block=block, did=did, channels=1, billing_period="monthly")

    gate_locked, gate_open = threading.Event(), threading.Event()

    def gate():
        with transaction.atomic():
            DID.objects.select_for_update().get(pk=did.pk)
            gate_locked.set()
            gate_open.wait(timeout=20)

    results = {}
    threads = [in_thread(gate, results, "gate")]
    assert gate_locked.wait(timeout=10)
    threads.append(in_thread(lambda: order_place(user=buyer, token="race"), results, "checkout"))
    wait_for_lock_waiters(1)
    threads.append(
        in_thread(
            lambda: did_assign(
                did=did, account=account, client_package=package, actor=platform_admin
            ),
            results,
            "assign",
        )
    )
    wait_for_lock_waiters(2)
    gate_open.set()
    for thread in threads:
        thread.join(timeout=30)

    order = results["checkout"]
    assert not isinstance(order, Exception), order
    assert order.status == "completed"
    # The assignment came second and found the number sold: refused, not deadlocked.
    assert isinstance(results["assign"], ValidationError), results["assign"]
    did.refresh_from_db()
    assert (did.owner_id, did.status, did.client_package_id) == (account.pk, "active", package.pk)


@pytest.mark.django_db
def test_checkout_and_assignment_take_their_locks_in_the_one_order(platform_admin):
    """Balances → client package → numbers, read off the SQL each one sends. (Since an
    assignment also takes the balance first, the race above cannot catch the checkout
    alone locking numbers before the package; this does.)"""
    block = NumberBlockFactory()
    dids_add(block=block, spec_text="5550000-5550001", actor=platform_admin)
    bought, assigned = DID.objects.order_by("pk")
    account = AccountFactory()
    fund(account, "100.00")
    buyer = UserFactory(account=account, role="customer_admin")
    package = ClientPackageFactory(
        account=account, package=PackageFactory(max_dids=5, limits_self_service=True)
    )
    cart = Cart.objects.create(user=buyer, account=account)
    CartItem.objects.create(
        cart=cart, block=block, did=bought, channels=1, billing_period="monthly"
    )

    def lock_order(work):
        return locked_tables(work, ("billing_balance", *LOCK_TABLES))

    expected = ["billing_balance", "inventory_clientpackage", "inventory_did"]
    assert lock_order(lambda: order_place(user=buyer, token="t")) == expected
    assert (
        lock_order(
            lambda: did_assign(
                did=assigned, account=account, client_package=package, actor=platform_admin
            )
        )
        == expected
    )


@pytest.mark.django_db
def test_cancel_and_release_lock_the_number_before_its_subscription(customer, customer_admin):
    """A customer cancelling while the hold-expiry job releases the same number: both lock
    the number first, so one waits for the other instead of deadlocking."""
    fund(customer, "100.00")
    subscription = start(customer, price="5.00")
    tables = ("inventory_did", "billing_subscription")
    cancel = locked_tables(
        lambda: subscription_cancel(subscription=subscription, actor=customer_admin), tables
    )
    assert cancel == ["inventory_did", "billing_subscription"]
    # The page's way to cancel: the rental with its channels.
    kept = start(customer, price="5.00")
    rental = locked_tables(
        lambda: number_rental_cancel(number_subscription=kept, actor=customer_admin), tables
    )
    assert rental == ["inventory_did", "billing_subscription"]
    release = locked_tables(
        lambda: did_release(
            did=subscription.did, owner=customer, job="tests", reason="hold expired"
        ),
        tables,
    )
    assert release == ["inventory_did", "billing_subscription"]
