"""Reads on the number stock. Customer-facing reads are scoped to the requesting user."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from accounts.scoping import scoped

from .choices import OWNED_STATUSES, DIDStatus
from .importing import columns as import_columns
from .models import DID, ClientPackage, ImportBatch, NumberBlock, Operator, Package


def dids_for(user, *, status=None, search=""):
    """The numbers a user may see: their own account's (or, for staff, all)."""
    qs = scoped(DID.objects.select_related("block", "owner"), user)
    if status:
        qs = qs.filter(status=status)
    if search:
        # Numbers are stored as E.164; a prefix search also matches digits typed without "+".
        qs = qs.filter(number__startswith=search if search.startswith("+") else f"+{search}")
    return qs.order_by("number")


def client_packages_for(user):
    return scoped(ClientPackage.objects.select_related("package", "account"), user)


def blocks_with_stock():
    """Every block with its count of numbers per status (platform staff)."""
    per_status = {
        f"{status}_count": Count("dids", filter=Q(dids__status=status))
        for status in DIDStatus.values
    }
    return NumberBlock.objects.select_related("operator").annotate(**per_status)


def in_stock_numbers(block, *, limit):
    """Free numbers of a block, answered by the partial in-stock index."""
    return list(
        DID.objects.filter(block=block, status=DIDStatus.IN_STOCK)
        .order_by("number")
        .values_list("number", flat=True)[:limit]
    )


# --- Packages and self-service buying ----------------------------------------------------------


@dataclass(frozen=True)
class Allowance:
    """What ``account``'s packages that limit self-service let it buy: the active package
    with the most room (``package`` None when every such package is inactive)."""

    package: Package | None
    limit: int = 0
    held: int = 0

    def refusal(self, *, adding, in_cart=0):
        """Why ``adding`` more numbers (besides ``in_cart``) are refused, or None."""
        if self.package is None:
            return (
                "Your number package is not active: buying numbers is paused until your "
                "provider reactivates it."
            )
        if self.held + in_cart + adding <= self.limit:
            return None
        room = max(0, self.limit - self.held - in_cart)
        has = f"you hold {self.held}" + (f" and have {in_cart} in your cart" if in_cart else "")
        more = f"you can add {room} more" if room else "you cannot add more"
        return (
            f"Your package “{self.package.name}” allows {self.limit} "
            f"number{'s' if self.limit != 1 else ''}: {has}, so {more}."
        )


def self_service_allowance(account):
    """The allowance of ``account``'s packages that limit self-service; None: no limit."""
    packages = list(
        ClientPackage.objects.filter(account=account, package__limits_self_service=True)
        .select_related("package")
        .annotate(held=Count("dids", filter=Q(dids__status__in=OWNED_STATUSES)))
        .order_by("pk")
    )
    return allowance_of(packages)


def allowance_of(client_packages):
    """The ``Allowance`` of client packages carrying ``held`` (annotated or set)."""
    if not client_packages:
        return None
    active = [cp for cp in client_packages if cp.active]
    if not active:
        return Allowance(package=None)
    best = max(active, key=lambda cp: (cp.package.max_dids - cp.held, -cp.pk))
    return Allowance(package=best.package, limit=best.package.max_dids, held=best.held)


# --- The platform admins' console ------------------------------------------------------------


def operators_with_block_counts():
    return Operator.objects.annotate(block_count=Count("blocks")).order_by("name")


def blocks_filtered(*, country="", city="", operator=None, number_type=""):
    """Number blocks for the console's block list; stock counts come per page, see below."""
    qs = NumberBlock.objects.select_related("operator", "requirement")
    if country:
        qs = qs.filter(country=country)
    if city:
        qs = qs.filter(city__icontains=city)
    if operator:
        qs = qs.filter(operator=operator)
    if number_type:
        qs = qs.filter(number_type=number_type)
    return qs


def block_status_counts(blocks):
    """``{block_id: {status: count}}`` for the given blocks, in one grouped query.

    Counting per page of blocks (not annotating the whole block list) keeps the overview
    from grouping millions of numbers of blocks that are not on screen.
    """
    counts = {block.pk: dict.fromkeys(DIDStatus.values, 0) for block in blocks}
    rows = (
        DID.objects.filter(block__in=list(counts))
        .order_by()
        .values_list("block_id", "status")
        .annotate(n=Count("pk"))
    )
    for block_id, status, n in rows:
        counts[block_id][status] = n
    return counts


def stock_summary():
    """Numbers per status over the whole stock, for the platform admin's dashboard."""
    counts = dict.fromkeys(DIDStatus.values, 0)
    rows = DID.objects.order_by().values_list("status").annotate(n=Count("pk"))
    counts.update(dict(rows))
    return counts


def dids_filtered(
    *,
    prefix="",
    contains="",
    country="",
    city="",
    operator=None,
    status="",
    tag="",
    owner="",
    block=None,
):
    """Every number matching the console's DID filters (platform staff see the whole stock)."""
    qs = DID.objects.all()
    if prefix:
        qs = qs.filter(number__startswith=_e164_prefix(prefix))
    if contains:
        qs = qs.filter(number__contains=contains.lstrip("+"))
    if block:
        qs = qs.filter(block=block)
    if country:
        qs = qs.filter(block__country=country)
    if city:
        qs = qs.filter(block__city__icontains=city)
    if operator:
        qs = qs.filter(block__operator=operator)
    if status:
        qs = qs.filter(status=status)
    if tag:
        qs = qs.filter(tag=tag)
    if owner:
        qs = qs.filter(owner__name__icontains=owner)
    return qs


def _e164_prefix(text):
    """Numbers are stored as E.164; digits typed without "+" still match from the start."""
    return text if text.startswith("+") else f"+{text}"


def dids_for_console_page(queryset):
    return queryset.select_related("block__operator", "owner")


# The numbers export: the import's columns (so the file imports back), then EXPORT_ONLY.
EXPORT_LOOKUPS = (
    "number",
    "block__operator__name",
    "block__country",
    "block__city",
    "block__number_type",
    "block__region",
    "block__area_code",
    "block__voice",
    "block__sms",
    "block__fax",
    "status",
    "tag",
    "notes",
    "block__setup_fee",
    "block__monthly_price",
    "owner__name",
    "destination",
    "after_hold_status",
    "ever_sold",
    "created_at",
)


def dids_for_export(queryset):
    """(header, rows): plain tuples streamed in chunks, never a million model objects."""
    header = [*import_columns.NAMES, *import_columns.EXPORT_ONLY]
    rows = queryset.order_by("number").values_list(*EXPORT_LOOKUPS).iterator(chunk_size=2000)
    return header, (_export_row(*values) for values in rows)


def _export_row(number, operator, country, city, number_type, region, area_code, *rest):
    voice, sms, fax, status, tag, notes, setup_fee, monthly_price, *export_only = rest
    capabilities = ";".join(
        name for name, has in (("voice", voice), ("sms", sms), ("fax", fax)) if has
    )
    return (
        *(number, operator, country, city, number_type, region, area_code, capabilities),
        *(status, tag, notes, _price_text(setup_fee), _price_text(monthly_price)),
        *export_only,
    )


def _price_text(price):
    """2.00000 → 2.00, 0.01250 → 0.0125 (what the import reads back as the same price)."""
    if price is None:
        return ""
    cents = price.quantize(Decimal("0.01"))
    return str(cents) if cents == price else format(price.normalize(), "f")


def sold_or_owned_count(queryset):
    """How many of these numbers may not be deleted (sold once, or held by a customer)."""
    return queryset.filter(Q(ever_sold=True) | Q(status__in=OWNED_STATUSES)).count()


def dids_by_ids(ids):
    return DID.objects.filter(pk__in=ids)


def dids_for_detail():
    return DID.objects.select_related(
        "block__operator", "owner", "client_package__package", "client_package__account"
    )


def statuses_of(dids):
    """The distinct statuses of the numbers ``dids`` (a queryset), in table order."""
    present = set(dids.order_by().values_list("status", flat=True).distinct())
    return [status for status in DIDStatus.values if status in present]


def numbers_under(client_package, *, status):
    return DID.objects.filter(client_package=client_package, status=status).count()


def client_packages_with_room():
    """Active client packages, for assigning a number by hand."""
    return (
        ClientPackage.objects.filter(active=True)
        .select_related("package", "account")
        .annotate(held=Count("dids", filter=Q(dids__status__in=OWNED_STATUSES)))
        .order_by("account__name", "package__name", "pk")
    )


def packages_with_usage():
    return Package.objects.annotate(assignment_count=Count("assignments")).order_by("name")


def client_packages_overview():
    return (
        ClientPackage.objects.select_related("package", "account")
        .annotate(held=Count("dids", filter=Q(dids__status__in=OWNED_STATUSES)))
        .order_by("account__name", "start_date", "pk")
    )


# --- Keyset pagination -----------------------------------------------------------------------


@dataclass
class KeysetPage:
    """One page of rows ordered by a unique key, with the cursors of its neighbours."""

    object_list: list
    next_cursor: object = None
    previous_cursor: object = None

    @property
    def has_other_pages(self):
        return self.next_cursor is not None or self.previous_cursor is not None


def keyset_page(queryset, *, key, size, after=None, before=None, descending=False):
    """Rows after (or before) a cursor value of ``key``, without COUNT(*) or OFFSET.

    Each page is an index range scan (``key > cursor ORDER BY key LIMIT size + 1``), so the
    millionth page costs what the first does. The extra row tells whether a next page exists.
    """
    forward, backward = ("lt", "gt") if descending else ("gt", "lt")
    order = f"-{key}" if descending else key
    if before is not None:
        reverse_order = key if descending else f"-{key}"
        rows = list(
            queryset.filter(**{f"{key}__{backward}": before}).order_by(reverse_order)[: size + 1]
        )
        has_previous, has_next = len(rows) > size, True
        rows = rows[:size][::-1]
    else:
        if after is not None:
            queryset = queryset.filter(**{f"{key}__{forward}": after})
        rows = list(queryset.order_by(order)[: size + 1])
        has_previous, has_next = after is not None, len(rows) > size
        rows = rows[:size]
    if not rows:
        return KeysetPage(rows)
    return KeysetPage(
        rows,
        next_cursor=getattr(rows[-1], key) if has_next else None,
        previous_cursor=getattr(rows[0], key) if has_previous else None,
    )


# --- Audit log -------------------------------------------------------------------------------

AUDITED_FIELDS = (
    "status",
    "owner",
    "client_package",
    "destination",
    "tag",
    "notes",
    "after_hold_status",
    "block",
    "channels",
    "ever_sold",
)


@dataclass
class AuditEntry:
    record: object  # a HistoricalDID row
    changes: list  # (field label, before, after) tuples

    @property
    def job_name(self):
        """System jobs sign their reason "job: why" (see services.transitions.reason_text)."""
        reason = self.record.history_change_reason or ""
        if self.record.history_user_id or ":" not in reason:
            return ""
        return reason.split(":", 1)[0]


DID_HISTORY_SHOWN = 200  # older changes are in the global audit log


def did_history(did):
    """The number's history, newest first; an imported number's batch is its "Added" entry."""
    records = DID.history.filter(id=did.pk).order_by("-history_date", "-history_id")
    records = list(_history_with_relations(records)[:DID_HISTORY_SHOWN])
    entries = _audit_entries(records)
    if (
        did.import_batch_id
        and len(records) < DID_HISTORY_SHOWN
        and not any(record.history_type == "+" for record in records)
    ):
        batches = _import_batches([did.import_batch_id])
        added = _added_by_batch(batches[did.import_batch_id], did_id=did.pk, number=did.number)
        entries.append(AuditEntry(added, _changes(None, added)))
    return entries


def audit_log_filtered(*, number="", user="", date_from=None, date_to=None, change_type=""):
    records = DID.history.all()
    if number:
        records = records.filter(number__startswith=_e164_prefix(number))
    if user:
        records = records.filter(history_user__email__icontains=user)
    if date_from:
        records = records.filter(history_date__gte=_day_start(date_from))
    if date_to:
        records = records.filter(history_date__lt=_day_start(date_to + timedelta(days=1)))
    if change_type:
        records = records.filter(history_type=change_type)
    return _history_with_relations(records)


def audit_entries(records):
    return _audit_entries(list(records))


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


def _history_with_relations(records):
    return records.select_related(
        "history_user",
        "owner",
        "block__operator",
        "client_package__package",
        "client_package__account",
    )


def _audit_entries(records):
    """Pair each history row with the row before it (same number) and list what changed.

    The previous rows of a whole page come in one query, so the audit log's query count does
    not grow with its page size.
    """
    previous = _previous_records(records)
    # An imported number's first history row is its first change since the import: compare
    # it with what the import batch added.
    batches = _import_batches(
        {
            record.import_batch_id
            for record in records
            if record.history_id not in previous
            and record.history_type != "+"
            and record.import_batch_id
        }
    )
    entries = []
    for record in records:
        before = previous.get(record.history_id)
        if before is None and record.history_type != "+" and record.import_batch_id in batches:
            before = _added_by_batch(
                batches[record.import_batch_id], did_id=record.id, number=record.number
            )
        entries.append(AuditEntry(record, _changes(before, record)))
    return entries


def _import_batches(ids):
    if not ids:
        return {}
    return ImportBatch.objects.select_related("created_by", "block__operator").in_bulk(ids)


def _added_by_batch(batch, *, did_id, number):
    """The history row the import would have written for ``number`` (unsaved)."""
    return DID.history.model(
        id=did_id,
        number=number,
        block=batch.block,
        status=batch.status,
        after_hold_status=batch.after_hold_status,
        tag=batch.tag,
        notes=batch.notes,
        import_batch=batch,
        created_at=batch.created_at,
        updated_at=batch.created_at,
        history_type="+",
        history_date=batch.created_at,
        history_change_reason=batch.reason,
        history_user=batch.created_by,
    )


def _previous_records(records):
    """``{history_id: the same number's previous history row}`` for ``records``."""
    if not records:
        return {}
    History = DID.history.model
    prev_id = (
        History.objects.filter(id=OuterRef("id"))
        .filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
        )
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    pairs = dict(
        History.objects.filter(history_id__in=[r.history_id for r in records])
        .annotate(prev_id=Subquery(prev_id))
        .values_list("history_id", "prev_id")
    )
    prev_rows = _history_with_relations(
        History.objects.filter(history_id__in=[p for p in pairs.values() if p])
    ).in_bulk()
    return {hid: prev_rows.get(pid) for hid, pid in pairs.items() if pid}


def _changes(before, after):
    if after.history_type == "-":
        return []
    changes = []
    for name in AUDITED_FIELDS:
        field = after._meta.get_field(name)
        old = getattr(before, field.attname) if before else None
        new = getattr(after, field.attname)
        if before is None and new in (None, "", False):
            continue  # a new number: list only the fields it was given
        if old != new:
            changes.append(
                (
                    field.verbose_name,
                    _display(before, field) if before else "",
                    _display(after, field),
                )
            )
    return changes


def _display(record, field):
    if field.choices:
        return getattr(record, f"get_{field.name}_display")()
    value = getattr(record, field.name)
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
