"""Webhooks and order callbacks: the interface other apps call.

Both write a delivery row in the caller's transaction (the outbox pattern, as e-mails do):
if the transaction rolls back, nothing is sent; if Redis is down when it commits, the
periodic sweep sends it later. Celery delivers after commit, signs the body, retries with
backoff for a day, and logs every attempt.
"""

EVENTS = {
    "order.completed": "An order completed",
    "order.failed": "An order failed",
    "number.activated": "A number became active",
    "number.on_hold": "A number went on hold",
    "number.released": "A number was released",
    "number.renewed": "A number was renewed",
    "number.renewal_failed": "A number's renewal failed",
    "balance.low": "The balance fell below its threshold",
    "registration.approved": "A registration was approved",
    "registration.rejected": "A registration was rejected",
}


def event_emit(*, account, event, data, now=None) -> None:
    """Queue ``event`` (a key of ``EVENTS``) with ``data`` (JSON-serialisable) for every
    active endpoint of ``account`` subscribed to it. Call inside the transaction that made
    the change. (Stub until the webhooks lane lands: does nothing.)"""


def order_callback_queue(*, order, url, method) -> None:
    """Queue DIDWW's order callback: ``url`` is called (``method`` "post" or "get") with the
    order's id and status once the order completes or fails. Call inside the order's
    transaction. (Stub until the webhooks lane lands: does nothing.)"""
