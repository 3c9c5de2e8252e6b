"""Webhook endpoints, their deliveries (the outbox rows) and every attempt to send one.

A delivery row is written in the transaction of the change it reports (``services``), so it
exists exactly when that change committed; Celery sends it after commit and the periodic
sweep sends whatever Redis lost. Order callbacks (DIDWW's ``callback_url``) are deliveries
without an endpoint.
"""

from uuid import uuid4

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Endpoint(models.Model):
    """An HTTPS URL of an account that receives the events it subscribed to, signed with
    its own secret (stored encrypted: we sign with it, so we must read it back)."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField("URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # Keys of ``services.EVENTS``; a JSON list, so SQLite and PostgreSQL store it alike.
    events = models.JSONField(default=list)
    secret_encrypted = models.TextField()
    # The secret's first characters, to tell secrets apart on the page ("whsec_AbC…").
    secret_hint = models.CharField(max_length=20)
    enabled = models.BooleanField(default=True)
    # Why it was disabled by the portal (persistent failure); empty when a person did it.
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Deliveries given up in a row (reset by any success); reaching the limit disables it.
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["account", "enabled"], name="webhooks_endpoint_acct_idx")]

    def __str__(self):
        return self.url


class CallbackSecret(models.Model):
    """The key an account's order callbacks are signed with (one per account; DIDWW's
    callbacks need no signature, we sign them anyway)."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, related_name="webhook_callback_secret"
    )
    secret_encrypted = models.TextField()
    secret_hint = models.CharField(max_length=20)
    created_at = models.DateTimeField(default=timezone.now)


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"

    class Kind(models.TextChoices):
        EVENT = "event", "Event"
        TEST = "test", "Test event"
        CALLBACK = "callback", "Order callback"

    class Method(models.TextChoices):
        POST = "post", "POST"
        GET = "get", "GET"

    # Sent as X-Didportal-Delivery: the same on every attempt and on "send again".
    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    # Null for an order callback (its URL is the order's).
    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.EVENT)
    event = models.CharField(max_length=64)
    # The payload's id: the same for every endpoint one event went to.
    event_id = models.UUIDField(default=uuid4)
    url = models.URLField("URL", max_length=500)
    method = models.CharField(max_length=4, choices=Method.choices, default=Method.POST)
    # The exact bytes sent (a JSON document, or a form/query string for a callback), fixed
    # when the event happened, so every attempt and "send again" send the same thing.
    body = models.TextField()
    content_type = models.CharField(max_length=100, default="application/json")
    # Idempotency: queuing the same key twice stores one delivery ("order-callback:17").
    key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    # When a pending delivery is next due; null once delivered or given up.
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # When the sweep last handed it to the workers: it is not handed again for a while, so
    # slow workers do not find the same delivery queued once a minute.
    swept_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The last attempt's outcome (every attempt is an ``Attempt`` row too).
    response_status = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhooks_delivery_due_idx",
            ),
            models.Index(fields=["endpoint", "-id"], name="webhooks_delivery_ep_idx"),
            models.Index(fields=["account", "kind", "-id"], name="webhooks_delivery_acct_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "delivered", "failed"]),
                name="webhooks_delivery_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", next_attempt_at__isnull=False)
                | (~Q(status="pending") & Q(next_attempt_at__isnull=True)),
                name="webhooks_delivery_next_iff_pending",
            ),
            models.CheckConstraint(
                condition=Q(status="delivered", delivered_at__isnull=False)
                | (~Q(status="delivered") & Q(delivered_at__isnull=True)),
                name="webhooks_delivery_delivered_at_iff_delivered",
            ),
            models.CheckConstraint(
                condition=Q(kind="callback", endpoint__isnull=True)
                | (~Q(kind="callback") & Q(endpoint__isnull=False)),
                name="webhooks_delivery_endpoint_unless_callback",
            ),
            models.CheckConstraint(
                condition=Q(key__isnull=True) | ~Q(key=""), name="webhooks_delivery_key_not_empty"
            ),
        ]

    def __str__(self):
        return f"{self.event} → {self.url}"


class Attempt(models.Model):
    """One try at sending a delivery: what the receiver answered, or why nothing was."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    url = models.URLField("URL", max_length=500)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    # The start of the receiver's answer (``services.RESPONSE_LOGGED_CHARS``).
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["-pk"]

    def __str__(self):
        return f"attempt {self.number} of delivery {self.delivery_id}"
