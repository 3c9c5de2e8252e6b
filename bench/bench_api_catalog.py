"""``GET /v3/available_dids`` at 1,000,000 numbers: one 50-number page through the whole API
stack (key check, throttle, filters, paging with ``meta.total_records``, JSON:API
rendering), handled in-process by Django's test client, against the same work in raw SQL.

The numbers are generated set-based in SQL (``generate_series``, one INSERT), one in ten is
then reserved (not for sale) and a thousand are held in carts (a few of them expired), so
the stock triggers, the hold predicate and the count have something to do.

What the page costs: the rows come from the partial index over in-stock numbers in number
order that carries the hold columns (catalog migration 0006: an index-only scan, ``LIMIT
50``); ``total_records`` is the trigger-maintained stock sum plus the held numbers
the buyer may still see (two small reads), not a ``count(*)`` of a million rows. The raw
SQL side runs exactly those statements. The deep page (page 2000: OFFSET 99,950, or half-way
on a smaller run) shows what page numbers cost further in; the naive ``count(*)`` what the
cheap count saves.
"""

import os
import statistics
import time

from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from bench.bench_catalog import percentile, timed
from bench.throwaway_db import throwaway_database

NUMBERS = int(os.environ.get("BENCH_API_NUMBERS", 1_000_000))
COUNTRIES, CITIES = 50, 20
REPEAT = int(os.environ.get("BENCH_API_REPEAT", 60))
PAGE = 50
DEEP_PAGE = 2000

# The page's rows, the stock sum, the held numbers the buyer sees, and the page's blocks
# with their stock: what the view asks (``api.selectors_catalog.AvailableDids``,
# ``with_groups``), as plain SQL.
RAW_PAGE = (
    "SELECT d.id, d.number, d.block_id FROM inventory_did d "
    "WHERE d.status = 'in_stock' AND (d.cart_held_until IS NULL OR d.cart_held_until < now() "
    "OR d.cart_held_by_id = %s) ORDER BY d.number LIMIT %s OFFSET %s"
)
RAW_STOCK = "SELECT sum(delta) FROM catalog_stockdelta"
RAW_HELD = (
    "SELECT count(*) FROM inventory_did WHERE cart_held_until IS NOT NULL "
    "AND status = 'in_stock' AND (cart_held_until < now() OR cart_held_by_id = %s)"
)
RAW_BLOCKS = (
    "SELECT b.*, (SELECT sum(delta) FROM catalog_stockdelta s WHERE s.block_id = b.id) "
    "FROM inventory_numberblock b LEFT JOIN compliance_requirement r ON r.id = b.requirement_id "
    "WHERE b.id = ANY(%s)"
)
NAIVE_COUNT = (
    "SELECT count(*) FROM inventory_did d WHERE d.status = 'in_stock' AND "
    "(d.cart_held_until IS NULL OR d.cart_held_until < now() OR d.cart_held_by_id = %s)"
)


def _countries():
    import phonenumbers  # noqa: PLC0415

    by_code = {}
    for region in sorted(phonenumbers.SUPPORTED_REGIONS - {"001"}):
        by_code.setdefault(phonenumbers.country_code_for_region(region), region)
    return list(by_code.items())[:COUNTRIES]


def _fixture():
    from decimal import Decimal  # noqa: PLC0415

    from accounts.models import Account, User  # noqa: PLC0415
    from api.services import api_key_create  # noqa: PLC0415
    from catalog.services import stock_compact  # noqa: PLC0415
    from inventory.models import NumberBlock, Operator  # noqa: PLC0415

    operator = Operator.objects.create(name="Bench Operator")
    NumberBlock.objects.bulk_create(
        NumberBlock(
            operator=operator,
            country=iso,
            region=f"Region {c // 5}",
            city=f"City {c:02d}",
            area_code=f"{200 + c}",
            tag=f"{code}{200 + c}",  # the digits every number of the block starts with
            monthly_price=Decimal("2.00") + Decimal(c % 7) / 4,
            setup_fee=Decimal("1.00"),
        )
        for code, iso in _countries()
        for c in range(CITIES)
    )
    per_block = NUMBERS // (COUNTRIES * CITIES)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inventory_did (number, status, after_hold_status, destination, tag, "
            "notes, description, ever_sold, unpaid, created_at, updated_at, block_id) "
            "SELECT '+' || b.tag || lpad(g::text, 6, '0'), 'in_stock', 'in_stock', '', '', '', "
            "'', false, false, now(), now(), b.id "
            "FROM inventory_numberblock b CROSS JOIN generate_series(0, %s) g",
            [per_block - 1],
        )
    platform = Account.objects.create(name="Bench Carrier", kind="platform")
    customer = Account.objects.create(name="Bench Buyer", kind="customer", parent=platform)
    user = User.objects.create(email="buyer@bench.test", account=customer, role="customer_admin")
    other = User.objects.create(email="other@bench.test", account=customer, role="customer_admin")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_did SET status = 'reserved' WHERE id % 10 = 0")
        cursor.execute(
            "UPDATE inventory_did SET cart_held_by_id = %s, cart_held_until = now() + "
            "CASE WHEN id %% 7 = 0 THEN interval '-1 minute' ELSE interval '15 minutes' END "
            "WHERE id %% 1000 = 1",
            [other.pk],
        )
    stock_compact()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # a table at rest, as autovacuum leaves it
    _key, secret = api_key_create(user=user, name="bench", read_only=True)
    return user, secret


def _raw(user_pk, offset):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(RAW_PAGE, [user_pk, PAGE, offset])
            rows = cursor.fetchall()
            cursor.execute(RAW_STOCK)
            cursor.fetchall()
            cursor.execute(RAW_HELD, [user_pk])
            cursor.fetchall()
            cursor.execute(RAW_BLOCKS, [sorted({row[2] for row in rows})])
            cursor.fetchall()

    return run


def run():
    if connection.vendor != "postgresql":
        print("  skipped: bench_api_catalog needs PostgreSQL (set DATABASE_URL=postgres://...)")
        return {}
    with throwaway_database("api_catalog_bench"):
        started = time.perf_counter()
        user, secret = _fixture()
        print(f"  fixture: {NUMBERS} numbers in {time.perf_counter() - started:.0f} s")
        return _measure(user, secret)


def _measure(user, secret):
    client = Client(HTTP_API_KEY=secret, HTTP_ACCEPT="application/vnd.api+json")
    results = {}
    with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False, SECURE_SSL_REDIRECT=False):
        first = client.get(f"/v3/available_dids?page[size]={PAGE}").json()
        deep = max(2, min(DEEP_PAGE, first["meta"]["total_records"] // PAGE // 2))
        for label, page in (("", 1), ("_deep_page", deep)):
            offset = (page - 1) * PAGE
            url = f"/v3/available_dids?page[size]={PAGE}&page[number]={page}"
            response = client.get(url)
            assert response.status_code == 200, (url, response.content[:300])
            body = response.json()
            assert len(body["data"]) == PAGE
            total = body["meta"]["total_records"]
            view = timed(lambda url=url: client.get(url), REPEAT)
            raw = timed(_raw(user.pk, offset), REPEAT)
            name = f"api_available_dids{label}"
            detail = (
                f"GET {url}: p50 {statistics.median(view):.2f} ms over {REPEAT} requests, "
                f"raw SQL p50 {statistics.median(raw):.2f} ms; {total} of {NUMBERS} numbers "
                "buyable (meta.total_records)"
            )
            results[f"{name}_p95_ms"] = {
                "value": round(percentile(view, 0.95), 2),
                "unit": "ms",
                "detail": detail,
            }
            results[f"{name}_raw_sql_p95_ms"] = {
                "value": round(percentile(raw, 0.95), 2),
                "unit": "ms",
                "detail": "the page, the stock sum, the held count and the page's blocks, raw SQL",
            }
            results[f"{name}_vs_raw_sql_ratio"] = {
                "value": round(statistics.median(view) / statistics.median(raw), 2),
                "unit": "x",
                "detail": "view p50 ÷ raw-SQL p50 (p95s above)",
            }
        naive = timed(_raw_count(user.pk), REPEAT)
        results["api_available_dids_naive_count_p95_ms"] = {
            "value": round(percentile(naive, 0.95), 2),
            "unit": "ms",
            "detail": "count(*) of the buyable numbers, what total_records would cost on each "
            "page without the stock deltas",
        }
    return results


def _raw_count(user_pk):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(NAIVE_COUNT, [user_pk])
            cursor.fetchall()

    return run
