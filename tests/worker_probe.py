"""A task for tests that run a real worker (``celery worker --include tests.worker_probe``)."""

import time

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def nap(seconds):
    """Hold the worker busy, with its message unacknowledged (acks_late), for ``seconds``."""
    time.sleep(seconds)
    return seconds
