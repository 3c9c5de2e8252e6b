"""Writes of the catalog's read model."""

from django.db import connection, transaction

from .models import StockDelta


@transaction.atomic
def stock_compact():
    """Fold each block's delta rows into one. Safe to run any time, twice or concurrently:
    it deletes only the rows it sees and puts back their sums in the same transaction."""
    table = StockDelta._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH gone AS (DELETE FROM {table} RETURNING block_id, delta) "  # noqa: S608
                f"INSERT INTO {table} (block_id, delta) "
                "SELECT block_id, sum(delta) FROM gone GROUP BY block_id HAVING sum(delta) <> 0"
            )
        else:  # SQLite: one writer at a time, so read-then-replace is safe.
            cursor.execute(f"SELECT block_id, sum(delta) FROM {table} GROUP BY block_id")  # noqa: S608
            sums = cursor.fetchall()
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            cursor.executemany(
                f"INSERT INTO {table} (block_id, delta) VALUES (%s, %s)",  # noqa: S608
                [row for row in sums if row[1]],
            )
