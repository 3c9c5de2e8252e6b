"""Resellers' money: why a subscription is on hold, and a reseller's customer's charges
paired in the database.

- ``Subscription.hold_cause``: existing holds were all renewals the customer did not pay
  (backfilled ``customer_unpaid``); a CHECK says a held subscription has a cause and only a
  held one, and "reseller unpaid" only with a reseller.
- A period of a subscription with a reseller has its ``sale`` charge (the customer pays
  the reseller) iff it has its ``wholesale`` charge (the reseller pays the platform); a
  sale charge is on the subscription's account, a wholesale charge on its reseller.

On PostgreSQL the pairing is a ``CONSTRAINT TRIGGER … DEFERRABLE INITIALLY DEFERRED``
(both rows are written in one transaction, so it is checked at commit), and the accounts
are checked by the same trigger. SQLite has no deferred triggers: there a plain BEFORE
INSERT trigger checks the accounts only; the pairing is not enforced on SQLite.

SQLite drops a table's triggers when a migration rebuilds the table: a later migration
that alters SubscriptionCharge must create them again (tests/billing/test_reseller_money.py
checks they exist).
"""

from django.db import migrations, models

TABLE = "billing_subscriptioncharge"

POSTGRESQL_CREATE = [
    f"""
    CREATE FUNCTION billing_charge_sides_check() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        charge RECORD;
        sub_account bigint;
        sub_reseller bigint;
        sales integer;
        wholesales integer;
    BEGIN
        IF TG_OP = 'DELETE' THEN charge := OLD; ELSE charge := NEW; END IF;
        SELECT account_id, reseller_id INTO sub_account, sub_reseller
            FROM billing_subscription WHERE id = charge.subscription_id;
        IF TG_OP <> 'DELETE' THEN
            IF charge.side = 'sale' AND charge.account_id <> sub_account THEN
                RAISE EXCEPTION USING ERRCODE = 'check_violation',
                    MESSAGE = 'a sale charge is on its subscription''s account';
            END IF;
            IF charge.side = 'wholesale'
                    AND charge.account_id IS DISTINCT FROM sub_reseller THEN
                RAISE EXCEPTION USING ERRCODE = 'check_violation',
                    MESSAGE = 'a wholesale charge is on its subscription''s reseller';
            END IF;
        END IF;
        IF sub_reseller IS NOT NULL THEN
            SELECT count(*) FILTER (WHERE side = 'sale'),
                   count(*) FILTER (WHERE side = 'wholesale')
                INTO sales, wholesales
                FROM {TABLE}
                WHERE subscription_id = charge.subscription_id
                  AND period_index = charge.period_index;
            IF sales <> wholesales THEN
                RAISE EXCEPTION USING ERRCODE = 'check_violation',
                    MESSAGE = format(
                        'subscription %s period %s: a sale charge needs its wholesale charge '
                        'and a wholesale charge its sale charge',
                        charge.subscription_id, charge.period_index);
            END IF;
        END IF;
        RETURN NULL;
    END;
    $$
    """,
    f"""
    CREATE CONSTRAINT TRIGGER billing_charge_sides_paired
    AFTER INSERT OR UPDATE OR DELETE ON {TABLE}
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION billing_charge_sides_check()
    """,
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS billing_charge_sides_paired ON {TABLE}",
    "DROP FUNCTION IF EXISTS billing_charge_sides_check()",
]
SQLITE_CREATE = [
    f"""
    CREATE TRIGGER billing_charge_account_matches BEFORE INSERT ON {TABLE}
    WHEN (NEW.side = 'sale' AND NEW.account_id IS NOT
            (SELECT account_id FROM billing_subscription WHERE id = NEW.subscription_id))
      OR (NEW.side = 'wholesale' AND NEW.account_id IS NOT
            (SELECT reseller_id FROM billing_subscription WHERE id = NEW.subscription_id))
    BEGIN SELECT RAISE(ABORT, 'a charge is on its subscription''s account or reseller'); END
    """
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS billing_charge_account_matches"]

STATEMENTS = {
    "postgresql": (POSTGRESQL_CREATE, POSTGRESQL_DROP),
    "sqlite": (SQLITE_CREATE, SQLITE_DROP),
}


def _run(schema_editor, index):
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise NotImplementedError(f"No charge-pairing trigger for {vendor}.")
    for sql in STATEMENTS[vendor][index]:
        schema_editor.execute(sql, params=None)


def create_triggers(apps, schema_editor):
    _run(schema_editor, 0)


def drop_triggers(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_resellers"),
        ("billing", "0014_invoice_seller_brand"),
        ("inventory", "0007_package_self_service_limit_and_price"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="hold_cause",
            field=models.CharField(
                blank=True,
                choices=[
                    ("customer_unpaid", "Renewal unpaid"),
                    ("reseller_unpaid", "Reseller unpaid"),
                    ("account_suspended", "Account suspended"),
                ],
                max_length=24,
            ),
        ),
        migrations.RunSQL(
            "UPDATE billing_subscription SET hold_cause = 'customer_unpaid' WHERE status = 'hold'",
            "UPDATE billing_subscription SET hold_cause = ''",
        ),
        migrations.AddConstraint(
            model_name="subscription",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("hold_cause__in", ["customer_unpaid", "account_suspended"]),
                        ("status", "hold"),
                    ),
                    models.Q(
                        ("hold_cause", "reseller_unpaid"),
                        ("reseller__isnull", False),
                        ("status", "hold"),
                    ),
                    models.Q(models.Q(("status", "hold"), _negated=True), ("hold_cause", "")),
                    _connector="OR",
                ),
                name="subscription_hold_cause_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="subscription",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("reseller__isnull", True),
                    models.Q(("reseller", models.F("account")), _negated=True),
                    _connector="OR",
                ),
                name="subscription_reseller_not_buyer",
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
