"""The outbox's Celery jobs: thin, id-taking, safe to run twice or concurrently."""

from celery import shared_task

from .services import email_send, outbox_flush


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_email(email_id):
    """Send one queued e-mail (enqueued after the commit that stored it)."""
    return email_send(email_id=email_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def flush_outbox():
    """Send every queued e-mail that is due: those whose enqueue failed, and the retries."""
    return outbox_flush()
