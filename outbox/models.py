"""The e-mail outbox: every e-mail the portal sends is first a row here.

The row is written in the caller's transaction, so an e-mail exists exactly when the
business write it reports on was committed; a worker sends it afterwards (see services).
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutgoingEmail(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (gave up)"

    # Idempotency: queuing the same key twice stores one e-mail ("order-confirmation:17").
    key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    to = models.JSONField("recipients", default=list)
    subject = models.TextField()
    text = models.TextField("text body")
    html = models.TextField("HTML body", blank=True)
    # Who it is from, when not DEFAULT_FROM_EMAIL: a reseller's brand name on the platform's
    # address (see accounts.branding.email_sender), and where replies go.
    from_email = models.CharField("from", max_length=300, blank=True)
    reply_to = models.JSONField("reply to", default=list, blank=True)
    # Sensitive e-mails (one-time codes) have their bodies blanked once sent or given up.
    sensitive = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When a queued e-mail is next due; null once sent or given up.
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = "outgoing e-mail"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="queued"),
                name="outbox_queued_due_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "sent", "failed"]),
                name="outbox_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False)
                | (~Q(status="sent") & Q(sent_at__isnull=True)),
                name="outbox_sent_at_iff_sent",
            ),
            models.CheckConstraint(
                condition=Q(status="queued", next_attempt_at__isnull=False)
                | (~Q(status="queued") & Q(next_attempt_at__isnull=True)),
                name="outbox_next_attempt_iff_queued",
            ),
            models.CheckConstraint(
                condition=Q(key__isnull=True) | ~Q(key=""), name="outbox_key_not_empty"
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.subject}"

    @property
    def recipients(self):
        return ", ".join(self.to)
