"""PostgreSQL: ends-with searched block by block, from the index alone.

The number search always runs within a country's (or a city's) blocks. 0003's reversed-number
index covered every block, so "ends with 0321" in one country read the matching numbers of
all fifty (at 10,000,000 numbers PostgreSQL preferred reading the country's whole
block index instead: 12–20 ms at 1,000,000, ten times that at 10,000,000). This index leads
with the block, so each of the country's blocks is one short range of reversed numbers,
and it carries what the search filters and sorts on (number, cart hold), so the page's ids
come from the index alone (an index-only scan once vacuum has marked the pages visible).
It replaces 0003's index. Contains is answered by 0006's in-stock number index, scanned in
number order within the country's range (``catalog.selectors.search_numbers``). SQLite has
small data and no need.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS catalog_did_in_stock_block_reversed ON inventory_did "
    "(block_id, reverse(number::text) text_pattern_ops) "
    "INCLUDE (id, number, cart_held_until, cart_held_by_id) WHERE status = 'in_stock'"
)
DROP = "DROP INDEX IF EXISTS catalog_did_in_stock_block_reversed"
OLD_CREATE = (
    "CREATE INDEX IF NOT EXISTS catalog_did_in_stock_reversed ON inventory_did "
    "(reverse(number::text) text_pattern_ops) WHERE status = 'in_stock'"
)
OLD_DROP = "DROP INDEX IF EXISTS catalog_did_in_stock_reversed"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
        schema_editor.execute(OLD_DROP)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(OLD_CREATE)
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0006_buyable_numbers_in_order_index")]

    operations = [migrations.RunPython(forward, reverse)]
