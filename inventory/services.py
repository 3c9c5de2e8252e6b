"""Writes on the number stock. Views, admin actions, tasks and commands all call these.

Every DID status change goes through ``did_transition`` / ``dids_transition``, which apply
``ALLOWED_TRANSITIONS`` and record who (``actor``, a user, or ``job``, a system job name)
and why in the DID's history.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from didportal.batches import drain

from . import bulk
from .choices import AFTER_HOLD_STATUSES, OWNED_STATUSES, DIDStatus
from .models import DID, ClientPackage, NumberBlock, Operator, Package
from .numbers import parse_number_spec

S = DIDStatus

ALLOWED_TRANSITIONS = {
    S.IN_STOCK: {S.RESERVED, S.ACTIVE, S.ARCHIVE},
    S.RESERVED: {S.IN_STOCK, S.ACTIVE, S.ARCHIVE},
    # An active number is never archived directly: it is released (in_stock) or put on
    # hold first, so a live customer number cannot vanish by one mistaken click.
    S.ACTIVE: {S.HOLD, S.IN_STOCK},
    # Back to active when the package is reactivated; otherwise released, normally to the
    # number's after_hold_status (the expiry job), or to another one by an admin.
    S.HOLD: {S.ACTIVE, S.IN_STOCK, S.RESERVED, S.ARCHIVE},
    S.ARCHIVE: {S.IN_STOCK},
}

# Fields a transition may change; updates write exactly these.
TRANSITION_FIELDS = [
    "status",
    "owner",
    "client_package",
    "destination",
    "hold_started_at",
    "unpaid",
    "ever_sold",
    "cart_held_until",
    "cart_held_by",
    "updated_at",
]
TRANSITION_ATTNAMES = [DID._meta.get_field(name).attname for name in TRANSITION_FIELDS]


class InvalidTransition(ValidationError):
    pass


def _reason_text(*, reason, job, actor=None):
    """The history's change reason; a system job signs it with its name."""
    if actor is None and not job:
        raise ValueError("A change needs an actor (a user) or a job name.")
    return f"{job}: {reason}" if job else reason


def _apply_transition(did, *, to_status, owner, client_package, now):
    """Change ``did`` in memory to ``to_status``, or raise InvalidTransition."""
    from_status = did.status
    if to_status not in ALLOWED_TRANSITIONS.get(from_status, set()):
        raise InvalidTransition(f"Cannot move {did.number} from {from_status} to {to_status}.")
    if to_status == S.ACTIVE:
        if from_status == S.HOLD:
            if owner is not None and owner.pk != did.owner_id:
                raise InvalidTransition(
                    f"{did.number} is on hold for another account; release it first."
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
    _apply_transition(
        locked,
        to_status=to_status,
        owner=owner,
        client_package=client_package,
        now=timezone.now(),
    )
    locked._change_reason = _reason_text(reason=reason, job=job, actor=actor)
    locked._history_user = actor
    locked.save(update_fields=TRANSITION_FIELDS)
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
    dids = _lock_in_pk_order(dids_queryset_or_ids)
    return _transition_locked(
        dids,
        to_status=to_status,
        reason=reason,
        actor=actor,
        job=job,
        owner=owner,
        client_package=client_package,
    )


def _lock_in_pk_order(dids_queryset_or_ids):
    """Lock the DIDs in primary-key order, so two bulk moves cannot deadlock."""
    locking = DID.objects.select_for_update().order_by("pk")
    if hasattr(dids_queryset_or_ids, "values"):
        return list(locking.filter(pk__in=dids_queryset_or_ids.values("pk")))
    ids = sorted(set(dids_queryset_or_ids))
    return [did for chunk in bulk.chunks(ids) for did in locking.filter(pk__in=chunk)]


def _transition_locked(dids, *, to_status, reason, actor, job, owner=None, client_package=None):
    reason = _reason_text(reason=reason, job=job, actor=actor)
    now = timezone.now()
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
    return len(dids)


# --- Adding numbers --------------------------------------------------------------------------


@transaction.atomic
def dids_add(
    *,
    block,
    spec_text,
    actor,
    job=None,
    tag="",
    notes="",
    status=S.IN_STOCK,
    after_hold_status=S.IN_STOCK,
):
    """Add the numbers of ``spec_text`` to ``block``: all of them, or none."""
    if status not in AFTER_HOLD_STATUSES:
        raise ValidationError({"status": f"New numbers cannot be added as {status}."})
    if after_hold_status not in AFTER_HOLD_STATUSES:
        raise ValidationError({"after_hold_status": f"{after_hold_status} is not allowed."})
    reason = _reason_text(reason="numbers added", job=job, actor=actor)
    numbers = parse_number_spec(spec_text, block=block)
    existing = bulk.existing_numbers(numbers, limit=10)
    if existing:
        raise ValidationError(
            f"Already in stock, nothing was added: {', '.join(existing)}"
            + (" and more." if len(existing) == 10 else ".")
        )
    now = timezone.now()
    template = DID(
        block=block,
        status=status,
        after_hold_status=after_hold_status,
        tag=tag,
        notes=notes,
        created_at=now,
        updated_at=now,
    )
    try:
        with transaction.atomic():
            bulk.insert_dids(template, numbers)
    except IntegrityError as exc:  # someone added one of them since our check
        raise ValidationError("Some of these numbers were added meanwhile; try again.") from exc
    bulk.record_history(
        column="number", values=numbers, history_type="+", actor=actor, reason=reason, now=now
    )
    return len(numbers)


# --- Packages ----------------------------------------------------------------------------


@transaction.atomic
def client_package_assign(*, account, package, start_date, actor):
    if not package.active:
        raise ValidationError(f"The package {package} is not active.")
    client_package = ClientPackage(account=account, package=package, start_date=start_date)
    client_package._change_reason = "package assigned"
    client_package._history_user = actor
    client_package.full_clean()
    client_package.save()
    return client_package


def _held_under(client_package):
    return DID.objects.filter(client_package=client_package, status__in=OWNED_STATUSES)


@transaction.atomic
def did_assign(*, did, account, client_package, actor):
    """Give an in-stock (or reserved) number to ``account`` under one of its packages."""
    # The package row lock serialises assignments under it, so the count below is exact.
    client_package = (
        ClientPackage.objects.select_for_update()
        .select_related("package")
        .get(pk=client_package.pk)
    )
    if client_package.account_id != account.pk:
        raise ValidationError(f"This package does not belong to {account}.")
    if not client_package.active:
        raise ValidationError(f"The package {client_package.package} is not active.")
    held = _held_under(client_package).count()
    limit = client_package.package.max_dids
    if held >= limit:
        raise ValidationError(
            f"The package {client_package.package} allows {limit} numbers "
            f"and {account} already holds {held}."
        )
    return did_transition(
        did=did,
        to_status=S.ACTIVE,
        owner=account,
        client_package=client_package,
        actor=actor,
        reason=f"assigned to {account} under {client_package.package}",
    )


def _client_package_set_active(client_package, *, active, actor, job, reason):
    client_package = ClientPackage.objects.select_for_update().get(pk=client_package.pk)
    client_package.active = active
    client_package._change_reason = _reason_text(reason=reason, job=job, actor=actor)
    client_package._history_user = actor
    client_package.save(update_fields=["active"])
    return client_package


@transaction.atomic
def client_package_deactivate(*, client_package, actor=None, job=None):
    """Every number held under the package goes on hold, keeping its owner and destination."""
    client_package = _client_package_set_active(
        client_package, active=False, actor=actor, job=job, reason="package deactivated"
    )
    dids_transition(
        dids_queryset_or_ids=_held_under(client_package).filter(status=S.ACTIVE),
        to_status=S.HOLD,
        actor=actor,
        job=job,
        reason=f"package {client_package.package} deactivated",
    )
    return client_package


@transaction.atomic
def client_package_reactivate(*, client_package, actor=None, job=None):
    """Numbers still on hold under the package become active again."""
    client_package = _client_package_set_active(
        client_package, active=True, actor=actor, job=job, reason="package reactivated"
    )
    dids_transition(
        # A number also held for an unpaid renewal stays on hold until it is paid.
        dids_queryset_or_ids=_held_under(client_package).filter(status=S.HOLD, unpaid=False),
        to_status=S.ACTIVE,
        actor=actor,
        job=job,
        reason=f"package {client_package.package} reactivated",
    )
    return client_package


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
    if locked.status == S.ACTIVE:
        _apply_transition(
            locked, to_status=S.HOLD, owner=None, client_package=None, now=timezone.now()
        )
    elif locked.status != S.HOLD:
        return locked
    locked.unpaid = True
    locked._change_reason = _reason_text(reason=reason, job=job)
    locked.save(update_fields=TRANSITION_FIELDS)
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
    package_holds = locked.client_package_id and not locked.client_package.active
    if not package_holds:
        _apply_transition(
            locked, to_status=S.ACTIVE, owner=None, client_package=None, now=timezone.now()
        )
    locked._change_reason = _reason_text(reason=reason, job=job)
    locked.save(update_fields=TRANSITION_FIELDS)
    return locked


# --- Cart holds --------------------------------------------------------------------------
#
# A customer's cart holds the specific numbers in it for CART_HOLD_MINUTES. The hold is two
# columns on the DID row, never a status change: one conditional UPDATE claims it, so two
# carts can never both hold a number, and the stock triggers count a held number as not
# buyable. Queryset updates write no history rows: a hold is a passing claim.


def _cart_holdable(*, now, user):
    """In stock and not held by anybody else right now (an expired hold counts as free)."""
    return Q(status=S.IN_STOCK) & (
        Q(cart_held_until__isnull=True) | Q(cart_held_until__lt=now) | Q(cart_held_by=user)
    )


@transaction.atomic
def dids_cart_hold(*, dids, user, until, now=None):
    """Hold the DIDs ``dids`` (ids) for ``user``'s cart until ``until``; returns the set of ids
    now held by ``user``: those in stock and free, expired or already theirs (refreshed).

    Rows are locked in primary-key order first, so two carts claiming overlapping numbers
    in opposite orders wait for each other instead of deadlocking; the conditional UPDATE
    then decides, so the numbers someone else holds stay theirs.
    """
    now = now or timezone.now()
    if until <= now:
        raise ValueError("A cart hold must end in the future.")
    ids = sorted({int(pk) for pk in dids})
    if not ids:
        return set()
    list(DID.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
    DID.objects.filter(_cart_holdable(now=now, user=user), pk__in=ids).update(
        cart_held_until=until, cart_held_by=user
    )
    return set(
        DID.objects.filter(
            pk__in=ids, status=S.IN_STOCK, cart_held_by=user, cart_held_until=until
        ).values_list("pk", flat=True)
    )


@transaction.atomic
def dids_cart_release(*, dids, user):
    """End ``user``'s holds on the DIDs ``dids`` (ids); others' holds are left alone.
    Returns how many were released."""
    ids = sorted({int(pk) for pk in dids})
    if not ids:
        return 0
    return DID.objects.filter(pk__in=ids, cart_held_by=user).update(
        cart_held_until=None, cart_held_by=None
    )


@transaction.atomic
def cart_holds_release_expired(*, now=None):
    """Clear every cart hold that ended before ``now`` (the minute job). Safe to run twice or
    concurrently, and against a customer renewing a hold meanwhile: the UPDATE re-checks
    ``cart_held_until < now`` on each row it locks. Returns the number released."""
    now = now or timezone.now()
    return DID.objects.filter(cart_held_until__lt=now).update(
        cart_held_until=None, cart_held_by=None
    )


# --- Hold expiry -------------------------------------------------------------------------


def holds_release_expired(*, now=None, job="release_holds", batch_size=1000):
    """Release every number on hold for longer than DID_HOLD_DAYS to its after-hold status.

    Safe to run twice or concurrently: each batch is its own transaction and skips rows
    another run has locked; a released number no longer matches. Returns the number released.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=getattr(settings, "DID_HOLD_DAYS", 30))
    return drain(_release_batch, cutoff=cutoff, job=job, batch_size=batch_size)


@transaction.atomic
def _release_batch(*, cutoff, job, batch_size):
    expired = list(
        DID.objects.select_for_update(skip_locked=True)
        .filter(status=S.HOLD, hold_started_at__lte=cutoff)
        .order_by("pk")[:batch_size]
    )
    for after_hold_status in AFTER_HOLD_STATUSES:
        group = [did for did in expired if did.after_hold_status == after_hold_status]
        if group:
            _transition_locked(
                group,
                to_status=after_hold_status,
                actor=None,
                job=job,
                reason=f"hold expired, released to {after_hold_status}",
            )
    return len(expired)


# --- The console: operators, blocks and packages ------------------------------------------


def _save_with_history(instance, *, actor, reason):
    """Validate (fields and constraints) and save; models with history record who and why."""
    instance._history_user = actor
    instance._change_reason = reason
    instance.full_clean()
    instance.save()
    return instance


@transaction.atomic
def operator_create(*, actor, **fields):
    return _save_with_history(Operator(**fields), actor=actor, reason="operator created")


@transaction.atomic
def operator_update(*, operator, actor, **fields):
    operator = Operator.objects.select_for_update().get(pk=operator.pk)
    for name, value in fields.items():
        setattr(operator, name, value)
    return _save_with_history(operator, actor=actor, reason="operator edited")


@transaction.atomic
def block_create(*, actor, **fields):
    return _save_with_history(NumberBlock(**fields), actor=actor, reason="block created")


# Numbers are validated against these when added; changing them would strand the numbers.
BLOCK_FIELDS_FIXED_BY_NUMBERS = ("country", "area_code")


@transaction.atomic
def block_update(*, block, actor, **fields):
    block = NumberBlock.objects.select_for_update().get(pk=block.pk)
    if block.dids.exists():
        errors = {
            name: f"This block has numbers; its {name.replace('_', ' ')} cannot change."
            for name in BLOCK_FIELDS_FIXED_BY_NUMBERS
            if name in fields and fields[name] != getattr(block, name)
        }
        if errors:
            raise ValidationError(errors)
    for name, value in fields.items():
        setattr(block, name, value)
    return _save_with_history(block, actor=actor, reason="price plan edited")


@transaction.atomic
def package_create(*, actor, **fields):
    return _save_with_history(Package(**fields), actor=actor, reason="package created")


@transaction.atomic
def package_update(*, package, actor, **fields):
    package = Package.objects.select_for_update().get(pk=package.pk)
    for name, value in fields.items():
        setattr(package, name, value)
    return _save_with_history(package, actor=actor, reason="package edited")


# --- The console: editing and deleting numbers ------------------------------------------------


@transaction.atomic
def did_update_details(*, did, actor, tag, notes, destination, reason=""):
    """Edit the free-text fields of one number; the destination only while a customer holds it."""
    did = DID.objects.select_for_update().get(pk=did.pk)
    if destination != did.destination and did.status not in OWNED_STATUSES:
        raise ValidationError(
            {"destination": "Only a number a customer holds (active or on hold) has a destination."}
        )
    did.tag, did.notes, did.destination = tag, notes, destination
    _save_with_history(did, actor=actor, reason=reason or "details edited")
    return did


@transaction.atomic
def dids_bulk_edit(
    *,
    dids_queryset_or_ids,
    actor,
    reason="",
    tag=None,
    notes=None,
    after_hold_status=None,
    block=None,
):
    """Set tag, notes, after-hold status and/or block (None: unchanged) of many numbers.

    All or nothing; one history row per number names the actor and what was set.
    Returns the number of numbers changed.
    """
    changes = {}
    if tag is not None:
        changes["tag"] = tag
    if notes is not None:
        changes["notes"] = notes
    if after_hold_status is not None:
        if after_hold_status not in AFTER_HOLD_STATUSES:
            raise ValidationError({"after_hold_status": f"{after_hold_status} is not allowed."})
        changes["after_hold_status"] = after_hold_status
    if block is not None:
        changes["block"] = block
    if not changes:
        raise ValidationError("Nothing to change.")
    if "tag" in changes:
        DID._meta.get_field("tag").run_validators(tag)
    ids = _lock_ids_in_pk_order(dids_queryset_or_ids)
    if block is not None:
        _check_same_country(ids, block)
    now = timezone.now()
    for chunk in bulk.chunks(ids):
        DID.objects.filter(pk__in=chunk).update(**changes, updated_at=now)
    described = ", ".join(_describe_change(name, value) for name, value in changes.items())
    bulk.record_history(
        column="id",
        values=ids,
        history_type="~",
        actor=actor,
        reason=f"{described}: {reason}" if reason else described,
        now=now,
    )
    return len(ids)


def _describe_change(name, value):
    if name == "block":
        return f"moved to block {value.pk} ({value})"
    label = name.replace("_", " ")
    return f"{label} set to “{value}”" if value != "" else f"{label} cleared"


def _lock_ids_in_pk_order(dids_queryset_or_ids):
    """Lock the DIDs in primary-key order (as ``_lock_in_pk_order``) and return their ids."""
    locking = DID.objects.select_for_update().order_by("pk").values_list("pk", flat=True)
    if hasattr(dids_queryset_or_ids, "values"):
        return list(locking.filter(pk__in=dids_queryset_or_ids.values("pk")))
    ids = sorted(set(dids_queryset_or_ids))
    return [pk for chunk in bulk.chunks(ids) for pk in locking.filter(pk__in=chunk)]


def _check_same_country(ids, block):
    for chunk in bulk.chunks(ids):
        foreign = (
            DID.objects.filter(pk__in=chunk)
            .exclude(block__country=block.country)
            .values_list("number", flat=True)[:5]
        )
        if foreign:
            raise ValidationError(
                {
                    "block": f"{block} is in {block.country.name}; "
                    f"{', '.join(foreign)} are not. Numbers move only within their country."
                }
            )


@transaction.atomic
def dids_delete_unsold(*, dids_queryset_or_ids, actor, reason=""):
    """Delete numbers that were never sold, all or nothing; the history keeps a "-" row each.

    A number that was ever sold (or is held by a customer) stays: archive it instead, so its
    history and invoices still point at it. Returns the number deleted.
    """
    ids = _lock_ids_in_pk_order(dids_queryset_or_ids)
    for chunk in bulk.chunks(ids):
        refused = list(
            DID.objects.filter(pk__in=chunk)
            .filter(Q(ever_sold=True) | Q(status__in=OWNED_STATUSES))
            .values_list("number", flat=True)[:10]
        )
        if refused:
            raise ValidationError(
                f"Nothing was deleted: {', '.join(refused)}"
                + (" and others" if len(refused) == 10 else "")
                + " were sold before. Archive sold numbers instead of deleting them."
            )
    bulk.record_history(
        column="id",
        values=ids,
        history_type="-",
        actor=actor,
        reason=f"deleted: {reason}" if reason else "deleted",
        now=timezone.now(),
    )
    _delete_rows(ids)
    return len(ids)


def _delete_rows(ids):
    """DELETE by id, set-based. QuerySet.delete() would fetch every row to send post_delete,
    and simple-history would then write a second "-" history row per number."""
    table = connection.ops.quote_name(DID._meta.db_table)
    with connection.cursor() as cursor:
        for chunk in bulk.chunks(ids):
            placeholders = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"DELETE FROM {table} WHERE id IN ({placeholders})", chunk)  # noqa: S608
