"""Operations view of compliance data: read-only. Requirements are edited in the portal's
console (/staff/compliance/), whose service keeps versions; agreements are never edited."""

from django.contrib import admin

from .models import Requirement, RequirementAgreement, RequirementVersion


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RequirementVersionInline(admin.TabularInline):
    model = RequirementVersion
    fields = ("version", "title", "created_at", "created_by", "text_sha256")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Requirement)
class RequirementAdmin(ReadOnlyAdmin):
    list_display = ("title", "country", "number_type", "version", "active", "updated_at")
    list_filter = ("country", "number_type", "active")
    search_fields = ("title", "text")
    inlines = [RequirementVersionInline]


@admin.register(RequirementAgreement)
class RequirementAgreementAdmin(ReadOnlyAdmin):
    list_display = (
        "agreed_at",
        "account",
        "user",
        "title",
        "requirement_version",
        "order_id",
        "ip_address",
    )
    list_filter = ("requirement",)
    search_fields = ("account__name", "user__email", "title", "=order_id")
    list_select_related = ("account", "user")
    date_hierarchy = "agreed_at"
