from celery import shared_task

from .services import stock_compact


@shared_task(acks_late=True)
def compact_stock():
    """Fold stock deltas; idempotent, so overlapping runs are harmless."""
    stock_compact()
