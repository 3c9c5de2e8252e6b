"""The webhooks' Celery jobs: thin, id-taking, safe to run twice or concurrently."""

from celery import shared_task

from .services import delivery_send, webhooks_sweep


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_webhook(delivery_id):
    """Send one delivery (enqueued after the commit that stored it, or by the sweep)."""
    return delivery_send(delivery_id=delivery_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def sweep_webhooks():
    """Hand every due delivery to the workers: those whose enqueue was lost, and retries."""
    return webhooks_sweep()
