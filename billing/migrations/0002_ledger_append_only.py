"""Make the ledger append-only in the database: UPDATE and DELETE raise.

SQLite drops a table's triggers when a migration rebuilds the table (most AlterField
operations do), so a later migration that alters LedgerEntry must create them again;
tests/billing/test_models.py fails if they are missing.
"""

from django.db import migrations

TABLE = "billing_ledgerentry"
MESSAGE = "ledger entries are append-only"

POSTGRESQL_CREATE = [
    f"""
    CREATE FUNCTION billing_ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = '{MESSAGE}: ' || TG_OP || ' refused',
            ERRCODE = 'restrict_violation';
    END;
    $$
    """,
    f"""
    CREATE TRIGGER billing_ledger_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION billing_ledger_refuse_change()
    """,
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS billing_ledger_append_only ON {TABLE}",
    "DROP FUNCTION IF EXISTS billing_ledger_refuse_change()",
]
SQLITE_CREATE = [
    f"""
    CREATE TRIGGER billing_ledger_no_{operation.lower()} BEFORE {operation} ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {operation} refused'); END
    """
    for operation in ("UPDATE", "DELETE")
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS billing_ledger_no_{operation}" for operation in ("update", "delete")
]

STATEMENTS = {
    "postgresql": (POSTGRESQL_CREATE, POSTGRESQL_DROP),
    "sqlite": (SQLITE_CREATE, SQLITE_DROP),
}


def _run(schema_editor, index):
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise NotImplementedError(f"No append-only trigger for {vendor}.")
    for sql in STATEMENTS[vendor][index]:
        schema_editor.execute(sql, params=None)


def create_triggers(apps, schema_editor):
    _run(schema_editor, 0)


def drop_triggers(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
