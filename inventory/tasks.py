from celery import shared_task

from .services import holds_release_expired


@shared_task(acks_late=True)
def release_holds():
    """Release numbers whose hold has expired; running it twice changes nothing more."""
    return holds_release_expired(job="release_holds")
