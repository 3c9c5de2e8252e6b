"""A renewal run whose PostgreSQL connection is terminated mid-batch (``make faults``'
fault_pg_terminate does it to a real worker): the batch is rolled back whole, the run fails
and its task retries, and nothing is half-charged."""

from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
import time_machine
from django.db import OperationalError, connection

from billing import tasks
from billing.models import LedgerEntry, Subscription, SubscriptionCharge
from billing.selectors import balance_mismatches
from billing.services.renewals import subscriptions_renew_due
from outbox.models import OutgoingEmail
from tests.billing.factories import fund
from tests.billing.resellers import customer_of, resold
from tests.billing.test_subscriptions_helpers import start
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@contextmanager
def connection_lost_before(statement, nth=1):
    """``pg_terminate_backend`` of this test's connection, from another one, just before
    the ``nth`` statement containing ``statement`` runs. Yields the statements seen."""
    seen, pid = [], backend_pid()

    def wrapper(execute, sql, params, many, context):
        if statement in sql:
            seen.append(sql)
            if len(seen) == nth:
                with psycopg.connect(**connection.get_connection_params()) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)", [pid])
                    admin.commit()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield seen


# Where a batch loses its connection: opening the savepoint its rows are renewed in, right
# after they are claimed; or after its debits and charges are written (not committed), as
# the subscriptions' new periods are.
BATCH_SAVEPOINT = "SAVEPOINT"
NEW_PERIODS = 'UPDATE "billing_subscription"'


@pytest.fixture
def due():
    accounts = [AccountFactory(country="US") for _ in range(2)]
    subs = []
    for account in accounts:
        fund(account, "100.00")
        subs += [start(account, unit="day", price="1.00") for _ in range(4)]
    later = max(s.next_renewal_at for s in subs) + timedelta(days=1, hours=1)
    return subs, later


def assert_books_whole(periods_each, subs):
    charges = SubscriptionCharge.objects.filter(subscription__in=subs)
    assert charges.count() == periods_each * len(subs)
    assert LedgerEntry.objects.filter(kind="charge").count() == periods_each * len(subs)
    assert list(balance_mismatches()) == []


@pytest.mark.parametrize("statement", [BATCH_SAVEPOINT, NEW_PERIODS])
def test_a_lost_connection_fails_the_run_instead_of_skipping_every_row(due, statement):
    subs, later = due

    # Before: the slow path renewed each row alone inside the broken transaction, reported
    # all 8 "failed" (skipped for the rest of the run) and returned as if the run had worked.
    with connection_lost_before(statement) as seen, pytest.raises(OperationalError):
        subscriptions_renew_due(now=later)
    assert seen

    assert_books_whole(1, subs)  # only the starts: the batch's debits rolled back with it
    outcome = subscriptions_renew_due(now=later)  # the next run renews them all
    assert outcome["renewed"] == len(subs) and outcome["failed"] == 0
    assert_books_whole(3, subs)  # periods 0, 1, 2


def test_the_renewal_task_retries_a_run_that_lost_its_connection(due):
    subs, later = due

    with time_machine.travel(later, tick=False), connection_lost_before(NEW_PERIODS) as seen:
        result = tasks.renew_subscriptions.apply(throw=False)

    assert result.successful(), result.traceback
    assert result.result["renewed"] == len(subs)
    assert len(seen) == 2  # the lost batch's, then the retry's
    assert_books_whole(3, subs)


def test_resellers_are_told_of_holds_committed_before_the_run_lost_its_connection():
    reseller = AccountFactory(kind="reseller", country="US")  # no VAT on either side
    UserFactory(account=reseller, role="reseller_admin")
    customer = customer_of(reseller)
    # Each start uses up the reseller's funding: every renewal is short on its side.
    subs = [
        resold(customer, retail="10.00", wholesale="6.00", reseller_funds="6.00", unit="day")
        for _ in range(4)
    ]
    later = max(s.next_renewal_at for s in subs) + timedelta(hours=1)

    # The first batch (2 rows) commits its "reseller unpaid" holds; the second's claim dies.
    with connection_lost_before("SKIP LOCKED", nth=2), pytest.raises(OperationalError):
        subscriptions_renew_due(now=later, batch_size=2)

    assert Subscription.objects.filter(status="hold", hold_cause="reseller_unpaid").count() == 2
    notice = OutgoingEmail.objects.get(key__startswith=f"reseller-unpaid-renewals:{reseller.pk}:")
    assert "2 of your customers' numbers on hold" in notice.subject
