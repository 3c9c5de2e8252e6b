"""Catalog reads at 1,000,000 and then 10,000,000 numbers across 50 countries and 2,000 cities.

For each query the customer's pages make — the country list, a city list, a filtered city
search and the number search (starts-with, contains, ends-with) — the p95 of the view's
server time (the request handled in-process by Django's test client, templates included),
and one ratio per size: all those view times ÷ the times of hand-written SQL returning the
same rows, run in the same process. The hand-written number search takes the view's access
path (the country's range of the number index, ids first; the reversed number for
ends-with), so the ratio is what Django adds, not a worse plan on either side.

The numbers are generated set-based (``INSERT … SELECT … generate_series``); the 10,000,000
are the 1,000,000 grown in place (numbers 500–4,999 of every block added), so the larger run
costs one more INSERT and one index build, not a second fixture.
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

# Measured at each size in turn, the larger set grown from the smaller one.
SIZES = [
    int(size) for size in os.environ.get("BENCH_CATALOG_NUMBERS", "1000000,10000000").split(",")
]
COUNTRIES = 50
CITIES_PER_COUNTRY = 40
REPEAT = int(os.environ.get("BENCH_CATALOG_REPEAT", 40))
# Above 1,000,000 numbers each request costs more and the fixture most of the time: fewer.
REPEAT_LARGE = int(os.environ.get("BENCH_CATALOG_REPEAT_LARGE", 20))
SOLD_SHARE = 10  # one number in ten is sold or reserved, so statuses are mixed


def _countries():
    """50 countries with distinct calling codes (so generated numbers never collide)."""
    by_code = {}
    for region in sorted(phonenumbers.SUPPORTED_REGIONS - {"001"}, key=lambda r: r != "DE"):
        by_code.setdefault(phonenumbers.country_code_for_region(region), region)
    return list(by_code.values())[:COUNTRIES]


def _blocks():
    from inventory.models import NumberBlock, Operator

    operator = Operator.objects.create(name="Bench Operator")
    return NumberBlock.objects.bulk_create(
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


def _secondary_indexes():
    """(name, definition) of inventory_did's indexes that back no constraint."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.tablename = 'inventory_did' AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))"
            "::regclass)"
        )
        return cursor.fetchall()


def _checked_constraints():
    """(name, definition) of inventory_did's foreign keys and unique constraints (not its
    primary key): each checked row by row on INSERT (a queued trigger event per row and
    key for the deferred foreign keys), where adding them back checks all rows at once."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'inventory_did'::regclass AND contype IN ('f', 'u') ORDER BY conname"
        )
        return cursor.fetchall()


def _numbers_add(blocks, first, last):
    """Numbers ``first`` … ``last - 1`` of every block (``+<calling code><area><6 digits>``),
    one INSERT … SELECT over ``generate_series``; one in ten (SOLD_SHARE) reserved, so
    statuses are mixed. Every other column is an unsaved template DID's, so new columns
    with Python defaults need no change here. The table's secondary indexes, foreign keys
    and unique constraint on the number are dropped for the insert and put back after it
    (a sorted build and one validating join, far quicker than checking and indexing
    millions of rows one by one: 300,000 rows went in in 5.1 s instead of 9.3 s); the
    stock triggers run as for any INSERT. The table ends as the migrations left it.

    The rows are written in number order without sorting them: the blocks go in by
    prefix and each block's numbers in series order, which is number order as long as no
    block's prefix begins another's (checked). With the sort gone (and VACUUM limited to
    the tables written) the 1,000,000 step went from 44–48 s to 31 s on the loaded
    machine. Returns each phase's seconds."""
    from catalog.services import stock_compact
    from inventory.models import DID

    now = timezone.now()
    template = DID(block=blocks[0], status="in_stock", created_at=now, updated_at=now)
    fields = [field for field in DID._meta.concrete_fields if not field.primary_key]
    columns, values, params = [], [], []
    for field in fields:
        columns.append(connection.ops.quote_name(field.column))
        if field.name == "number":
            values.append("'+' || b.prefix || lpad(g::text, 6, '0')")
        elif field.name == "block":
            values.append("b.id")
        elif field.name == "status":
            values.append(f"CASE WHEN g %% {SOLD_SHARE} = 0 THEN 'reserved' ELSE 'in_stock' END")
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(getattr(template, field.attname), connection))
    by_prefix = sorted(
        (f"{phonenumbers.country_code_for_region(block.country.code)}{block.area_code}", block.pk)
        for block in blocks
    )
    for (prefix, _), (following, _) in zip(by_prefix, by_prefix[1:], strict=False):
        assert not following.startswith(prefix), (prefix, following)  # see above
    phases, clock = {}, time.perf_counter()

    def phase(name):
        nonlocal clock
        phases[name] = time.perf_counter() - clock
        clock = time.perf_counter()

    indexes, constraints = _secondary_indexes(), _checked_constraints()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for name, _definition in constraints:
            cursor.execute(f"ALTER TABLE inventory_did DROP CONSTRAINT {quote(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
        cursor.execute(
            f"INSERT INTO inventory_did ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(values)} "
            "FROM unnest(%s::text[], %s::bigint[]) AS b (prefix, id) "
            "CROSS JOIN LATERAL generate_series(%s, %s) AS g",
            [*params, *map(list, zip(*by_prefix, strict=True)), first, last - 1],
        )
        phase("insert")
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, definition in constraints:
            cursor.execute(f"ALTER TABLE inventory_did ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute("RESET maintenance_work_mem")
        phase("indexes")
    stock_compact()
    with connection.cursor() as cursor:
        # A table at rest, as autovacuum leaves it: statistics, and the visibility map
        # the index-only scans of the number search rely on.
        cursor.execute("VACUUM (ANALYZE) inventory_did, catalog_stockdelta, inventory_numberblock")
    phase("vacuum_analyze")
    return phases


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


def _raw_numbers(blocks_sql, blocks_params, numbers_sql, numbers_params):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(blocks_sql, blocks_params)
            ids = [row[0] for row in cursor.fetchall()]
            cursor.execute(numbers_sql, [ids, *numbers_params])
            cursor.fetchall()

    return run


def _raw(sql, params):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    return run


STOCK = "(SELECT block_id, sum(delta) AS available FROM catalog_stockdelta GROUP BY block_id)"


def _queries(blocks):
    """(figure name, URL, hand-written SQL returning the same rows: a function running it)."""
    country = "DE" if any(b.country.code == "DE" for b in blocks) else blocks[0].country.code
    cc = phonenumbers.country_code_for_region(country)
    country_blocks = (
        f"SELECT b.id FROM inventory_numberblock b JOIN {STOCK} s ON s.block_id = b.id "
        "WHERE b.country = %s AND s.available > 0"
    )
    # The page's access path by hand: the country's blocks first, then its numbers as one
    # range of the number index, ids first (index-only), then the rows; ends-with by the
    # reversed number.
    number_sql = (
        "SELECT d.number, b.city, b.area_code, b.setup_fee, b.monthly_price, b.rate_per_minute "
        "FROM inventory_did d JOIN inventory_numberblock b ON b.id = d.block_id "
        "WHERE d.id IN (SELECT id FROM inventory_did WHERE status = 'in_stock' "
        "AND block_id = ANY(%s) AND number >= %s AND number < %s AND {match} "
        "ORDER BY number LIMIT 26) ORDER BY d.number"
    )
    lower, upper = f"+{cc}", f"+{cc + 1}"  # no calling code is all nines

    def numbers(match, pattern):
        return _raw_numbers(
            country_blocks, [country], number_sql.format(match=match), [lower, upper, pattern]
        )

    return [
        (
            "country_list",
            "/numbers/",
            _raw(
                "SELECT b.country, sum(s.available), count(DISTINCT b.city), "
                "min(b.monthly_price), min(b.setup_fee) FROM inventory_numberblock b "
                f"JOIN {STOCK} s ON s.block_id = b.id "
                "WHERE s.available > 0 GROUP BY b.country ORDER BY b.country",
                [],
            ),
        ),
        (
            "city_list",
            f"/numbers/{country}/",
            _raw(
                "SELECT b.* FROM inventory_numberblock b JOIN "
                f"{STOCK} s ON s.block_id = b.id WHERE b.country = %s AND s.available > 0 "
                "ORDER BY b.city, b.area_code",
                [country],
            ),
        ),
        (
            "city_search",
            f"/numbers/{country}/?q=zurich&type=local&service=voice",
            _raw(
                "SELECT b.* FROM inventory_numberblock b JOIN "
                f"{STOCK} s ON s.block_id = b.id WHERE b.country = %s AND s.available > 0 "
                "AND b.number_type = 'local' AND b.voice AND b.city ILIKE '%%z_rich%%' "
                "ORDER BY b.city, b.area_code",
                [country],
            ),
        ),
        (
            "number_starts",
            f"/numbers/{country}/search/?n=120000&match=starts",
            numbers("number LIKE %s", f"+{cc}120000%"),
        ),
        (
            "number_contains",
            f"/numbers/{country}/search/?n=00123&match=contains",
            numbers("number LIKE %s", "%00123%"),
        ),
        (
            "number_ends",
            f"/numbers/{country}/search/?n=0321&match=ends",
            numbers("reverse(number) LIKE %s", "1230%"),
        ),
    ]


def run():
    if connection.vendor != "postgresql":
        print("  skipped: bench_catalog needs PostgreSQL (set DATABASE_URL=postgres://...)")
        return {}
    results = {}
    with throwaway_database("catalog_bench"):
        blocks, done = _blocks(), 0
        for size in SIZES:
            started = time.perf_counter()
            per_block = size // len(blocks)
            phases = _numbers_add(blocks, done, per_block)
            done = per_block
            print(
                f"  fixture: {size} numbers in {time.perf_counter() - started:.0f} s ("
                + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in phases.items())
                + ")",
                flush=True,
            )
            millions, rest = divmod(size, 1_000_000)
            label = "" if size == SIZES[0] else f"{millions}m_" if not rest else f"{size}_"
            results.update(_measure(blocks, size, label))
    return results


def _measure(blocks, size, label):
    from django.test.utils import override_settings

    repeat = REPEAT if size <= 1_000_000 else REPEAT_LARGE
    results, view_total, raw_total = {}, 0.0, 0.0
    client = Client()
    with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False, SECURE_SSL_REDIRECT=False):
        for name, url, raw_sql in _queries(blocks):
            status = client.get(url).status_code
            assert status == 200, (url, status)
            view = timed(lambda url=url: client.get(url), repeat)
            raw = timed(raw_sql, repeat)
            view_total += statistics.median(view)
            raw_total += statistics.median(raw)
            results[f"catalog_{label}{name}_p95_ms"] = {
                "value": round(percentile(view, 0.95), 2),
                "unit": "ms",
                "detail": (
                    f"GET {url}: p50 {statistics.median(view):.2f} ms over {repeat} requests; "
                    f"raw SQL p50 {statistics.median(raw):.2f} ms; {size} numbers"
                ),
            }
    results[f"catalog_{label}vs_raw_sql_ratio"] = {
        "value": round(view_total / raw_total, 2),
        "unit": "x",
        "detail": f"sum of view p50s ÷ sum of raw-SQL p50s over the six queries above; {size} "
        "numbers",
    }
    return results
