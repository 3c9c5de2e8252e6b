import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "didportal.settings")

app = Celery("didportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic job finds its work in the database, so a missed or doubled run is harmless.
app.conf.beat_schedule = {
    "compact-stock-counts": {
        "task": "catalog.tasks.compact_stock",
        "schedule": 60.0,
    },
    # E-mails whose enqueue failed (Redis down) and retries that are due.
    "flush-outbox": {
        "task": "outbox.tasks.flush_outbox",
        "schedule": 60.0,
    },
    # Webhook deliveries whose enqueue failed (Redis down) and retries that are due.
    "sweep-webhooks": {"task": "webhooks.tasks.sweep_webhooks", "schedule": 60.0},
    # Cart holds last CART_HOLD_MINUTES; a released number is back in the counts within a minute.
    # API exports whose enqueue was lost (Redis down when the export was created).
    "sweep-api-exports": {"task": "api.tasks.sweep_exports", "schedule": 60.0},
    "release-cart-holds": {
        "task": "cart.tasks.release_cart_holds",
        "schedule": 60.0,
    },
    "release-expired-holds": {
        "task": "inventory.tasks.release_holds",
        "schedule": crontab(minute=15),
    },
    # Resellers' scheduled price changes for renewals (the renewal run applies them too).
    "apply-renewal-price-changes": {
        "task": "billing.tasks.apply_renewal_price_changes",
        "schedule": crontab(minute=5),
    },
    # Auto top-ups five minutes before each renewal run (which runs at :00, :10, …), so a
    # balance topped up by a saved card is credited (by the webhook) when renewals charge.
    "run-auto-topups": {
        "task": "payments.tasks.run_auto_topups",
        "schedule": crontab(minute="5-59/10"),
    },
    "renew-subscriptions": {
        "task": "billing.tasks.renew_subscriptions",
        "schedule": crontab(minute="*/10"),
    },
    # After release_holds: subscriptions whose number was released end.
    "end-subscriptions": {
        "task": "billing.tasks.end_subscriptions",
        "schedule": crontab(minute=20),
    },
    # Yesterday's charges, one invoice per account; hourly, so a missed run catches up.
    "issue-daily-invoices": {
        "task": "billing.tasks.issue_daily_invoices",
        "schedule": crontab(minute=30),
    },
    # Numbers awaiting registration: reminders before the deadline, then cancel and refund.
    "registration-deadlines": {
        "task": "compliance.tasks.registration_deadlines",
        "schedule": crontab(minute=40),
    },
    "render-missing-invoice-pdfs": {
        "task": "billing.tasks.render_missing_invoice_pdfs",
        "schedule": crontab(minute="*/15"),
    },
}


def conf_override(**values):
    """Change settings of the running app (tests, benches): ``conf_override(broker_url=…)``.
    Celery 5.6 reads a namespaced app's ``CELERY_``-prefixed key (here from Django's
    settings) before the plain one, so ``app.conf.broker_url = …`` alone changes nothing:
    both keys are set. Returns the previous values, for a later ``conf_override(**saved)``."""
    saved = {key: getattr(app.conf, key) for key in values}
    for key, value in values.items():
        app.conf[key] = value
        app.conf[f"CELERY_{key.upper()}"] = value
    return saved
