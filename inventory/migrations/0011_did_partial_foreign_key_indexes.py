"""DID's owner, client_package and cart_held_by indexes become partial (NOT NULL).

Every number in stock has the three blank; the full indexes held a NULL entry per number that
no lookup reads, and each import wrote them. Only the indexes change: the database side
drops and creates them by name, leaving the foreign keys alone (Django's AlterField would
drop and re-validate each foreign key, a scan of the whole table).
"""

import django.db.models.deletion
import inventory.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_platform_compliance_role'),
        ('inventory', '0010_import_batch'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='did',
                    name='cart_held_by',
                    field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=inventory.models.release_cart_hold, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='did',
                    name='client_package',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='dids', to='inventory.clientpackage'),
                ),
                migrations.AlterField(
                    model_name='did',
                    name='owner',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='dids', to='accounts.account'),
                ),
                migrations.AddIndex(
                    model_name='did',
                    index=models.Index(condition=models.Q(('owner__isnull', False)), fields=['owner'], name='did_owner_set'),
                ),
                migrations.AddIndex(
                    model_name='did',
                    index=models.Index(condition=models.Q(('client_package__isnull', False)), fields=['client_package'], name='did_client_package_set'),
                ),
                migrations.AddIndex(
                    model_name='did',
                    index=models.Index(condition=models.Q(('cart_held_by__isnull', False)), fields=['cart_held_by'], name='did_cart_held_by_set'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=[
                        'DROP INDEX IF EXISTS "inventory_did_owner_id_d3b83a7c"',
                        'DROP INDEX IF EXISTS "inventory_did_client_package_id_0f24334d"',
                        'DROP INDEX IF EXISTS "inventory_did_cart_held_by_id_6c3a406c"',
                        'CREATE INDEX "did_owner_set" ON "inventory_did" ("owner_id") '
                        'WHERE "owner_id" IS NOT NULL',
                        'CREATE INDEX "did_client_package_set" ON "inventory_did" '
                        '("client_package_id") WHERE "client_package_id" IS NOT NULL',
                        'CREATE INDEX "did_cart_held_by_set" ON "inventory_did" '
                        '("cart_held_by_id") WHERE "cart_held_by_id" IS NOT NULL',
                    ],
                    reverse_sql=[
                        'DROP INDEX IF EXISTS "did_owner_set"',
                        'DROP INDEX IF EXISTS "did_client_package_set"',
                        'DROP INDEX IF EXISTS "did_cart_held_by_set"',
                        'CREATE INDEX "inventory_did_owner_id_d3b83a7c" '
                        'ON "inventory_did" ("owner_id")',
                        'CREATE INDEX "inventory_did_client_package_id_0f24334d" '
                        'ON "inventory_did" ("client_package_id")',
                        'CREATE INDEX "inventory_did_cart_held_by_id_6c3a406c" '
                        'ON "inventory_did" ("cart_held_by_id")',
                    ],
                ),
            ],
        ),
    ]
