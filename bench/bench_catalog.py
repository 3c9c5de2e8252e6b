"""Catalog reads at 1,000,000 in-stock numbers across 50 countries and 2,000 cities.

For each query the customer's pages make — the country list, a city list, a filtered city
search and the number search (starts-with, contains, ends-with) — the p95 of the view's
server time (the request handled in-process by Django's test client, templates included),
and one ratio: all those view times ÷ the times of hand-written SQL returning the same rows,
run in the same process.
"""

import os
import statistics
import time
from decimal import Decimal

import phonenumbers
from django.db import connection
from django.test import Client
from django.utils import timezone

from bench.throwaway_db import throwaway_database

NUMBERS = int(os.environ.get("BENCH_CATALOG_NUMBERS", 1_000_000))
COUNTRIES = 50
CITIES_PER_COUNTRY = 40
REPEAT = int(os.environ.get("BENCH_CATALOG_REPEAT", 40))
SOLD_SHARE = 10  # one number in ten is sold or reserved, so statuses are mixed


def _countries():
    """50 countries with distinct calling codes (so generated numbers never collide)."""
    by_code = {}
    for region in sorted(phonenumbers.SUPPORTED_REGIONS - {"001"}, key=lambda r: r != "DE"):
        by_code.setdefault(phonenumbers.country_code_for_region(region), region)
    return list(by_code.values())[:COUNTRIES]


def _fixture():
    from catalog.services import stock_compact
    from inventory import bulk
    from inventory.models import DID, NumberBlock, Operator

    operator = Operator.objects.create(name="Bench Operator")
    per_block = NUMBERS // (COUNTRIES * CITIES_PER_COUNTRY)
    blocks = NumberBlock.objects.bulk_create(
        NumberBlock(
            operator=operator,
            country=country,
            city=f"City {c:02d} {'Zürich' if c % 7 == 0 else 'Town'}",
            region=f"Region {c // 10}",
            area_code=f"{100 + c}",
            number_type="local" if c % 5 else "mobile",
            sms=c % 3 == 0,
            setup_fee=Decimal("1.00") + c % 4,
            monthly_price=Decimal("2.00") + Decimal(c % 9) / 4,
            weekly_price=Decimal("0.60") if c % 2 else None,
            rate_per_minute=Decimal("0.00700"),
            buy_monthly_cost=Decimal("0.50"),
        )
        for country in _countries()
        for c in range(CITIES_PER_COUNTRY)
    )
    now = timezone.now()
    for block in blocks:
        cc = phonenumbers.country_code_for_region(block.country.code)
        numbers = [f"+{cc}{block.area_code}{n:06d}" for n in range(per_block)]
        bulk.insert_dids(
            DID(block=block, status="in_stock", created_at=now, updated_at=now), numbers
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inventory_did SET status = 'reserved' WHERE id %% %s = 0", [SOLD_SHARE]
        )
        cursor.execute("ANALYZE")
    stock_compact()
    return blocks


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def timed(fn, repeat):
    """``repeat`` durations of ``fn()`` in milliseconds, after three warm-up calls."""
    samples = []
    for i in range(repeat + 3):
        start = time.perf_counter()
        fn()
        if i >= 3:  # warm-up
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def _raw(sql, params):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    return run


STOCK = "(SELECT block_id, sum(delta) AS available FROM catalog_stockdelta GROUP BY block_id)"


def _queries(blocks):
    """(figure name, URL, raw SQL returning the same rows, params)."""
    country = "DE" if any(b.country.code == "DE" for b in blocks) else blocks[0].country.code
    cc = phonenumbers.country_code_for_region(country)
    country_blocks = (
        f"SELECT b.id FROM inventory_numberblock b JOIN {STOCK} s ON s.block_id = b.id "
        "WHERE b.country = %s AND s.available > 0"
    )
    number_sql = (
        "SELECT d.number, b.city, b.area_code, b.setup_fee, b.monthly_price, b.rate_per_minute "
        "FROM inventory_did d JOIN inventory_numberblock b ON b.id = d.block_id "
        f"WHERE d.status = 'in_stock' AND d.block_id IN ({country_blocks}) AND d.number LIKE %s "
        "ORDER BY d.number LIMIT 26"
    )
    return [
        (
            "country_list",
            "/numbers/",
            "SELECT b.country, sum(s.available), count(DISTINCT b.city), min(b.monthly_price), "
            f"min(b.setup_fee) FROM inventory_numberblock b JOIN {STOCK} s ON s.block_id = b.id "
            "WHERE s.available > 0 GROUP BY b.country ORDER BY b.country",
            [],
        ),
        (
            "city_list",
            f"/numbers/{country}/",
            "SELECT b.* FROM inventory_numberblock b JOIN "
            f"{STOCK} s ON s.block_id = b.id WHERE b.country = %s AND s.available > 0 "
            "ORDER BY b.city, b.area_code",
            [country],
        ),
        (
            "city_search",
            f"/numbers/{country}/?q=zurich&type=local&service=voice",
            "SELECT b.* FROM inventory_numberblock b JOIN "
            f"{STOCK} s ON s.block_id = b.id WHERE b.country = %s AND s.available > 0 "
            "AND b.number_type = 'local' AND b.voice AND b.city ILIKE '%%z_rich%%' "
            "ORDER BY b.city, b.area_code",
            [country],
        ),
        (
            "number_starts",
            f"/numbers/{country}/search/?n=120000&match=starts",
            number_sql,
            [country, f"+{cc}120000%"],
        ),
        (
            "number_contains",
            f"/numbers/{country}/search/?n=00123&match=contains",
            number_sql,
            [country, "%00123%"],
        ),
        (
            "number_ends",
            f"/numbers/{country}/search/?n=0321&match=ends",
            number_sql,
            [country, "%0321"],
        ),
    ]


def run():
    if connection.vendor != "postgresql":
        print("  skipped: bench_catalog needs PostgreSQL (set DATABASE_URL=postgres://...)")
        return {}
    with throwaway_database("catalog_bench"):
        started = time.perf_counter()
        blocks = _fixture()
        print(f"  fixture: {NUMBERS} numbers in {time.perf_counter() - started:.0f} s")
        return _measure(blocks)


def _measure(blocks):
    from django.test.utils import override_settings

    results, view_total, raw_total = {}, 0.0, 0.0
    client = Client()
    with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False, SECURE_SSL_REDIRECT=False):
        for name, url, sql, params in _queries(blocks):
            status = client.get(url).status_code
            assert status == 200, (url, status)
            view = timed(lambda url=url: client.get(url), REPEAT)
            raw = timed(_raw(sql, params), REPEAT)
            view_total += statistics.median(view)
            raw_total += statistics.median(raw)
            results[f"catalog_{name}_p95_ms"] = {
                "value": round(percentile(view, 0.95), 2),
                "unit": "ms",
                "detail": (
                    f"GET {url}: p50 {statistics.median(view):.2f} ms over {REPEAT} requests; "
                    f"raw SQL p50 {statistics.median(raw):.2f} ms; {NUMBERS} numbers"
                ),
            }
    results["catalog_vs_raw_sql_ratio"] = {
        "value": round(view_total / raw_total, 2),
        "unit": "x",
        "detail": "sum of view p50s ÷ sum of raw-SQL p50s over the six queries above",
    }
    return results
