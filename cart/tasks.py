from celery import shared_task

from inventory.services import cart_holds_release_expired


@shared_task(acks_late=True)
def release_cart_holds():
    """End the cart holds whose time is up (every minute); safe to run twice."""
    return cart_holds_release_expired()
