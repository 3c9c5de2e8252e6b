from django.contrib import admin, messages

from .models import OutgoingEmail
from .services import email_retry


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "subject",
        "recipients",
        "status",
        "attempts",
        "created_at",
        "sent_at",
        "next_attempt_at",
    )
    list_filter = ("status", "sensitive")
    search_fields = ("subject", "key", "to")
    date_hierarchy = "created_at"
    actions = ["retry_now"]
    fields = (
        "key",
        "to",
        "from_email",
        "reply_to",
        "subject",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "sensitive",
        "text",
        "html",
    )

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def get_fields(self, request, obj=None):
        if obj is not None and obj.sensitive:
            # A one-time secret waiting to be sent is not shown to operators.
            return tuple(f for f in self.fields if f not in ("text", "html"))
        return self.fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return request.user.has_perm("outbox.change_outgoingemail")

    @admin.action(description="Retry now", permissions=["retry"])
    def retry_now(self, request, queryset):
        retried = sum(email_retry(email=email) for email in queryset)
        skipped = queryset.count() - retried
        self.message_user(request, f"{retried} e-mail(s) will be sent now.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} skipped: already sent, or a one-time code given up "
                "(the user asks for a new one).",
                messages.WARNING,
            )
