"""A number leaves its owner: one service for every path that frees a customer's number
(hold expiry, cancellation at the end of the paid period or at once, the console).

The number goes to its after-hold status (an active one through hold, so its history shows
both steps), and what depends on it (the number's subscription and its extra capacity,
registered by billing in ``dependents``) ends in the same transaction, so the next buyer can
take it at once. Rows are locked numbers first (pk order), then their subscriptions. The
console's status change and bulk status reach the same ending through ``did_transition``.
"""

from django.db import transaction

from ..choices import DIDStatus
from ..models import DID
from .transitions import lock_in_pk_order, transition_locked

S = DIDStatus
# A number awaiting registration is not released here: compliance cancels it, with a refund.
RELEASABLE = (S.ACTIVE, S.HOLD)


@transaction.atomic
def dids_release(*, dids_queryset_or_ids, reason, actor=None, job=None, owner=None):
    """Release the numbers a customer holds (active or on hold) to their after-hold status,
    ending their subscriptions. Numbers no customer holds, or (with ``owner``) held by
    another account, are left as they are. Returns the number released."""
    locked = [
        did
        for did in lock_in_pk_order(dids_queryset_or_ids)
        if did.status in RELEASABLE and (owner is None or did.owner_id == owner.pk)
    ]
    return release_locked(locked, reason=reason, actor=actor, job=job)


def did_release(*, did, reason, actor=None, job=None, owner=None):
    """``dids_release`` of one number; returns it refreshed."""
    dids_release(dids_queryset_or_ids=[did.pk], reason=reason, actor=actor, job=job, owner=owner)
    return DID.objects.get(pk=did.pk)


def release_locked(dids, *, reason, actor=None, job=None):
    """Release ``dids``, locked and held by customers, to their after-hold status."""
    active = [did for did in dids if did.status == S.ACTIVE]
    if active:
        # Through hold, silently: the release is the one webhook event.
        transition_locked(active, to_status=S.HOLD, reason=reason, actor=actor, job=job, emit=False)
    for to_status in {did.after_hold_status for did in dids}:
        group = [did for did in dids if did.after_hold_status == to_status]
        transition_locked(group, to_status=to_status, reason=reason, actor=actor, job=job)
    return len(dids)
