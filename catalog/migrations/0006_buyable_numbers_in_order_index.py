"""PostgreSQL: buyable numbers in number order, answered from the index alone.

The API's ``/v3/available_dids`` pages every buyable number in number order with
``page[number]`` (LIMIT/OFFSET, as DIDWW pages). The unique index on ``number`` gives the
order but every row skipped or shown is read from the table to check its status and cart
hold. This partial index over in-stock numbers carries what that check reads (the hold’s
end and holder) and the block, so a page — and the rows an OFFSET skips — come from the
index alone (an index-only scan, once vacuum has marked the pages visible). SQLite has
small data and no need.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS catalog_did_in_stock_by_number ON inventory_did (number) "
    "INCLUDE (id, block_id, cart_held_until, cart_held_by_id) WHERE status = 'in_stock'"
)
DROP = "DROP INDEX IF EXISTS catalog_did_in_stock_by_number"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_reseller_price_lists")]

    operations = [migrations.RunPython(forward, reverse)]
