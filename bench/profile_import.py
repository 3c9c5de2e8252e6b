"""Profile of the DID import (not part of `make bench`): where does ``import_job_run`` spend?

``python -m bench.profile_import [ROWS]`` runs the import of the bench's file in a throwaway
database under cProfile, times every SQL statement (and COPY, and the COMMIT that runs the
deferred foreign-key checks), and prints both.
"""

import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import django


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "didportal.settings")
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    django.setup()
    from django.db import connection
    from django.test.utils import override_settings

    from bench import bench_import
    from bench.throwaway_db import throwaway_database

    with (
        throwaway_database("import_profile"),
        tempfile.TemporaryDirectory() as tmp,
        override_settings(PRIVATE_STORAGE_ROOT=tmp),
    ):
        job, path = _prepared(Path(tmp), rows, bench_import)
        statements = []
        profile = cProfile.Profile()
        with connection.execute_wrapper(_timer(statements)), _copy_timer(statements):
            started = time.perf_counter()
            profile.enable()
            from inventory.importing import services

            services.import_job_run(job_id=job.pk)
            profile.disable()
            elapsed = time.perf_counter() - started
        print(f"{rows:,} rows: import_job_run {elapsed:.2f} s = {rows / elapsed:,.0f} rows/s")
        print("\nSQL statements over 50 ms:")
        for seconds, sql in sorted(statements, reverse=True):
            if seconds >= 0.05:
                print(f"  {seconds:7.2f} s  {sql[:150]}")
        print(f"  ({len(statements)} statements, {sum(s for s, _ in statements):.2f} s in all)")
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(35)
        print(out.getvalue())


def _prepared(tmp, rows, bench_import):
    from django.core.files import File

    from accounts.models import Account, User
    from inventory.importing import services
    from inventory.models import Operator

    path = tmp / "bench.csv"
    bench_import.write_csv(path, rows)
    platform = Account.objects.create(kind="platform", name="Bench Carrier", country="NL")
    admin = User.objects.create(email="bench@example.test", account=platform, role="platform_admin")
    for name in bench_import.OPERATORS:
        Operator.objects.create(name=name)
    with open(path, "rb") as upload:
        job = services.import_job_create(uploaded_file=File(upload, name="bench.csv"), actor=admin)
    job = services.import_job_check(job_id=job.pk)
    services.import_job_confirm(job_id=job.pk)
    return job, path


def _timer(statements):
    def wrapper(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((time.perf_counter() - started, " ".join(sql.split())))

    return wrapper


@contextmanager
def _copy_timer(statements):
    """COPY and COMMIT do not pass Django's execute wrappers: time them at the driver."""
    from django.db.backends.base.base import BaseDatabaseWrapper
    from psycopg import Connection, Cursor

    original_copy, original_commit = Cursor.copy, BaseDatabaseWrapper._commit

    @contextmanager
    def copy(self, statement, *args, **kwargs):
        started = time.perf_counter()
        with original_copy(self, statement, *args, **kwargs) as block:
            yield block
        statements.append((time.perf_counter() - started, str(statement)))

    def commit(self):
        started = time.perf_counter()
        try:
            return original_commit(self)
        finally:
            statements.append((time.perf_counter() - started, "COMMIT"))

    Cursor.copy, BaseDatabaseWrapper._commit = copy, commit
    try:
        yield
    finally:
        Cursor.copy, BaseDatabaseWrapper._commit = original_copy, original_commit
    assert Connection


if __name__ == "__main__":
    main()
