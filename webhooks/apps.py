from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Signed HTTPS notifications to accounts' endpoints and DIDWW-style order callbacks,
    delivered by Celery from an outbox row written in the same transaction as the event."""

    name = "webhooks"
    verbose_name = "Webhooks"
