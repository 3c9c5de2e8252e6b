"""The SQLite stock triggers as catalog migration 0004 left them, put back after a migrate.

SQLite cannot change most of a table in place: Django copies ``inventory_did`` into a new
table and drops the old one, and the old table's triggers are dropped with it (an inventory
migration adding a check constraint does exactly that). After every ``migrate`` this checks
that the triggers are there; when one is missing it installs them again and rebuilds the
counts from the table, so stock counts never silently stop following the numbers.
PostgreSQL alters tables in place and keeps its triggers.
"""

# ruff: noqa: S608  (only the constant predicates below are interpolated)

from django.db import connections, transaction
from django.db.migrations.recorder import MigrationRecorder

LATEST = ("catalog", "0004_stock_triggers_cart_holds")
BUYABLE_OLD = "OLD.status = 'in_stock' AND OLD.cart_held_until IS NULL"
BUYABLE_NEW = "NEW.status = 'in_stock' AND NEW.cart_held_until IS NULL"

TRIGGERS = {
    "catalog_stock_insert": f"""CREATE TRIGGER IF NOT EXISTS catalog_stock_insert
        AFTER INSERT ON inventory_did WHEN {BUYABLE_NEW}
        BEGIN INSERT INTO catalog_stockdelta (block_id, delta) VALUES (NEW.block_id, 1); END""",
    "catalog_stock_update": f"""CREATE TRIGGER IF NOT EXISTS catalog_stock_update
        AFTER UPDATE OF status, block_id, cart_held_until ON inventory_did
        WHEN ({BUYABLE_OLD}) OR ({BUYABLE_NEW})
        BEGIN
          INSERT INTO catalog_stockdelta (block_id, delta)
            SELECT OLD.block_id, -1 WHERE {BUYABLE_OLD};
          INSERT INTO catalog_stockdelta (block_id, delta)
            SELECT NEW.block_id, 1 WHERE {BUYABLE_NEW};
        END""",
    "catalog_stock_delete": f"""CREATE TRIGGER IF NOT EXISTS catalog_stock_delete
        AFTER DELETE ON inventory_did WHEN {BUYABLE_OLD}
        BEGIN
          INSERT INTO catalog_stockdelta (block_id, delta)
            SELECT OLD.block_id, -1
            WHERE EXISTS (SELECT 1 FROM inventory_numberblock WHERE id = OLD.block_id);
        END""",
    "catalog_stock_block_delete": """CREATE TRIGGER IF NOT EXISTS catalog_stock_block_delete
        AFTER DELETE ON inventory_numberblock
        BEGIN DELETE FROM catalog_stockdelta WHERE block_id = OLD.id; END""",
}

RECOUNT = [
    "DELETE FROM catalog_stockdelta",
    "INSERT INTO catalog_stockdelta (block_id, delta) SELECT block_id, count(*) "
    "FROM inventory_did WHERE status = 'in_stock' AND cart_held_until IS NULL GROUP BY block_id",
]


def ensure_sqlite_triggers(*, using="default", **kwargs):
    """``post_migrate`` receiver: reinstall missing SQLite stock triggers and recount.
    Returns the names reinstalled."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return []
    if LATEST not in MigrationRecorder(connection).applied_migrations():
        return []  # migrated back, or not there yet: the migrations own the triggers
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
        missing = [name for name in TRIGGERS if name not in present]
        if not missing:
            return []
        with transaction.atomic(using=using):
            for name in missing:
                cursor.execute(TRIGGERS[name])
            for sql in RECOUNT:
                cursor.execute(sql)
    return missing
