"""Order statuses: one transition table and one function, like a number's.

An order is created ``pending`` inside checkout's transaction and leaves it, in the same
transaction, for ``completed`` (every item sold), ``partial`` (some failed, uncharged) or
``failed`` (none sold, nothing charged). Those three are final. Every move, the creation
included, writes an ``OrderStatusChange`` row with who (a user or a job), when and why.
"""

from django.core.exceptions import ValidationError
from django.utils import timezone

from didportal.status_history import require_author

from .models_orders import Order, OrderStatusChange

S = Order.Status

ORDER_TRANSITIONS = {
    "": {S.PENDING},  # placed
    S.PENDING: {S.COMPLETED, S.PARTIAL, S.FAILED},
    S.COMPLETED: set(),
    S.PARTIAL: set(),
    S.FAILED: set(),
}


class InvalidOrderTransition(ValidationError):
    pass


def order_transition(
    *,
    order,
    to_status,
    reason,
    actor=None,
    job="",
    now=None,
    also_saving=(),
    history=None,
    save_order=True,
) -> Order:
    """Move ``order`` (saved, or new with ``status=""``) to ``to_status`` and record it;
    ``also_saving``: other fields of a saved order changed with its status, saved with it.
    ``history``: a list the unsaved ``OrderStatusChange`` is appended to, for the caller to
    write in its transaction with the order's other moves (``OrderStatusChange.objects.
    bulk_create``: one statement); without it the row is written here. ``save_order=False``
    (a saved order): the caller saves its status (and ``also_saving``) later in the same
    transaction, with its other changes (checkout: with its invoice, one ``UPDATE``).

    Call it inside the transaction that changes the order (checkout's own); raises
    ``InvalidOrderTransition`` for a move the table does not allow.
    """
    require_author(actor, job)
    from_status = order.status or ""
    if to_status not in ORDER_TRANSITIONS.get(from_status, set()):
        raise InvalidOrderTransition(
            f"Order {order.pk or '(new)'} cannot move from {from_status or 'new'} to {to_status}."
        )
    now = now or timezone.now()
    order.status = to_status
    if order.pk is None or save_order:
        order.save(update_fields=None if order.pk is None else ["status", *also_saving])
    change = OrderStatusChange(
        order=order,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        job=job,
        reason=reason[:255],
        created_at=now,
    )
    if history is None:
        change.save()
    else:
        history.append(change)
    return order
