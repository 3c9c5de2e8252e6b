"""The DID import of a 1,000,000-row CSV, against PostgreSQL COPY of the same rows.

Runs in a throwaway database (``<name>_bench``: created, migrated, dropped), through the
functions the import page calls: ``import_job_create`` (store the upload),
``import_job_check`` (the dry run), ``import_job_confirm`` and ``import_job_run`` (the import).

- ``import_rows_per_s``: rows ÷ the import step (``import_job_run``: read, check every row,
  write blocks, DIDs and history) — what ``manage.py import_dids FILE`` does too;
- ``import_vs_copy_ratio``: that time ÷ the time of ``COPY … FROM STDIN (FORMAT csv)`` of the
  same file into a bare temporary table with the same columns (no index, no constraint);
- ``import_vs_indexed_copy_ratio``: that time ÷ the time of ``COPY`` of the DID rows the import
  wrote (read back from inventory_did, all columns but the id) into an empty table made
  ``LIKE inventory_did INCLUDING ALL`` (its indexes, check constraints, defaults, identity)
  plus the DID table's foreign keys, timed to the COMMIT that runs their deferred checks —
  what writing the same rows into a table as indexed and constrained as the DID table costs
  PostgreSQL itself, with no check, audit or history of ours.
The detail of each figure gives the dry run and the whole page flow (upload + dry run +
import) as well.
"""

import os
import tempfile
import time
from pathlib import Path

from django.db import DatabaseError, connection, transaction

from bench.throwaway_db import throwaway_database

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", 1_000_000))
# (country, region, city, area code, E.164 format, first number): ranges phonenumbers accepts.
RANGES = [
    ("NL", "North Holland", "Amsterdam", "20", "+3120{:07d}", 1_000_000),
    ("NL", "South Holland", "Rotterdam", "10", "+3110{:07d}", 2_000_000),
    ("NL", "South Holland", "The Hague", "70", "+3170{:07d}", 3_000_000),
    ("NL", "Utrecht", "Utrecht", "30", "+3130{:07d}", 5_550_000),
    ("US", "New York", "New York", "212", "+1212{:07d}", 2_000_000),
    ("US", "California", "San Francisco", "415", "+1415{:07d}", 3_000_000),
    ("US", "Illinois", "Chicago", "312", "+1312{:07d}", 5_550_000),
    ("GB", "England", "London", "20", "+4420{:08d}", 79_460_000),
    ("GB", "England", "Manchester", "161", "+44161{:07d}", 2_000_000),
    ("GB", "England", "Birmingham", "121", "+44121{:07d}", 3_000_000),
]
OPERATORS = ["Bench Telecom A", "Bench Telecom B"]
HEADER = (
    "number,operator,country,city,number_type,region,area_code,capabilities,status,"
    "tag,notes,setup_fee,monthly_price\n"
)


def write_csv(path, rows=ROWS):
    """``rows`` valid numbers in 20 blocks (10 ranges × 2 operators), 1,000-number runs."""
    per_block = -(-rows // (len(RANGES) * len(OPERATORS)))
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for offset in range(0, per_block, 1000):
            for r, (country, region, city, area, fmt, first) in enumerate(RANGES):
                for o, operator in enumerate(OPERATORS):
                    start = first + (2 * offset if o == 0 else 2 * offset + 1000)
                    count = min(1000, per_block - offset, rows - written)
                    caps = "voice;sms" if r % 2 else "voice"
                    tail = f",{region},{area},{caps},in_stock,bench,,1.00,{2 + r}.50\n"
                    head = f",{operator},{country},{city},local"
                    out.write("".join(fmt.format(start + i) + head + tail for i in range(count)))
                    written += count
    return written


def run():
    if connection.vendor != "postgresql":
        print("  skipped: bench_import needs PostgreSQL (set DATABASE_URL=postgres://...)")
        return {}
    from django.test.utils import override_settings

    with (
        throwaway_database("import_bench"),
        tempfile.TemporaryDirectory() as tmp,
        override_settings(PRIVATE_STORAGE_ROOT=tmp),
    ):
        return _measure(Path(tmp))


def _measure(tmp):
    from django.core.files import File

    from accounts.models import Account, User
    from inventory.importing import services
    from inventory.models import DID, ImportJob, Operator

    path = tmp / "bench.csv"
    rows = write_csv(path)
    platform = Account.objects.create(kind="platform", name="Bench Carrier", country="NL")
    admin = User.objects.create(email="bench@example.test", account=platform, role="platform_admin")
    for name in OPERATORS:
        Operator.objects.create(name=name)

    started = time.perf_counter()
    with open(path, "rb") as upload:
        job = services.import_job_create(uploaded_file=File(upload, name="bench.csv"), actor=admin)
    uploaded = time.perf_counter()
    job = services.import_job_check(job_id=job.pk)
    assert job.status == ImportJob.Status.READY, (job.file_error, job.errors[:5])
    checked = time.perf_counter()
    services.import_job_confirm(job_id=job.pk)
    _settle()
    importing = time.perf_counter()
    job = services.import_job_run(job_id=job.pk)
    finished = time.perf_counter()
    assert job.status == ImportJob.Status.DONE, (job.file_error, job.errors[:5])
    # Every number points at its import's audit record (no history row per number).
    assert DID.objects.count() == rows == DID.objects.filter(import_batch__job=job).count()

    read_only = _time(lambda: services.file_read(path=path, name="bench.csv"))
    copy_temp = _time_copy(path, temporary=True)
    copy_logged = _time_copy(path, temporary=False)
    copy_indexed, index_count = _time_indexed_copy()

    import_s = finished - importing
    detail = (
        f"{rows:,} rows; import step {import_s:.1f} s (reading and checking rows "
        f"~{read_only:.1f} s, writing blocks, batches and DIDs ~{import_s - read_only:.1f} s); "
        f"dry run "
        f"{checked - uploaded:.1f} s; whole page flow (upload + dry run + import) "
        f"{finished - started - (importing - checked):.1f} s = "
        f"{(finished - started - (importing - checked)) / copy_temp:.1f}× COPY; "
        f"COPY into a bare temp table {copy_temp:.2f} s (into a bare logged table "
        f"{copy_logged:.2f} s); COPY of the imported DID rows into a table with the DID "
        f"table's {index_count} indexes, check constraints and foreign keys "
        f"{copy_indexed:.2f} s (to its COMMIT)"
    )
    return {
        "import_rows_per_s": {"value": round(rows / import_s), "unit": "rows/s", "detail": detail},
        "import_vs_copy_ratio": {
            "value": round(import_s / copy_temp, 2),
            "unit": "× COPY",
            "detail": detail,
        },
        "import_vs_indexed_copy_ratio": {
            "value": round(import_s / copy_indexed, 2),
            "unit": "× indexed COPY",
            "detail": detail,
        },
    }


def _time(function):
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def _time_copy(path, *, temporary):
    columns = HEADER.strip().split(",")
    definition = ", ".join(
        f"{name} numeric(14, 5)" if name in ("setup_fee", "monthly_price") else f"{name} text"
        for name in columns
    )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        kind = "TEMPORARY TABLE" if temporary else "TABLE"
        cursor.execute(f"CREATE {kind} bench_copy ({definition})")
        started = time.perf_counter()
        with (
            open(path, "rb") as source,
            cursor.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := source.read(1024 * 1024):
                copy.write(chunk)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy")
    return elapsed


def _time_indexed_copy():
    """COPY the rows of inventory_did into an empty twin with its indexes and constraints.

    Returns (seconds to COMMIT, number of indexes on the twin)."""
    from inventory.models import DID

    table = DID._meta.db_table
    columns = ", ".join(
        connection.ops.quote_name(f.column) for f in DID._meta.concrete_fields if not f.primary_key
    )
    with connection.cursor() as cursor:
        data = bytearray()
        with cursor.copy(
            f"COPY (SELECT {columns} FROM {table} ORDER BY id) TO STDOUT"  # noqa: S608
        ) as copy:
            for block in copy:
                data += block
        cursor.execute("DROP TABLE IF EXISTS bench_did_twin")
        cursor.execute(f"CREATE TABLE bench_did_twin (LIKE {table} INCLUDING ALL)")
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [table],
        )
        for (definition,) in cursor.fetchall():
            cursor.execute(f"ALTER TABLE bench_did_twin ADD {definition}")
        cursor.execute("SELECT count(*) FROM pg_index WHERE indrelid = 'bench_did_twin'::regclass")
        index_count = cursor.fetchone()[0]
    # The import's million rows leave autovacuum and a checkpoint due: get them out of the
    # way so the COPY starts from the state the import started from.
    _settle(vacuum=table)
    with connection.cursor() as cursor:
        started = time.perf_counter()
        with transaction.atomic():
            with cursor.copy(f"COPY bench_did_twin ({columns}) FROM STDIN") as copy:
                for offset in range(0, len(data), 1024 * 1024):
                    copy.write(data[offset : offset + 1024 * 1024])
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_did_twin")
    return elapsed, index_count


def _settle(vacuum=None):
    """Start a timed step with no checkpoint or vacuum of the previous step pending."""
    with connection.cursor() as cursor:
        if vacuum:
            cursor.execute(f"VACUUM (ANALYZE) {vacuum}")
        try:
            with transaction.atomic():
                cursor.execute("CHECKPOINT")
        except DatabaseError:  # needs superuser or pg_checkpoint; then it is left to chance
            pass
