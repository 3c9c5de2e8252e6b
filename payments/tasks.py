"""Payments' Celery tasks. Each finds its work in the database, so a lost or repeated
call is harmless."""

from celery import shared_task

from .services import autotopup


@shared_task(name="payments.tasks.card_save", acks_late=True, reject_on_worker_lost=True)
def card_save(payment_id):
    """Record the card a paid ``CardPayment`` saved for auto top-up, on the account's
    ``AutoTopup``. Enqueued by ``card_payment_credit`` after commit; a lost call is caught
    up by ``run_auto_topups`` (and by the auto top-up page). Returns whether a card is
    recorded."""
    return autotopup.card_save(payment_id=payment_id) is not None


@shared_task(name="payments.tasks.run_auto_topups", acks_late=True, reject_on_worker_lost=True)
def run_auto_topups():
    """Charge the saved card of each account whose balance fell under its auto top-up
    threshold (at most ``AUTO_TOPUP_ATTEMPTS_PER_DAY`` tries a day). Safe to run twice or
    concurrently: each account's row is locked while its payment is opened."""
    return autotopup.auto_topups_run()
