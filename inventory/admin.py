from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import DID, ClientPackage, ImportBatch, ImportJob, NumberBlock, Operator, Package


@admin.register(Operator)
class OperatorAdmin(SimpleHistoryAdmin):
    list_display = ("name", "contact_name", "contact_email", "active")
    list_filter = ("active",)
    search_fields = ("name", "contact_name", "contact_email")


@admin.register(NumberBlock)
class NumberBlockAdmin(SimpleHistoryAdmin):
    list_display = (
        "__str__",
        "country",
        "city",
        "area_code",
        "number_type",
        "operator",
        "monthly_price",
        "buy_monthly_cost",
    )
    list_filter = ("country", "number_type", "billing_type", "operator")
    search_fields = ("city", "region", "area_code", "tag")
    list_select_related = ("operator",)


@admin.register(DID)
class DIDAdmin(SimpleHistoryAdmin):
    list_display = ("number", "status", "owner", "block", "hold_started_at", "tag")
    list_filter = ("status", "block__country", "block__number_type")
    search_fields = ("number", "tag")
    list_select_related = ("owner", "block", "block__operator")
    raw_id_fields = ("block", "owner", "client_package")
    # Status and ownership change only through inventory.services (the transition table).
    readonly_fields = (
        "status",
        "owner",
        "client_package",
        "hold_started_at",
        "ever_sold",
        "import_batch",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request):
        return False  # numbers are added with inventory.services.dids_add


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    list_display = ("name", "max_dids", "active")


@admin.register(ClientPackage)
class ClientPackageAdmin(SimpleHistoryAdmin):
    list_display = ("package", "account", "start_date", "active")
    list_filter = ("active", "package")
    raw_id_fields = ("account",)
    readonly_fields = ("active",)  # toggled by client_package_deactivate / _reactivate


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Read-only: imports run through the console's import page."""

    list_display = ("pk", "original_name", "status", "total_rows", "imported_count", "created_at")
    list_filter = ("status",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """Read-only: the audit record of numbers imported together (DID.import_batch)."""

    list_display = ("pk", "created_at", "created_by", "job", "block", "status", "number_count")
    list_select_related = ("created_by", "job", "block__operator")
    raw_id_fields = ("job", "block", "created_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
