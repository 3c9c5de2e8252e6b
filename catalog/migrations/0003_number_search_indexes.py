"""PostgreSQL indexes for the buyers' number search (SQLite has small data and no need).

Starts-with uses the pattern index Django already keeps for the unique ``number``.
Ends-with searches the reversed number by prefix, so it gets a partial btree on
``reverse(number)`` over buyable numbers. Contains is matched within a country's or city's
blocks through the (block, number) in-stock index.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS catalog_did_in_stock_reversed ON inventory_did "
    "(reverse(number::text) text_pattern_ops) WHERE status = 'in_stock'"
)
DROP = "DROP INDEX IF EXISTS catalog_did_in_stock_reversed"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_stock_triggers")]

    operations = [migrations.RunPython(forward, reverse)]
