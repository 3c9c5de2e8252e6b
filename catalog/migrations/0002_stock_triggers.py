"""Triggers that keep catalog_stockdelta in step with inventory_did.

PostgreSQL: statement-level triggers with transition tables, so a COPY of a million rows
adds one delta row per block, not a million. SQLite: row-level triggers (small data).
A number counts as buyable when its status is 'in_stock'. The migration also counts the
numbers already there.
"""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE FUNCTION catalog_stock_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO catalog_stockdelta (block_id, delta)
  SELECT block_id, count(*) FROM new_rows WHERE status = 'in_stock' GROUP BY block_id;
  RETURN NULL;
END $$;

CREATE FUNCTION catalog_stock_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO catalog_stockdelta (block_id, delta)
  SELECT block_id, sum(d) FROM (
      SELECT block_id, 1 AS d FROM new_rows WHERE status = 'in_stock'
      UNION ALL
      SELECT block_id, -1 AS d FROM old_rows WHERE status = 'in_stock'
  ) changes GROUP BY block_id HAVING sum(d) <> 0;
  RETURN NULL;
END $$;

CREATE FUNCTION catalog_stock_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO catalog_stockdelta (block_id, delta)
  SELECT block_id, -count(*) FROM old_rows WHERE status = 'in_stock' GROUP BY block_id;
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

CREATE FUNCTION catalog_stock_after_block_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM catalog_stockdelta WHERE block_id IN (SELECT id FROM old_rows);
  RETURN NULL;
END $$;
CREATE TRIGGER catalog_stock_block_delete AFTER DELETE ON inventory_numberblock
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION catalog_stock_after_block_delete();
"""

POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS catalog_stock_insert ON inventory_did;
DROP TRIGGER IF EXISTS catalog_stock_update ON inventory_did;
DROP TRIGGER IF EXISTS catalog_stock_delete ON inventory_did;
DROP TRIGGER IF EXISTS catalog_stock_block_delete ON inventory_numberblock;
DROP FUNCTION IF EXISTS catalog_stock_after_block_delete();
DROP FUNCTION IF EXISTS catalog_stock_after_insert();
DROP FUNCTION IF EXISTS catalog_stock_after_update();
DROP FUNCTION IF EXISTS catalog_stock_after_delete();
"""

SQLITE_FORWARD = [
    """CREATE TRIGGER catalog_stock_insert AFTER INSERT ON inventory_did
       WHEN NEW.status = 'in_stock'
       BEGIN INSERT INTO catalog_stockdelta (block_id, delta) VALUES (NEW.block_id, 1); END""",
    """CREATE TRIGGER catalog_stock_update AFTER UPDATE OF status, block_id ON inventory_did
       WHEN (OLD.status = 'in_stock') OR (NEW.status = 'in_stock')
       BEGIN
         INSERT INTO catalog_stockdelta (block_id, delta)
           SELECT OLD.block_id, -1 WHERE OLD.status = 'in_stock';
         INSERT INTO catalog_stockdelta (block_id, delta)
           SELECT NEW.block_id, 1 WHERE NEW.status = 'in_stock';
       END""",
    # Only while the block exists: emptying the tables (a test flush) may delete the blocks
    # first, and the block-delete trigger below has then already cleared their rows.
    """CREATE TRIGGER catalog_stock_delete AFTER DELETE ON inventory_did
       WHEN OLD.status = 'in_stock'
       BEGIN
         INSERT INTO catalog_stockdelta (block_id, delta)
           SELECT OLD.block_id, -1
           WHERE EXISTS (SELECT 1 FROM inventory_numberblock WHERE id = OLD.block_id);
       END""",
    """CREATE TRIGGER catalog_stock_block_delete AFTER DELETE ON inventory_numberblock
       BEGIN DELETE FROM catalog_stockdelta WHERE block_id = OLD.id; END""",
]

SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS catalog_stock_insert",
    "DROP TRIGGER IF EXISTS catalog_stock_update",
    "DROP TRIGGER IF EXISTS catalog_stock_delete",
    "DROP TRIGGER IF EXISTS catalog_stock_block_delete",
]

COUNT_EXISTING = """
INSERT INTO catalog_stockdelta (block_id, delta)
SELECT block_id, count(*) FROM inventory_did WHERE status = 'in_stock' GROUP BY block_id
"""


def forward(apps, schema_editor):
    statements = (
        [POSTGRES_FORWARD] if schema_editor.connection.vendor == "postgresql" else SQLITE_FORWARD
    )
    for sql in [*statements, COUNT_EXISTING]:
        schema_editor.execute(sql)


def reverse(apps, schema_editor):
    statements = (
        [POSTGRES_REVERSE] if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    )
    for sql in [*statements, "DELETE FROM catalog_stockdelta"]:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_stock_delta")]

    operations = [migrations.RunPython(forward, reverse)]
