"""kill -9 of Celery workers at random points of a 1,000-subscription renewal run, then a
restart: every period charged once, none missed.

Seeded once and saved: 1,000 subscriptions (daily, weekly, monthly; direct customers and
resellers' customers, whose periods are charged on both sides) with one to three periods
due now. Per seed (20): the saved data back, two workers, two renewal runs enqueued at once
(two overlapping ticks: the workers share the due rows), one worker — or both — killed with
SIGKILL at a random moment of the run, the killed ones restarted, and the next tick of the
schedule enqueued (a killed worker's message waits in Redis for the broker's visibility
timeout, an hour: the next ten-minute tick is what catches up). Then, from the database:
- duplicate charges: charges beyond a period that was due, a period charged twice, renewal
  debits on the ledger without their charge;
- missed periods: a period due (both sides of a resold one) with no charge.
"""

import os
import random
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

SEEDS = int(os.environ.get("FAULTS_KILL9_SEEDS", 20))
ACCOUNTS = 50  # 20 subscriptions each
PER_ACCOUNT = 20
RESELLERS = 2
RESOLD_ACCOUNTS = 10  # of the 50, customers of the resellers
SNAPSHOT = "renew1000"
JOB = "renew_subscriptions"
WORKERS = ("worker1", "worker2")
KILL_WINDOW_S = 3.0


def seed():
    """1,000 subscriptions with one to three periods due now, every balance ample."""
    from django.utils import timezone

    from accounts.models import Account
    from billing.services.subscriptions import subscription_start
    from inventory.choices import DIDStatus
    from inventory.models import DID
    from tests.billing.factories import fund
    from tests.factories import AccountFactory, platform
    from tests.inventory.factories import NumberBlockFactory

    now = timezone.now()
    rng = random.Random(15)
    platform()
    resellers = [
        AccountFactory(kind=Account.Kind.RESELLER, name=f"Reseller {i}") for i in range(RESELLERS)
    ]
    for reseller in resellers:
        fund(reseller, "1000000.00")
    block = NumberBlockFactory()
    accounts = []
    for i in range(ACCOUNTS):
        reseller = resellers[i % RESELLERS] if i < RESOLD_ACCOUNTS else None
        account = AccountFactory(
            name=f"Renewing {i}",
            parent=reseller or platform(),
            country=rng.choice(["DE", "NL", "US"]),
        )
        fund(account, "100000.00")
        accounts.append((account, reseller))
    # The numbers sold (as a checkout leaves them), written together: the seed is not the test.
    dids = DID.objects.bulk_create(
        DID(
            number=f"+3120{serial:07d}",
            block=block,
            status=DIDStatus.ACTIVE,
            ever_sold=True,
            owner=account,
        )
        for serial, (account, _) in enumerate(
            (pair for pair in accounts for _ in range(PER_ACCOUNT)), start=1
        )
    )
    _seed_short_payers(now, block, platform)
    for serial, did in enumerate(dids, start=1):
        account, reseller = accounts[(serial - 1) // PER_ACCOUNT]
        unit = rng.choice(["day", "day", "week", "month"])
        due = rng.choice([1, 1, 2, 3])
        # ``due`` periods after the first have started, the next one starts in days:
        # the figures don't move while the scenario runs.
        started = now - {"day": timedelta(days=due), "week": timedelta(weeks=due)}.get(
            unit, timedelta(days=31 * due + 1)
        )
        started -= timedelta(hours=2)
        price = Decimal(rng.choice(["1.00", "2.50", "4.99"]))
        resold = {}
        if reseller is not None:
            resold = {"wholesale_recurring_price": price - Decimal("0.50")}
        subscription_start(
            account=account,
            did=did,
            billing_type="recurring",
            period_unit=unit,
            recurring_price=price,
            idempotency_key=f"faults:renew:{serial}",
            job="faults",
            now=started,
            **resold,
        )


def _seed_short_payers(now, block, platform):
    """A reseller whose balance covers 8 of its 20 customers' renewals ("reseller unpaid"
    holds, told in one notice per batch) and a customer whose balance covers 4 of its 10
    ("renewal failed" e-mails): a kill must lose none of those e-mails."""
    from accounts.models import Account
    from billing.services.subscriptions import subscription_start
    from inventory.choices import DIDStatus
    from inventory.models import DID
    from tests.billing.factories import fund
    from tests.factories import AccountFactory, UserFactory

    reseller = AccountFactory(kind=Account.Kind.RESELLER, name="Short reseller", country="US")
    UserFactory(account=reseller, role="reseller_admin")
    customer = AccountFactory(name="Short customer", parent=platform(), country="US")
    UserFactory(account=customer, role="customer_admin")
    resold = AccountFactory(name="Short reseller's customer", parent=reseller, country="US")
    UserFactory(account=resold, role="customer_admin")
    fund(reseller, "28.00")  # 20 first periods of 1.00 wholesale, then 8 renewals
    fund(customer, "14.00")  # 10 first periods of 1.00, then 4 renewals
    fund(resold, "1000.00")
    for n, account in enumerate([resold] * 20 + [customer] * 10):
        did = DID.objects.create(
            number=f"+3129{n:07d}",
            block=block,
            status=DIDStatus.ACTIVE,
            ever_sold=True,
            owner=account,
        )
        wholesale = {"wholesale_recurring_price": Decimal("1.00")} if account == resold else {}
        subscription_start(
            account=account,
            did=did,
            billing_type="recurring",
            period_unit="day",
            recurring_price=Decimal("1.50" if account == resold else "1.00"),
            idempotency_key=f"faults:renew:short:{n}",
            job="faults",
            now=now - timedelta(days=1, hours=2),
            **wholesale,
        )


def expected_periods(now):
    """(subscription, side) → the period indexes due by ``now`` after the first."""
    from billing.models import Subscription
    from billing.periods import period_start

    expected = {}
    for sub in Subscription.objects.all():
        indexes = []
        index = sub.current_period_index + 1
        while period_start(sub.anchor_at, sub.period_unit, sub.period_count, index) <= now:
            indexes.append(index)
            index += 1
        sides = ["sale", "wholesale"] if sub.reseller_id else ["sale"]
        for side in sides:
            expected[(sub.pk, side)] = indexes
    return expected


def count(expected):
    from billing.models import LedgerEntry, Subscription, SubscriptionCharge
    from billing.selectors import balance_mismatches

    charged = Counter(
        SubscriptionCharge.objects.filter(created_by_job=JOB).values_list(
            "subscription_id", "side", "period_index"
        )
    )
    wanted = {(pk, side, i) for (pk, side), indexes in expected.items() for i in indexes}
    twice = sum(n - 1 for n in charged.values())
    beyond = sum(1 for key in charged if key not in wanted)
    # A period of a subscription on hold is not charged: its payer ran short (and is told).
    held = set(Subscription.objects.filter(status="hold").values_list("pk", flat=True))
    missed = sum(1 for key in wanted if key not in charged and key[0] not in held)
    unpaid = sum(1 for key in wanted if key not in charged and key[0] in held)
    debits = LedgerEntry.objects.filter(kind="charge", created_by_job=JOB)
    unlinked = debits.filter(subscription_charge__isnull=True).count()
    return {
        "charges": sum(charged.values()),
        "expected": len(wanted),
        "duplicates": twice + beyond + unlinked,
        "missed": missed,
        "unpaid": unpaid,
        "mismatches": len(list(balance_mismatches())),
        "held": len(held),
        "untold": _untold_holds(),
    }


def _untold_holds():
    """Subscriptions on hold whose payer was not told: a "renewal failed" e-mail to the
    customer, or the number in a reseller's notice."""
    from billing.models import Subscription
    from outbox.models import OutgoingEmail

    notices = " ".join(
        OutgoingEmail.objects.filter(key__startswith="reseller-unpaid-renewals:").values_list(
            "text", flat=True
        )
    )
    failed = set(
        OutgoingEmail.objects.filter(key__startswith="renewal-failed:").values_list(
            "key", flat=True
        )
    )
    untold = 0
    for sub in Subscription.objects.filter(status="hold").select_related("did"):
        if sub.hold_cause == "reseller_unpaid":
            untold += sub.did.number not in notices
        else:
            untold += f"renewal-failed:{sub.pk}:{sub.renewal_failed_at.isoformat()}" not in failed
    return untold


def run(stack):
    from billing.tasks import renew_subscriptions

    started = time.monotonic()
    seed()
    stack.database_save(SNAPSHOT)
    seeded = time.monotonic() - started
    rng = random.Random(1500)
    totals, landed = Counter(), Counter()
    kills, run_seconds = 0, []
    # Started once, restarted only when killed. CONN_MAX_AGE=0: an idle worker holds no
    # database connection, so each seed's data is restored under running workers.
    _workers_start(stack, WORKERS)
    for number in range(SEEDS):
        stack.database_reset(SNAPSHOT, keep=WORKERS)
        expected = expected_periods(_now())
        # Two ticks at once: both workers renew, sharing the due rows batch by batch.
        enqueued = time.monotonic()
        renew_subscriptions.delay()
        renew_subscriptions.delay()
        # From the moment a worker takes a run: the run takes ~1-3 s here, so a kill lands
        # anywhere from inside its first batch to just after it has ended.
        stack._wait(lambda: _taken(stack), "a worker to take the run", 60)
        time.sleep(rng.uniform(0.0, KILL_WINDOW_S))
        victims = list(WORKERS) if rng.random() < 0.25 else [rng.choice(WORKERS)]
        for name in victims:
            stack.kill9(name)
            kills += 1
        at_kill = _charged()
        landed[_where(at_kill)] += 1
        _workers_start(stack, victims)
        renew_subscriptions.delay()  # the schedule's next tick
        stack.wait_tasks_done(WORKERS, timeout=120)
        run_seconds.append(time.monotonic() - enqueued)
        figures = count(expected)
        totals.update(figures)
        print(
            f"    seed {number}: killed {'+'.join(victims)} with {at_kill} charges committed:"
            f" {figures}",
            flush=True,
        )
    stack.stop_all(keep=("redis",))
    detail = (
        f"{SEEDS} seeds, two workers, {kills} SIGKILLs (landing {dict(sorted(landed.items()))}),"
        f" then restart and the next tick: {totals['charges']} renewal charges made vs"
        f" {totals['expected']} due ({totals['unpaid']} of them unpaid: on hold, the payer"
        f" short); {totals['mismatches']} balances not matching their"
        f" ledger; seeded in {seeded:.0f} s, {sum(run_seconds) / SEEDS:.1f} s per seed"
    )
    return {
        "renewal_kill9_duplicate_charges": {
            "value": totals["duplicates"] + totals["mismatches"],
            "unit": "count",
            "detail": detail,
            "expected": 0,
        },
        "renewal_kill9_missed_periods": {
            "value": totals["missed"],
            "unit": "count",
            "detail": detail,
            "expected": 0,
        },
        "renewal_kill9_untold_holds": {
            "value": totals["untold"],
            "unit": "count",
            "detail": f"{totals['held']} holds over {SEEDS} seeds (a payer short), each told"
            " by e-mail: the customer's renewal failed, or the number in its reseller's notice",
            "expected": 0,
        },
    }


def _workers_start(stack, names):
    for name in names:
        stack.worker_start(name, concurrency=1, wait=False, CONN_MAX_AGE=0)
    for name in names:
        stack.worker_wait_ready(name)


def _taken(stack):
    return any(
        "renew_subscriptions[" in line and line.endswith("received")
        for name in WORKERS
        for line in stack.log(name).splitlines()
    )


def _charged():
    from billing.models import SubscriptionCharge

    return SubscriptionCharge.objects.filter(created_by_job=JOB).count()


def _where(at_kill):
    """Where in the run a kill landed, by the charges committed at that moment."""
    return "in or before the first batch" if at_kill == 0 else "after a batch committed"


def _now():
    from django.utils import timezone

    return timezone.now()
