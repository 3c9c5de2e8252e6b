"""Checkout: single-number orders through ``order_place`` with concurrent workers, and a race.

``checkout_orders_per_s``: orders per second, WORKERS threads each placing single-number
orders (claim with skip_locked, sale with history, subscription, VAT charge, invoice with its
gap-free number, outbox e-mail) for its own account. ``checkout_vs_raw_sql_ratio``: the same
number of orders written as bare SQL (claim a number, debit the balance, one ledger row) by
the same threads, divided by ours: how much of the work is the portal's bookkeeping.
``checkout_race_double_sells``: ROUNDS rounds of 20 buyers racing for the same 5 numbers;
numbers sold more than once (must be 0). ``checkout_1000_numbers_statements_per_number`` and
``checkout_1000_numbers_s``: one order of 1,000 numbers (a reseller's bulk buy, placed as the
API places it: no e-mailed code), its SQL statements (counted by a connection execute
wrapper, BEGIN to COMMIT and the idempotency look-up before) per number and its time; the
detail gives the statements per number of 1-, 10- and 100-number orders too.
"""

import os
import threading
import time
from contextlib import contextmanager
from decimal import Decimal

from django.db import connection, transaction

from bench.throwaway_db import throwaway_database

WORKERS = int(os.environ.get("BENCH_CHECKOUT_WORKERS", 4))
ORDERS_PER_WORKER = int(os.environ.get("BENCH_CHECKOUT_ORDERS", 100))
ROUNDS = int(os.environ.get("BENCH_CHECKOUT_ROUNDS", 10))
RACERS, CONTESTED = 20, 5
BULK_SIZES = (1, 10, 100, 1000)


def _threads(work, count):
    barrier = threading.Barrier(count)
    errors = []

    def run(i):
        try:
            barrier.wait()
            work(i)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise AssertionError(f"checkout bench failed: {errors[:3]}")
    return time.perf_counter() - started


def _fixture(stock):
    from accounts.models import Account
    from inventory.models import DID, NumberBlock, Operator

    platform = Account.objects.create(kind="platform", name="Bench Carrier", country="NL")
    operator = Operator.objects.create(name="Bench operator")
    block = NumberBlock.objects.create(
        operator=operator,
        country="DE",
        city="Berlin",
        area_code="30",
        number_type="local",
        setup_fee=Decimal("1.00"),
        monthly_price=Decimal("2.00"),
    )
    DID.objects.bulk_create(
        (DID(number=f"+4930{5000000 + i}", block=block) for i in range(stock)), batch_size=5000
    )
    return platform, block


def _buyer(platform, name, funds="100000.00"):
    from accounts.models import Account, User
    from billing.services import topup_record

    account = Account.objects.create(kind="customer", parent=platform, name=name, country="DE")
    user = User.objects.create_user(
        email=f"{name.replace(' ', '-').lower()}@bench.test", account=account, role="customer_admin"
    )
    topup_record(
        account=account, amount=funds, external_reference=f"bench-{name}", actor=None, job="bench"
    )
    return user


def _orders(platform, block):
    from cart.models import Cart, CartItem
    from cart.orders import order_place

    users = [_buyer(platform, f"Buyer {i}") for i in range(WORKERS)]
    carts = [Cart.objects.create(user=u, account=u.account) for u in users]

    def work(i):
        for n in range(ORDERS_PER_WORKER):
            CartItem.objects.create(
                cart=carts[i], block=block, quantity=1, channels=1, billing_period="monthly"
            )
            order = order_place(user=users[i], token=f"bench-{i}-{n}")
            if order.status != "completed":
                raise AssertionError(f"order {order.pk} {order.status}")

    return _threads(work, WORKERS)


RAW_ORDER = """
WITH claimed AS (
    UPDATE inventory_did SET status = 'active', owner_id = %(account)s, ever_sold = true
    WHERE id = (SELECT id FROM inventory_did WHERE block_id = %(block)s AND status = 'in_stock'
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING id
), debited AS (
    UPDATE billing_balance SET amount = amount - %(gross)s, updated_at = now()
    WHERE account_id = %(account)s RETURNING amount
)
INSERT INTO billing_ledgerentry (account_id, kind, amount, balance_after, idempotency_key,
    reference_type, reference_id, description, created_by_job, method, external_reference,
    reason, created_at)
SELECT %(account)s, 'charge', -%(gross)s, debited.amount, %(key)s, 'did', claimed.id::text,
    '', 'bench', '', '', '', now()
FROM claimed, debited
"""


def _raw_orders(platform, block):
    users = [_buyer(platform, f"Raw buyer {i}") for i in range(WORKERS)]

    def work(i):
        account = users[i].account_id
        for n in range(ORDERS_PER_WORKER):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT amount FROM billing_balance WHERE account_id = %s FOR UPDATE",
                    [account],
                )
                cursor.execute(
                    RAW_ORDER,
                    {
                        "account": account,
                        "block": block.pk,
                        "gross": Decimal("3.57"),
                        "key": f"raw-{i}-{n}",
                    },
                )

    return _threads(work, WORKERS)


def _race(platform):
    from django.db.models import Count

    from billing.models import Subscription
    from cart.models import Cart, CartItem
    from cart.orders import order_place
    from inventory.models import DID

    block = _fixture_block()
    users = [_buyer(platform, f"Racer {i}") for i in range(RACERS)]
    carts = [Cart.objects.create(user=u, account=u.account) for u in users]
    dids = list(DID.objects.filter(block=block).order_by("pk"))
    for round_ in range(ROUNDS):
        contested = dids[round_ * CONTESTED : (round_ + 1) * CONTESTED]
        for cart in carts:
            CartItem.objects.bulk_create(
                CartItem(cart=cart, block=block, did=did, channels=1, billing_period="monthly")
                for did in contested
            )
        _threads(lambda i, r=round_: order_place(user=users[i], token=f"race-{r}-{i}"), RACERS)
        CartItem.objects.all().delete()
    sold_twice = (
        Subscription.objects.filter(did__block=block)
        .values("did")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    sold = DID.objects.filter(block=block, status="active").count()
    return sold_twice, sold


@contextmanager
def _counting():
    """Count the statements sent on this thread's connection."""
    sent = []

    def count(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield sent


def _bulk_orders(platform):
    """One order per size in BULK_SIZES; returns {size: (statements, seconds)}."""
    from cart.models import Cart, CartItem
    from cart.orders import order_place

    block = _fixture_block(
        stock=sum(BULK_SIZES), city="Hamburg", area_code="40", name="Bulk operator"
    )
    user = _buyer(platform, "Bulk buyer", funds="1000000.00")
    cart = Cart.objects.create(user=user, account=user.account)
    figures = {}
    for size in BULK_SIZES:
        CartItem.objects.create(
            cart=cart, block=block, quantity=size, channels=1, billing_period="monthly"
        )
        with _counting() as sent:
            started = time.perf_counter()
            order = order_place(user=user, token=f"bulk-{size}", by_api_key=True)
            elapsed = time.perf_counter() - started
        if order.status != "completed" or order.items.count() != size:
            raise AssertionError(f"bulk order of {size}: {order.status}")
        figures[size] = (len(sent), elapsed)
    return figures


def _fixture_block(stock=ROUNDS * CONTESTED, city="Munich", area_code="89", name="Race operator"):
    from inventory.models import DID, NumberBlock, Operator

    block = NumberBlock.objects.create(
        operator=Operator.objects.create(name=name),
        country="DE",
        city=city,
        area_code=area_code,
        number_type="local",
        monthly_price=Decimal("2.00"),
    )
    DID.objects.bulk_create(
        (DID(number=f"+49{area_code}{5000000 + i}", block=block) for i in range(stock)),
        batch_size=5000,
    )
    return block


def run():
    if connection.vendor != "postgresql":
        return {}
    from billing.selectors import balance_mismatches
    from didportal.celery import conf_override

    # Jobs enqueued after commit (PDF, e-mail) go to an in-memory broker: the figure is the
    # checkout's, not a broker's.
    conf_override(broker_url="memory://")
    orders = WORKERS * ORDERS_PER_WORKER
    with throwaway_database("checkout_bench"):
        platform, block = _fixture(stock=2 * orders + 100)
        elapsed = _orders(platform, block)
        raw_elapsed = _raw_orders(platform, block)
        sold_twice, sold = _race(platform)
        bulk = _bulk_orders(platform)
        mismatches = balance_mismatches().exclude(name__startswith="Raw").count()
    if mismatches or sold != ROUNDS * CONTESTED:
        raise AssertionError(f"checkout bench: {mismatches} mismatches, {sold} sold in the race")
    return {
        "checkout_orders_per_s": {
            "value": round(orders / elapsed, 1),
            "unit": "orders/s",
            "detail": f"{orders} single-number orders by {WORKERS} concurrent buyers through "
            f"order_place in {elapsed:.1f}s (sale, subscription, VAT charge, invoice, e-mail)",
        },
        "checkout_vs_raw_sql_ratio": {
            "value": round(elapsed / raw_elapsed, 1),
            "unit": "× raw SQL",
            "detail": f"the same {orders} claims + debits as bare SQL took {raw_elapsed:.2f}s",
        },
        "checkout_race_double_sells": {
            "value": sold_twice,
            "unit": "numbers",
            "detail": f"{ROUNDS} rounds of {RACERS} buyers racing for the same {CONTESTED} "
            f"numbers: {sold} sold, each once",
        },
        "checkout_1000_numbers_statements_per_number": {
            "value": round(bulk[1000][0] / 1000, 3),
            "unit": "statements/number",
            "detail": f"{bulk[1000][0]} SQL statements for one 1,000-number order; per number "
            + ", ".join(f"{n}: {count / n:.2f}" for n, (count, _) in bulk.items())
            + " (numbers in the order: statements per number)",
        },
        "checkout_1000_numbers_s": {
            "value": round(bulk[1000][1], 2),
            "unit": "s",
            "detail": "one 1,000-number order through order_place (sale and history, "
            "subscriptions, VAT charges, invoice, e-mail); "
            + ", ".join(f"{n}: {seconds:.3f}s" for n, (_, seconds) in bulk.items()),
        },
    }
