"""What a customer changes on its own numbers: where calls go, and who looks after them.

Who may change what is ``accounts.permissions``' rule: where calls go, the owner account's
admins and the members the number is assigned to; who it is assigned to, the admins only.
Every write locks the number's row,
re-checks that the account still holds it, and records who changed it and why in the
number's history (as the console's ``did_update_details`` does).

Users assigned to a number are users of its owner account. Nothing in the status
transitions clears them when a number leaves the account, so every read goes through
``assigned_users_of`` (users of the current owner only) and every write replaces the
whole set, dropping any stale assignment.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.permissions import is_customer_admin, require_may_manage_number

from .choices import OWNED_STATUSES
from .models import DID, RING_TIMEOUT_MAX, RING_TIMEOUT_MIN
from .numbers import validate_destination

RING_TIMEOUT_ERROR = (
    f"Enter a ring timeout between {RING_TIMEOUT_MIN} and {RING_TIMEOUT_MAX} seconds, "
    "or choose to ring until answered."
)


def _locked_own_did(did, actor, *, admins_only=True):
    """Lock ``did`` and check that ``actor``'s account holds it and ``actor`` may change it
    (an admin; with ``admins_only=False`` also a member it is assigned to)."""
    if admins_only and not is_customer_admin(actor):
        raise PermissionDenied("Only your account's admins may change this.")
    locked = DID.objects.select_for_update().get(pk=did.pk)
    if locked.status not in OWNED_STATUSES:
        raise PermissionDenied(f"{locked.number} is not one of your account's numbers.")
    # The owner's admins and members, or its reseller's admins and support acting for it.
    require_may_manage_number(actor, locked)
    return locked


def _clean_ring_timeout(ring_timeout):
    if ring_timeout is None:
        return None
    if isinstance(ring_timeout, bool) or not isinstance(ring_timeout, int):
        raise ValidationError({"ring_timeout": RING_TIMEOUT_ERROR})
    if not RING_TIMEOUT_MIN <= ring_timeout <= RING_TIMEOUT_MAX:
        raise ValidationError({"ring_timeout": RING_TIMEOUT_ERROR})
    return ring_timeout


def _clean_destination(destination):
    destination = (destination or "").strip()
    try:
        validate_destination(destination)
    except ValidationError as exc:
        raise ValidationError({"destination": exc.messages}) from exc
    if len(destination) > DID._meta.get_field("destination").max_length:
        raise ValidationError({"destination": "A destination is at most 255 characters."})
    return destination


@transaction.atomic
def did_destination_set(*, did, actor, destination, ring_timeout):
    """Forward ``did``'s calls to ``destination`` (E.164 or SIP URI; "" for none), ringing
    ``ring_timeout`` seconds (None: until answered). Returns the refreshed number."""
    destination = _clean_destination(destination)
    ring_timeout = _clean_ring_timeout(ring_timeout)
    did = _locked_own_did(did, actor, admins_only=False)
    if (did.destination, did.ring_timeout) == (destination, ring_timeout):
        return did
    did.destination, did.ring_timeout = destination, ring_timeout
    ringing = "until answered" if ring_timeout is None else f"{ring_timeout} s"
    reason = f"destination set to “{destination or 'none'}”, ringing {ringing}"
    did._change_reason = reason if len(reason) <= 100 else f"{reason[:99]}…"
    did._history_user = actor
    did.save(update_fields=["destination", "ring_timeout", "updated_at"])
    return did


def assigned_users_of(did):
    """The users ``did`` is assigned to who belong to its current owner (none when it has
    no owner): a stale assignment from an earlier owner never shows."""
    if did.owner_id is None:
        return get_user_model().objects.none()
    return did.assigned_users.filter(account_id=did.owner_id).order_by("full_name", "email")


@transaction.atomic
def did_users_assign(*, did, actor, users):
    """Assign ``did`` to exactly ``users`` (users of the owner account; empty: nobody).

    Replaces the whole set, so an assignment left over from an earlier owner is dropped.
    Returns the list of users now assigned.
    """
    did = _locked_own_did(did, actor)
    users = list({user.pk: user for user in users}.values())
    User = get_user_model()
    found = {
        user.pk: user
        for user in User.objects.filter(pk__in=[u.pk for u in users]).only(
            "pk", "account_id", "is_active", "email", "full_name"
        )
    }
    for user in users:
        current = found.get(user.pk)
        if current is None or current.account_id != did.owner_id:
            raise ValidationError({"users": f"{user} is not a user of your account."})
        if not current.is_active:
            raise ValidationError({"users": f"{current} is deactivated; assign an active user."})
    before = set(did.assigned_users.values_list("pk", flat=True))
    after = set(found)
    if before == after:
        return sorted(found.values(), key=lambda u: (u.full_name, u.email))
    did.assigned_users.set(sorted(after))
    names = ", ".join(sorted(str(user) for user in found.values())) or "nobody"
    reason = f"assigned to {names}"
    did._change_reason = reason if len(reason) <= 100 else f"{reason[:99]}…"
    did._history_user = actor
    did.save(update_fields=["updated_at"])
    return sorted(found.values(), key=lambda u: (u.full_name, u.email))


DESCRIPTION_MAX = DID._meta.get_field("description").max_length


@transaction.atomic
def did_description_set(*, did, actor, description):
    """Label ``did`` with the owner's own ``description`` (trimmed, spaces collapsed; "" for
    none). Whoever may set where its calls go may label it. Returns the refreshed number."""
    description = " ".join(str(description or "").split())
    if len(description) > DESCRIPTION_MAX:
        raise ValidationError(
            {"description": f"A description is at most {DESCRIPTION_MAX} characters."}
        )
    did = _locked_own_did(did, actor, admins_only=False)
    if did.description == description:
        return did
    did.description = description
    did._change_reason = "description changed"
    did._history_user = actor
    did.save(update_fields=["description", "updated_at"])
    return did
