"""Stock triggers, version 2: a number held in a customer's cart is not buyable.

A number counts as buyable when ``status = 'in_stock' AND cart_held_until IS NULL``, so
putting it in a cart emits -1 for its block and releasing the hold (or the hold-expiry job)
emits +1. Refreshing a hold, or a hold passing from an expired cart to another, changes
nothing. Same shape as migration 0002 (PostgreSQL statement-level with transition tables,
SQLite row-level). The functions and triggers are dropped and created again with the
predicate of the direction we go, and the counts are corrected for the numbers held at
that moment (none on the first run: the hold columns are new).
"""

# ruff: noqa: S608  (only the constant predicates below are interpolated)

from django.db import migrations

BUYABLE = "status = 'in_stock' AND cart_held_until IS NULL"
IN_STOCK = "status = 'in_stock'"


def _postgres(predicate):
    def on(table):
        return predicate.replace("status", f"{table}.status").replace(
            "cart_held_until", f"{table}.cart_held_until"
        )

    return f"""
CREATE FUNCTION catalog_stock_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO catalog_stockdelta (block_id, delta)
  SELECT block_id, count(*) FROM new_rows WHERE {on("new_rows")} GROUP BY block_id;
  RETURN NULL;
END $$;

CREATE FUNCTION catalog_stock_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO catalog_stockdelta (block_id, delta)
  SELECT block_id, sum(d) FROM (
      SELECT block_id, 1 AS d FROM new_rows WHERE {on("new_rows")}
      UNION ALL
      SELECT block_id, -1 AS d FROM old_rows WHERE {on("old_rows")}
  ) changes GROUP BY block_id HAVING sum(d) <> 0;
  RETURN NULL;
END $$;

CREATE FUNCTION catalog_stock_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO catalog_stockdelta (block_id, delta)
  SELECT block_id, -count(*) FROM old_rows WHERE {on("old_rows")} GROUP BY block_id;
  RETURN NULL;
END $$;

CREATE TRIGGER catalog_stock_insert AFTER INSERT ON inventory_did
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION catalog_stock_after_insert();
CREATE TRIGGER catalog_stock_update AFTER UPDATE ON inventory_did
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION catalog_stock_after_update();
CREATE TRIGGER catalog_stock_delete AFTER DELETE ON inventory_did
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION catalog_stock_after_delete();
"""


# The block-delete trigger of 0002 stays as it is.
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS catalog_stock_insert ON inventory_did;
DROP TRIGGER IF EXISTS catalog_stock_update ON inventory_did;
DROP TRIGGER IF EXISTS catalog_stock_delete ON inventory_did;
DROP FUNCTION IF EXISTS catalog_stock_after_insert();
DROP FUNCTION IF EXISTS catalog_stock_after_update();
DROP FUNCTION IF EXISTS catalog_stock_after_delete();
"""


def _sqlite(predicate, columns):
    def on(row):
        return predicate.replace("status", f"{row}.status").replace(
            "cart_held_until", f"{row}.cart_held_until"
        )

    return [
        f"""CREATE TRIGGER catalog_stock_insert AFTER INSERT ON inventory_did
           WHEN {on("NEW")}
           BEGIN INSERT INTO catalog_stockdelta (block_id, delta) VALUES (NEW.block_id, 1); END""",
        f"""CREATE TRIGGER catalog_stock_update AFTER UPDATE OF {columns} ON inventory_did
           WHEN ({on("OLD")}) OR ({on("NEW")})
           BEGIN
             INSERT INTO catalog_stockdelta (block_id, delta)
               SELECT OLD.block_id, -1 WHERE {on("OLD")};
             INSERT INTO catalog_stockdelta (block_id, delta)
               SELECT NEW.block_id, 1 WHERE {on("NEW")};
           END""",
        # Only while the block exists: emptying the tables (a test flush) may delete the
        # blocks first, and the block-delete trigger has then already cleared their rows.
        f"""CREATE TRIGGER catalog_stock_delete AFTER DELETE ON inventory_did
           WHEN {on("OLD")}
           BEGIN
             INSERT INTO catalog_stockdelta (block_id, delta)
               SELECT OLD.block_id, -1
               WHERE EXISTS (SELECT 1 FROM inventory_numberblock WHERE id = OLD.block_id);
           END""",
    ]


SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS catalog_stock_insert",
    "DROP TRIGGER IF EXISTS catalog_stock_update",
    "DROP TRIGGER IF EXISTS catalog_stock_delete",
]

# Numbers in stock but held in a cart: counted by the old predicate, not by the new one.
HELD = "SELECT block_id, {sign}count(*) FROM inventory_did WHERE status = 'in_stock' AND cart_held_until IS NOT NULL GROUP BY block_id"  # noqa: E501


def _install(schema_editor, *, predicate, sqlite_columns, held_sign):
    if schema_editor.connection.vendor == "postgresql":
        statements = [POSTGRES_DROP, _postgres(predicate)]
    else:
        statements = [*SQLITE_DROP, *_sqlite(predicate, sqlite_columns)]
    for sql in statements:
        schema_editor.execute(sql)
    schema_editor.execute(
        "INSERT INTO catalog_stockdelta (block_id, delta) " + HELD.format(sign=held_sign)
    )


def forward(apps, schema_editor):
    _install(
        schema_editor,
        predicate=BUYABLE,
        sqlite_columns="status, block_id, cart_held_until",
        held_sign="-",
    )


def reverse(apps, schema_editor):
    _install(schema_editor, predicate=IN_STOCK, sqlite_columns="status, block_id", held_sign="")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_number_search_indexes"),
        ("inventory", "0003_did_cart_hold"),
    ]

    operations = [migrations.RunPython(forward, reverse)]
