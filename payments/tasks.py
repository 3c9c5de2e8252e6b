"""Payments' Celery tasks. Each finds its work in the database, so a lost or repeated
call is harmless."""

from celery import shared_task


@shared_task(name="payments.tasks.card_save")
def card_save(payment_id):
    """Record the card a paid ``CardPayment`` saved for auto top-up (being built)."""
