from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from .models import Account, User


@admin.register(Account)
class AccountAdmin(SimpleHistoryAdmin):
    list_display = ("name", "kind", "parent", "country", "status", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("name", "legal_name", "vat_number")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "account", "role", "is_active", "is_superuser")
    list_filter = ("role", "is_active", "is_superuser")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Portal", {"fields": ("full_name", "account", "role")}),
        ("Operations", {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
