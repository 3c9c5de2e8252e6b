"""The stock console's writes: numbers added, operators, blocks, packages, edits."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from .. import bulk
from ..choices import AFTER_HOLD_STATUSES, OWNED_STATUSES, DIDStatus
from ..models import DID, NumberBlock, Operator, Package
from ..numbers import parse_number_spec
from .transitions import lock_in_pk_order, reason_text

S = DIDStatus

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
    reason = reason_text(reason="numbers added", job=job, actor=actor)
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
    ids = lock_in_pk_order(dids_queryset_or_ids, ids_only=True)
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
    ids = lock_in_pk_order(dids_queryset_or_ids, ids_only=True)
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
