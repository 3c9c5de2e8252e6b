"""Exports of an account's numbers (DIDWW's ``exports``): created by a key, written by a
Celery task (``api.tasks.export_write``), fetched with a key of the same account.

``export_type`` is ``"dids"`` (DIDWW's CDR exports, ``cdr_in`` / ``cdr_out``, have nothing to
read here: refused with the reason). ``filters`` are the ``/v3/dids`` list's filters, checked
when the export is created; ``customer.id`` exports a reseller's customer's numbers (the same
rule as the list: 404 for anything but its own customer, 403 for a role that may not read
them). Cells a spreadsheet would run are neutralised (``didportal.csv_export``).
"""

import csv
import gzip
import io
import logging
import tempfile

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from didportal.csv_export import spreadsheet_safe
from didportal.enqueue import enqueue

from .models import Export

logger = logging.getLogger(__name__)

EXPORT_TYPES = {"dids": "the account's numbers"}
# Exports an account may have waiting at once (a script cannot queue work without bound),
# and how long a finished export is kept (DIDWW deletes them after a month).
EXPORTS_WAITING_MAX = 5
EXPORT_KEEP_DAYS = 30
COLUMNS = [
    "id",
    "number",
    "country",
    "area",
    "number_type",
    "status",
    "description",
    "destination",
    "ring_timeout",
    "capacity_limit",
    "channels_included_count",
    "terminated",
    "expires_at",
    "created_at",
    "did_group_id",
    "order_id",
    "customer_id",
]


def export_filters_clean(*, user, filters) -> dict:
    """``filters`` (a JSON object of the dids list's filters) checked; ValidationError names
    what is wrong. ``customer.id`` is resolved for ``user`` (Http404 / PermissionDenied)."""
    from .selectors_resellers import owner_for  # noqa: PLC0415 (views import services)
    from .views_dids import DidFilterSet  # noqa: PLC0415

    if not isinstance(filters, dict):
        raise ValidationError({"filters": 'Send the filters as an object, e.g. {"number": …}.'})
    data, clean = {}, {}
    for name, value in filters.items():
        key = str(name).replace(".", "__")
        if key not in DidFilterSet.base_filters:
            raise ValidationError({"filters": f"Unknown filter “{str(name)[:40]}”."})
        if not isinstance(value, str | int | bool) or value in ("", None):
            raise ValidationError({"filters": f"Give “{name}” a value (text or a number)."})
        text = str(value).lower() if isinstance(value, bool) else str(value)
        data[key], clean[str(name)] = text, text
    filterset = DidFilterSet(data=data)
    if not filterset.is_valid():
        messages = [f"{n.replace('__', '.')}: {' '.join(e)}" for n, e in filterset.errors.items()]
        raise ValidationError({"filters": messages})
    if "customer__id" in data:
        clean["customer.id"] = str(owner_for(user, data["customer__id"], "exports").pk)
    return clean


@transaction.atomic
def export_create(
    *,
    key,
    user,
    export_type,
    filters=None,
    external_reference_id="",
    callback_url="",
    callback_method="",
) -> Export:
    """A pending export of ``key``'s account, written after commit by a worker. DIDWW's
    ``callback_url`` / ``callback_method`` are refused (exports are read, not called back)."""
    if export_type not in EXPORT_TYPES:
        raise ValidationError(
            {
                "export_type": f"Unknown export type “{str(export_type)[:32]}”: this portal "
                "exports “dids” (your numbers as CSV)."
            }
        )
    for name, value in (("callback_url", callback_url), ("callback_method", callback_method)):
        if value:
            raise ValidationError(
                {
                    name: "Exports are not called back here: read GET /v3/exports/<id> "
                    "until its status is completed."
                }
            )
    waiting = Export.objects.filter(
        account=key.account, status__in=(Export.Status.PENDING, Export.Status.PROCESSING)
    ).count()
    if waiting >= EXPORTS_WAITING_MAX:
        raise ValidationError(
            f"{waiting} exports of this account are still being written: wait until they are "
            "completed, then ask again."
        )
    export = Export.objects.create(
        account=key.account,
        key=key,
        export_type=export_type,
        filters=export_filters_clean(user=user, filters=filters or {}),
        external_reference_id=(external_reference_id or "").strip()[:100],
    )
    transaction.on_commit(lambda: export_enqueue(export_id=export.pk), robust=True)
    return export


def export_enqueue(*, export_id) -> bool:
    from .tasks import export_write  # noqa: PLC0415 (tasks import services)

    return enqueue(export_write, export_id, catch_up="the export sweep")


def _rows(export):
    from cart.models_orders import OrderItem  # noqa: PLC0415
    from cart.selectors_numbers import my_numbers_queryset, number_rows  # noqa: PLC0415

    from .views_dids import DidFilterSet  # noqa: PLC0415

    user = export.key.created_by
    owner = int(export.filters.get("customer.id") or export.account_id)
    data = {name.replace(".", "__"): value for name, value in export.filters.items()}
    numbers = DidFilterSet(data=data, queryset=my_numbers_queryset(user, owners=[owner])).qs
    numbers = numbers.order_by("number", "pk")
    batch = []
    for did in numbers.iterator(chunk_size=500):
        batch.append(did)
        if len(batch) == 500:
            yield from _batch_rows(batch, number_rows, OrderItem)
            batch = []
    yield from _batch_rows(batch, number_rows, OrderItem)


def _batch_rows(dids, number_rows, OrderItem):  # noqa: N803
    rows = number_rows(dids)
    rentals = [row.rental.pk for row in rows if row.rental is not None]
    orders = dict(
        OrderItem.objects.filter(subscription_id__in=rentals).values_list(
            "subscription_id", "order_id"
        )
    )
    for row in rows:
        did, block, rental = row.did, row.did.block, row.rental
        yield [
            did.pk,
            did.number,
            block.country.code,
            block.city or block.region,
            block.number_type,
            did.status,
            did.description,
            did.destination,
            did.ring_timeout if did.ring_timeout is not None else "",
            row.channels.total,
            row.channels.included,
            "true" if row.ending else "false",
            row.paid_until.isoformat() if row.paid_until else "",
            (rental.created_at if rental else did.created_at).isoformat(),
            block.pk,
            orders.get(rental.pk, "") if rental else "",
            did.owner_id,
        ]


def export_write(*, export_id, now=None) -> Export | None:
    """Write the CSV of a pending export (gzip, in private storage) and complete it. Safe to
    run twice: the export's row is locked, and a completed export is left as it is."""
    with transaction.atomic():
        export = (
            Export.objects.select_for_update(of=("self",))
            .select_related("key__created_by")
            .filter(pk=export_id)
            .first()
        )
        if export is None or export.status in (Export.Status.COMPLETED, Export.Status.FAILED):
            return export
        export.status = Export.Status.PROCESSING
        try:
            count = _write(export)
        except Exception:
            logger.exception("export %s failed", export_id)
            export.status = Export.Status.FAILED
            export.save(update_fields=["status"])
            return export
        export.status = Export.Status.COMPLETED
        export.rows = count
        export.completed_at = now or timezone.now()
        export.save(update_fields=["status", "rows", "completed_at", "file"])
        return export


def _write(export) -> int:
    count = 0
    with tempfile.TemporaryFile() as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb") as packed:
            text = io.TextIOWrapper(packed, encoding="utf-8", newline="")
            writer = csv.writer(text)
            writer.writerow(COLUMNS)
            for row in _rows(export):
                writer.writerow([spreadsheet_safe(value) for value in row])
                count += 1
            text.flush()
            text.detach()
        raw.seek(0)
        export.file.save(f"export-{export.pk}.csv.gz", File(raw), save=False)
    return count


def exports_sweep(*, older_than_seconds=60, now=None) -> int:
    """Enqueue pending exports whose enqueue was lost (a broker outage), and delete exports
    finished more than EXPORT_KEEP_DAYS ago with their files. Returns how many it enqueued."""
    now = now or timezone.now()
    cutoff = now - timezone.timedelta(seconds=older_than_seconds)
    pending = Export.objects.filter(status=Export.Status.PENDING, created_at__lt=cutoff)
    ids = list(pending.order_by("pk").values_list("pk", flat=True)[:500])
    for export_id in ids:
        export_enqueue(export_id=export_id)
    exports_expire(now=now)
    return len(ids)


def exports_expire(*, now=None) -> int:
    """Delete exports created more than EXPORT_KEEP_DAYS ago (their files first: a file
    whose row is gone would never be found again). Returns how many were deleted."""
    now = now or timezone.now()
    old = Export.objects.filter(
        created_at__lt=now - timezone.timedelta(days=EXPORT_KEEP_DAYS)
    ).exclude(status__in=(Export.Status.PENDING, Export.Status.PROCESSING))
    deleted = 0
    for export in old.order_by("pk")[:500]:
        if export.file:
            export.file.delete(save=False)
        export.delete()
        deleted += 1
    return deleted
