from django.contrib import admin

from .models import Delivery, Endpoint


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ("pk", "account", "url", "enabled", "consecutive_failures", "created_at")
    list_filter = ("enabled",)
    search_fields = ("url", "account__name")
    exclude = ("secret_encrypted",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("pk", "account", "kind", "event", "url", "status", "attempts", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("url", "event", "uuid")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
