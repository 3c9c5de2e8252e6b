"""Read-only admin: money moves only through billing.services."""

from django.contrib import admin

from .models import Balance, LedgerEntry, TaxRate


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "account", "kind", "amount", "balance_after", "description")
    list_filter = ("kind", "method")
    search_fields = ("account__name", "idempotency_key", "external_reference", "reference_id")
    list_select_related = ("account",)
    date_hierarchy = "created_at"


@admin.register(Balance)
class BalanceAdmin(ReadOnlyAdmin):
    list_display = ("account", "amount", "low_balance_threshold", "low_balance_notified")
    search_fields = ("account__name",)
    list_select_related = ("account",)


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ("country", "rate", "updated_at")
    search_fields = ("country",)
