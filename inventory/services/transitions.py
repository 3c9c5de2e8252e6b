"""Writes on the number stock. Views, admin actions, tasks and commands all call these.

Every DID status change goes through ``did_transition`` / ``dids_transition``, which apply
``ALLOWED_TRANSITIONS`` and record who (``actor``, a user, or ``job``, a system job name)
and why in the DID's history. A move that takes a number out of its owner's hands (to
in stock, reserved or archive) also ends what depends on it (its subscriptions, through
``dependents``) in the same transaction, whoever asked for it: see ``release``.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from webhooks.services import events_emit

from .. import bulk
from ..choices import OWNED_STATUSES, DIDStatus
from ..models import DID
from . import dependents

S = DIDStatus

ALLOWED_TRANSITIONS = {
    S.IN_STOCK: {S.RESERVED, S.ACTIVE, S.ARCHIVE, S.AWAITING_REGISTRATION},
    S.RESERVED: {S.IN_STOCK, S.ACTIVE, S.ARCHIVE},
    # An active number is never archived directly: it is released (in_stock) or put on
    # hold first, so a live customer number cannot vanish by one mistaken click.
    S.ACTIVE: {S.HOLD, S.IN_STOCK},
    # Back to active when the package is reactivated; otherwise released, normally to the
    # number's after_hold_status (the expiry job), or to another one by an admin.
    S.HOLD: {S.ACTIVE, S.IN_STOCK, S.RESERVED, S.ARCHIVE},
    S.ARCHIVE: {S.IN_STOCK},
    # Approved (active, same owner), or released when the registration is cancelled.
    S.AWAITING_REGISTRATION: {S.ACTIVE, S.IN_STOCK},
}

# Fields a transition may change; updates write exactly these.
TRANSITION_FIELDS = [
    "status",
    "owner",
    "client_package",
    "destination",
    "description",
    "hold_started_at",
    "unpaid",
    "ever_sold",
    "cart_held_until",
    "cart_held_by",
    "updated_at",
]
TRANSITION_ATTNAMES = [DID._meta.get_field(name).attname for name in TRANSITION_FIELDS]


# Moves to active from these keep the number's own owner.
KEEPS_OWNER = (S.HOLD, S.AWAITING_REGISTRATION)


class InvalidTransition(ValidationError):
    pass


def _may_move(from_status, to_status, owner):
    """May a number in ``from_status`` move to ``to_status`` (``owner``: the account named
    for it)? Active needs an owner, except from hold, where the number keeps its own."""
    if to_status not in ALLOWED_TRANSITIONS.get(from_status, set()):
        return False
    if from_status == S.AWAITING_REGISTRATION:
        # Only compliance moves it (approval, or cancellation with a refund), through
        # ``transition_locked``: a console move would skip the refund.
        return False
    if to_status == S.AWAITING_REGISTRATION:
        return owner is not None
    return not (to_status == S.ACTIVE and from_status not in KEEPS_OWNER and owner is None)


def moves_without_owner(from_statuses):
    """The statuses every number in ``from_statuses`` can move to when no owner is named
    (the console's status change and bulk status; assigning is its own action)."""
    from_statuses = set(from_statuses)
    return [
        status
        for status in S
        if from_statuses and all(_may_move(f, status, None) for f in from_statuses)
    ]


# "3 numbers are <in stock>", "<archived> numbers cannot move to <reserved>".
STATUS_WORDS = {
    S.IN_STOCK: "in stock",
    S.RESERVED: "reserved",
    S.ACTIVE: "active",
    S.HOLD: "on hold",
    S.ARCHIVE: "archived",
    S.AWAITING_REGISTRATION: "awaiting registration",
}


def _refusal(from_status, to_status, numbers):
    examples = ", ".join(numbers[:3]) + (" and others" if len(numbers) > 3 else "")
    many = len(numbers) != 1
    was = STATUS_WORDS[from_status]
    who = f"{len(numbers)} number{'s' if many else ''} {'are' if many else 'is'} {was}"
    if from_status == S.AWAITING_REGISTRATION:
        why = "a number awaiting registration is approved or cancelled by compliance review"
    elif to_status == S.ACTIVE:
        why = "a number becomes active only when it is assigned to a customer (Assign, on "
        why += "the number's page)"
    elif to_status == S.HOLD:
        why = "only a customer's active number can go on hold"
    elif to_status == S.AWAITING_REGISTRATION:
        why = "a number awaits registration only when it is sold to a customer"
    else:
        why = f"{was} numbers cannot move to {STATUS_WORDS[to_status]}"
    return f"Nothing was changed: {who} ({examples}); {why}."


def check_moves(dids, *, to_status, owner=None):
    """Refuse, naming how many numbers and why, when any of ``dids`` cannot move."""
    blocked = {}
    for did in dids:
        if not _may_move(did.status, to_status, owner):
            blocked.setdefault(did.status, []).append(did.number)
    if blocked:
        raise InvalidTransition(
            [_refusal(status, to_status, numbers) for status, numbers in blocked.items()]
        )


def reason_text(*, reason, job, actor=None):
    """The history's change reason; a system job signs it with its name."""
    if actor is None and not job:
        raise ValueError("A change needs an actor (a user) or a job name.")
    return f"{job}: {reason}" if job else reason


def _apply_transition(did, *, to_status, owner, client_package, now):
    """Change ``did`` in memory to ``to_status``, or raise InvalidTransition."""
    from_status = did.status
    if to_status not in ALLOWED_TRANSITIONS.get(from_status, set()):
        raise InvalidTransition(f"Cannot move {did.number} from {from_status} to {to_status}.")
    if to_status in (S.ACTIVE, S.AWAITING_REGISTRATION):
        if from_status in KEEPS_OWNER:
            if owner is not None and owner.pk != did.owner_id:
                held = STATUS_WORDS[from_status]
                raise InvalidTransition(
                    f"{did.number} is {held} for another account; release it first."
                )
        else:
            if owner is None:
                raise InvalidTransition(f"{did.number} needs an owner to become active.")
            if client_package is not None and client_package.account_id != owner.pk:
                raise InvalidTransition(f"The package of {did.number} belongs to another account.")
            did.owner = owner
            did.client_package = client_package
        did.hold_started_at = None
        did.ever_sold = True
    elif to_status == S.HOLD:
        did.hold_started_at = now
    else:  # in_stock, reserved, archive: the number leaves its owner.
        did.owner = None
        did.client_package = None
        did.destination = ""
        did.description = ""
        did.hold_started_at = None
    if to_status != S.HOLD:
        did.unpaid = False  # only a held number can be held for non-payment
    # A cart hold only lives on an in-stock number: leaving in_stock ends it.
    did.cart_held_until = None
    did.cart_held_by = None
    did.status = to_status
    did.updated_at = now


@transaction.atomic
def did_transition(
    *, did, to_status, reason, actor=None, job=None, owner=None, client_package=None
):
    """Move one DID to ``to_status``; refreshes ``did`` and returns it."""
    locked = DID.objects.select_for_update().get(pk=did.pk)
    if (
        locked.status == S.AWAITING_REGISTRATION
        and to_status in ALLOWED_TRANSITIONS[S.AWAITING_REGISTRATION]
    ):
        raise InvalidTransition(_refusal(locked.status, to_status, [locked.number]))
    now = timezone.now()
    had_owner = locked.owner_id is not None
    before = before_move([locked])
    _apply_transition(
        locked,
        to_status=to_status,
        owner=owner,
        client_package=client_package,
        now=now,
    )
    reason = reason_text(reason=reason, job=job, actor=actor)
    locked._change_reason = reason
    locked._history_user = actor
    locked.save(update_fields=TRANSITION_FIELDS)
    if had_owner and to_status not in OWNED_STATUSES:
        dependents.numbers_left_owner(did_ids=[locked.pk], reason=reason, now=now)
    numbers_emit([locked], before, now=now)
    did.refresh_from_db()
    return did


@transaction.atomic
def dids_transition(
    *,
    dids_queryset_or_ids,
    to_status,
    reason,
    actor=None,
    job=None,
    owner=None,
    client_package=None,
):
    """Move many DIDs to ``to_status`` at once, all or nothing. Returns the number moved."""
    dids = lock_in_pk_order(dids_queryset_or_ids)
    check_moves(dids, to_status=to_status, owner=owner)
    return transition_locked(
        dids,
        to_status=to_status,
        reason=reason,
        actor=actor,
        job=job,
        owner=owner,
        client_package=client_package,
    )


def lock_in_pk_order(dids_queryset_or_ids, *, ids_only=False):
    """Lock the DIDs in primary-key order, so two bulk moves cannot deadlock; returns them,
    or only their ids."""
    locking = DID.objects.select_for_update().order_by("pk")
    if ids_only:
        locking = locking.values_list("pk", flat=True)
    if hasattr(dids_queryset_or_ids, "values"):
        return list(locking.filter(pk__in=dids_queryset_or_ids.values("pk")))
    ids = sorted(set(dids_queryset_or_ids))
    return [did for chunk in bulk.chunks(ids) for did in locking.filter(pk__in=chunk)]


def transition_locked(
    dids, *, to_status, reason, actor, job, owner=None, client_package=None, emit=True
):
    """Move locked ``dids``; ``emit=False`` sends no webhook events (a release's step
    through hold: the release itself is the event; a caller that emits them with its own,
    ``numbers_events``)."""
    reason = reason_text(reason=reason, job=job, actor=actor)
    now = timezone.now()
    leaving = [did.pk for did in dids if did.owner_id is not None]
    before = before_move(dids) if emit else {}
    for did in dids:
        _apply_transition(
            did, to_status=to_status, owner=owner, client_package=client_package, now=now
        )
    bulk.update_dids(dids, TRANSITION_ATTNAMES)
    bulk.record_history(
        column="id",
        values=[did.pk for did in dids],
        history_type="~",
        actor=actor,
        reason=reason,
        now=now,
    )
    if to_status not in OWNED_STATUSES:
        dependents.numbers_left_owner(did_ids=leaving, reason=reason, now=now)
    if emit:
        numbers_emit(dids, before, now=now)
    return len(dids)


# --- Webhook events ------------------------------------------------------------------------


def before_move(dids):
    """``{pk: (status, owner id)}`` before a move, for ``numbers_emit``."""
    return {did.pk: (did.status, did.owner_id) for did in dids}


def numbers_emit(dids, before, *, now):
    """Webhook events for moved numbers, to their owner's endpoints (in this transaction):
    ``number.activated`` (bought, assigned, approved, back from hold), ``number.on_hold``,
    ``number.released`` (to the account that held it)."""
    items = numbers_events(dids, before)
    if items:
        events_emit(items, now=now)


def numbers_events(dids, before):
    """``numbers_emit``'s events as ``events_emit`` items, for a caller that emits them
    with its own."""
    items = []
    for did in dids:
        was, owner_id = before[did.pk]
        if was == did.status:
            continue
        if did.status == S.ACTIVE:
            event, account_id = "number.activated", did.owner_id
        elif did.status == S.HOLD:
            event, account_id = "number.on_hold", did.owner_id
        elif owner_id is not None and did.status not in OWNED_STATUSES:
            event, account_id = "number.released", owner_id
        else:
            continue
        data = {"did": {"id": did.pk, "number": did.number, "status": did.status}, "from": was}
        items.append((account_id, event, data))
    return items


# --- Holds for non-payment ----------------------------------------------------------------
#
# One hold status, two reasons: a deactivated package (the number's client package is
# inactive) and an unpaid renewal (``unpaid``). The number is active again only when neither
# holds it any more.


@transaction.atomic
def did_hold_unpaid(*, did, job, reason):
    """A renewal of ``did`` went unpaid: it goes on hold (if it is not already) and stays
    there until ``did_paid``, whatever its package does meanwhile."""
    locked = DID.objects.select_for_update().get(pk=did.pk)
    before, now = before_move([locked]), timezone.now()
    if locked.status == S.ACTIVE:
        _apply_transition(locked, to_status=S.HOLD, owner=None, client_package=None, now=now)
    elif locked.status != S.HOLD:
        return locked
    locked.unpaid = True
    locked._change_reason = reason_text(reason=reason, job=job)
    locked.save(update_fields=TRANSITION_FIELDS)
    numbers_emit([locked], before, now=now)
    return locked


@transaction.atomic
def did_paid(*, did, job, reason):
    """The unpaid renewal of ``did`` is paid: back to active unless its package holds it."""
    locked = (
        DID.objects.select_for_update(of=("self",)).select_related("client_package").get(pk=did.pk)
    )
    if locked.status != S.HOLD:
        return locked
    locked.unpaid = False
    before, now = before_move([locked]), timezone.now()
    package_holds = locked.client_package_id and not locked.client_package.active
    if not package_holds:
        _apply_transition(locked, to_status=S.ACTIVE, owner=None, client_package=None, now=now)
    locked._change_reason = reason_text(reason=reason, job=job)
    locked.save(update_fields=TRANSITION_FIELDS)
    numbers_emit([locked], before, now=now)
    return locked
