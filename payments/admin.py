from django.contrib import admin

from .models import BalanceClaim, BankStatementLine, CardPayment, PaymentEvent, Payout


@admin.register(CardPayment, PaymentEvent, BalanceClaim, Payout, BankStatementLine)
class ReadOnlyAdmin(admin.ModelAdmin):
    """Money rows are written by the services only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
