"""Reads on balances, the ledger, invoices and the finance reports."""

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DecimalField, F, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Round, TruncMonth
from django.utils import timezone
from django_countries import countries

from accounts.models import Account
from accounts.permissions import is_platform_staff
from accounts.scoping import get_scoped_or_404, scoped

from .models import (
    MONEY,
    Balance,
    CreditNote,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Subscription,
    SubscriptionCharge,
    TaxRate,
)

ZERO = Decimal("0.00")


def balance_for(account) -> Decimal:
    """The cached balance of an account the caller already may see; 0.00 before any entry."""
    amount = Balance.objects.filter(account=account).values_list("amount", flat=True).first()
    return ZERO if amount is None else amount


def held_subscriptions_for(account):
    """The account's subscriptions on hold for an unpaid renewal (its own balance: not its
    reseller's, not a suspension), oldest failure first: what its top-up brings back."""
    return (
        Subscription.objects.filter(
            account=account,
            status=Subscription.Status.HOLD,
            hold_cause=Subscription.HoldCause.CUSTOMER_UNPAID,
        )
        .select_related("did")
        .order_by("renewal_failed_at", "pk")
    )


def ledger_for(user, account=None):
    """Ledger entries the user may see, newest first; ``balance_after`` is the running balance."""
    entries = scoped(LedgerEntry.objects.select_related("account", "created_by"), user)
    if account is not None:
        entries = entries.filter(account=account)
    return entries.order_by("-pk")


def ledger_entry_page(entry, *, page_size) -> int:
    """The page of its account's statement (newest first) that lists ``entry``."""
    newer = LedgerEntry.objects.filter(account_id=entry.account_id, pk__gt=entry.pk).count()
    return newer // page_size + 1


def balance_mismatches():
    """Accounts whose cached balance differs from the sum of their ledger, in one query.

    Each account carries ``cached_balance`` and ``ledger_sum``. Rounding the difference keeps
    SQLite, which sums decimals as floats, from reporting a false mismatch.
    """
    money = DecimalField(**MONEY)
    return (
        Account.objects.annotate(
            ledger_sum=Coalesce(Sum("ledger_entries__amount"), Value(ZERO), output_field=money),
            cached_balance=Coalesce(F("balance__amount"), Value(ZERO), output_field=money),
        )
        .annotate(difference=Round(F("ledger_sum") - F("cached_balance"), 2))
        .exclude(difference=0)
        .order_by("pk")
    )


def balances_for(user, *, search="", low_only=False):
    """Customer and reseller accounts the user may see with their balance and threshold."""
    money = DecimalField(**MONEY)
    accounts = (
        scoped(Account.objects.exclude(kind=Account.Kind.PLATFORM), user)
        .select_related("parent")
        .annotate(
            balance_amount=Coalesce(F("balance__amount"), Value(ZERO), output_field=money),
            threshold=Coalesce(
                F("balance__low_balance_threshold"), Value(Decimal("10.00")), output_field=money
            ),
        )
    )
    if search:
        accounts = accounts.filter(name__icontains=search)
    if low_only:
        accounts = accounts.filter(balance_amount__lt=F("threshold"))
    return accounts.order_by("name", "pk")


def tax_rates():
    return TaxRate.objects.order_by("country")


# --- Invoices -------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceFilters:
    """What the finance invoice list is narrowed to; empty fields filter nothing."""

    date_from: date | None = None
    date_to: date | None = None
    account: int | None = None
    q: str = ""  # an account's name or an invoice number, in part
    country: str = ""  # the buyer's country on the invoice
    status: str = ""
    source: str = ""
    seller: str = ""  # "platform": the platform's own invoices; "resellers": resellers'

    @property
    def active(self):
        return any(getattr(self, f.name) not in (None, "") for f in fields(self))


def _own_documents(queryset, user):
    """Invoices or credit notes the user may see: platform staff, all; anyone else, those
    issued to their account or by it (a reseller's to its customers). Scoped in the query."""
    documents = scoped(queryset, user)
    if is_platform_staff(user):
        return documents
    return documents.filter(Q(account_id=user.account_id) | Q(issuer_id=user.account_id))


def visible_invoices(user):
    return _own_documents(Invoice.objects.all(), user)


def visible_credit_notes(user):
    return _own_documents(CreditNote.objects.all(), user)


def invoices_for(user, *, account=None, direction=""):
    """Invoices the user may see, newest first (a customer: its own; a reseller: those it
    issued and those it received; platform staff: all). ``direction``: ``issued`` (by the
    user's account) or ``received`` (by it) narrows a reseller's."""
    # "order" is cart's Order.invoice seen from here (an invoice's order, if it has one).
    invoices = _own_documents(
        Invoice.objects.select_related("account", "credit_note", "order"), user
    )
    if account is not None:
        invoices = invoices.filter(account=account)
    if direction == "issued":
        invoices = invoices.filter(issuer_id=user.account_id)
    elif direction == "received":
        invoices = invoices.filter(account_id=user.account_id)
    return invoices.order_by("-issue_date", "-sequence", "-pk")


def invoice_search(user, filters: InvoiceFilters):
    """``invoices_for`` narrowed by the finance list's filters."""
    invoices = invoices_for(user)
    if filters.date_from:
        invoices = invoices.filter(issue_date__gte=filters.date_from)
    if filters.date_to:
        invoices = invoices.filter(issue_date__lte=filters.date_to)
    if filters.account:
        invoices = invoices.filter(account_id=filters.account)
    if filters.q:
        invoices = invoices.filter(
            Q(account__name__icontains=filters.q)
            | Q(buyer_name__icontains=filters.q)
            | Q(number__icontains=filters.q)
        )
    if filters.country:
        invoices = invoices.filter(buyer_country=filters.country)
    if filters.status:
        invoices = invoices.filter(status=filters.status)
    if filters.source:
        invoices = invoices.filter(source=filters.source)
    if filters.seller == "platform":
        invoices = invoices.filter(issuer__kind=Account.Kind.PLATFORM)
    elif filters.seller == "resellers":
        invoices = invoices.filter(issuer__kind=Account.Kind.RESELLER)
    return invoices


def _money_sum(field, condition=None):
    return Coalesce(Sum(field, filter=condition), Value(ZERO), output_field=DecimalField(**MONEY))


def _cents(amount) -> Decimal:
    """A database sum as money: SQLite adds decimals as floats (23 → "23", 0.21 →
    "0.2100000001"), so a grouped sum read back is rounded to the cent here."""
    return Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def invoice_totals(invoices, *, include_void=False) -> dict:
    """Count, void count, net, VAT and gross of ``invoices`` in one query.

    Void invoices are counted but their money is left out of the sums (they are not
    revenue), unless ``include_void`` — the list filtered on void invoices sums those.
    """
    counted = None if include_void else ~Q(status=Invoice.Status.VOID)
    return invoices.order_by().aggregate(
        count=Count("pk"),
        void=Count("pk", filter=Q(status=Invoice.Status.VOID)),
        net=_money_sum("net", counted),
        vat=_money_sum("vat", counted),
        gross=_money_sum("gross", counted),
    )


def invoice_detail(user, pk):
    """One invoice the user may see, with its lines; 404 for anyone else's."""
    queryset = Invoice.objects.select_related(
        "account", "created_by", "credit_note", "order"
    ).prefetch_related(Prefetch("lines", queryset=InvoiceLine.objects.order_by("position")))
    return get_scoped_or_404(_own_documents(queryset, user), user, pk=pk)


def invoice_accounts(user, *, limit=500):
    """Names of the accounts that have invoices, for the finance list's account picker."""
    return list(
        scoped(Account.objects.filter(invoices__isnull=False), user)
        .order_by("name")
        .values_list("name", flat=True)
        .distinct()[:limit]
    )


def invoice_export_rows(invoices):
    """One CSV row per invoice, streamed; the VAT rates come from its lines."""
    lines = Prefetch("lines", queryset=InvoiceLine.objects.only("invoice_id", "vat_rate"))
    for invoice in invoices.prefetch_related(lines).iterator(chunk_size=2000):
        rates = sorted({line.vat_rate.normalize() for line in invoice.lines.all()})
        yield [
            invoice.number,
            invoice.issue_date.isoformat(),
            invoice.seller_name,
            invoice.account_id,
            invoice.buyer_name,
            invoice.buyer_country.code or "",
            invoice.buyer_vat_number,
            invoice.net,
            " / ".join(f"{rate:f}%" for rate in rates),
            invoice.vat,
            invoice.gross,
            invoice.currency,
            invoice.get_status_display(),
            invoice.get_source_display(),
            invoice.tax_country.code or "",
            "yes" if invoice.reverse_charge else "no",
            invoice.credit_note.number if hasattr(invoice, "credit_note") else "",
        ]


INVOICE_EXPORT_HEADER = [
    "number",
    "date",
    "seller",
    "account_id",
    "account",
    "country",
    "vat_number",
    "net",
    "vat_rates",
    "vat",
    "gross",
    "currency",
    "status",
    "source",
    "tax_country",
    "reverse_charge",
    "credit_note",
]


# --- Reports --------------------------------------------------------------------------------


def _platform_invoices(user):
    """The platform's own invoices: its revenue (a reseller's invoices to its customers are
    the reseller's; the platform's share of them is on its wholesale invoices)."""
    return invoices_for(user).filter(issuer__kind=Account.Kind.PLATFORM)


def _revenue(user, date_from, date_to):
    """Invoices that count as revenue between two dates: void ones never do."""
    return _platform_invoices(user).filter(
        issue_date__gte=date_from, issue_date__lte=date_to, status=Invoice.Status.PAID
    )


def _revenue_sums():
    return {
        "count": Count("pk"),
        "net": _money_sum("net"),
        "vat": _money_sum("vat"),
        "gross": _money_sum("gross"),
    }


def revenue_by_month(user, *, date_from, date_to):
    """Per month of issue: invoices, net, VAT and gross (void excluded), in one query.

    Returns a row for every month of the range, months without invoices at zero.
    """
    rows = (
        _revenue(user, date_from, date_to)
        .order_by()
        .annotate(month=TruncMonth("issue_date"))
        .values("month")
        .annotate(**_revenue_sums())
        .order_by("month")
    )
    found = {_first_of_month(row["month"]): row for row in rows}
    months = []
    month = _first_of_month(date_from)
    while month <= date_to:
        empty = {"month": month, "count": 0, "net": ZERO, "vat": ZERO, "gross": ZERO}
        months.append({**empty, **found.get(month, {}), "month": month})
        month = _next_month(month)
    return months


def vat_by_country(user, *, date_from, date_to):
    """Per VAT regime: the country whose VAT applies, reverse charge per buyer country, and
    outside the EU; net, VAT and gross of paid invoices (void excluded), in one query."""
    rows = (
        _revenue(user, date_from, date_to)
        .order_by()
        .values("tax_country", "reverse_charge")
        .annotate(**_revenue_sums())
    )
    result = []
    for row in rows:
        code = row["tax_country"] or ""
        if row["reverse_charge"]:
            label = f"Reverse charge ({code})" if code else "Reverse charge"
        elif not code:
            label = "Outside EU"
        else:
            label = f"{countries.name(code) or code} ({code})"
        result.append({**row, "label": label, "code": code})
    # Countries that charged VAT first, by VAT; then reverse charge, then outside the EU.
    group = lambda r: 1 if r["reverse_charge"] else (2 if not r["code"] else 0)  # noqa: E731
    result.sort(key=lambda r: (group(r), -r["vat"], r["label"]))
    return result


def revenue_totals(user, *, date_from, date_to) -> dict:
    """Totals of the report's range (void excluded) and how many void invoices it left out."""
    invoices = _platform_invoices(user).filter(issue_date__gte=date_from, issue_date__lte=date_to)
    totals = invoice_totals(invoices)
    return {**totals, "paid": totals["count"] - totals["void"]}


def invoice_years(user):
    """The years that have invoices, newest first."""
    invoices = _platform_invoices(user).order_by()
    return [d.year for d in invoices.dates("issue_date", "year", "DESC")]


def _first_of_month(day):
    if isinstance(day, datetime):
        day = day.date()
    return day.replace(day=1)


def _next_month(day):
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


# --- Resellers: the platform's wholesale revenue, a reseller's margin -----------------------


def _charged_between(date_from, date_to):
    """Charges made from the start of ``date_from`` to the end of ``date_to`` (local time)."""
    start = timezone.make_aware(datetime.combine(date_from, time.min))
    end = timezone.make_aware(datetime.combine(date_to + timedelta(days=1), time.min))
    return Q(created_at__gte=start, created_at__lt=end)


def wholesale_revenue(user, *, date_from, date_to):
    """Per month charged and reseller: the wholesale charges' count, net, VAT and gross
    (what resellers paid the platform for the periods their customers bought), in one query.
    Platform staff only (a reseller's scope would give it its own rows)."""
    rows = (
        scoped(SubscriptionCharge.objects.filter(side=SubscriptionCharge.Side.WHOLESALE), user)
        .filter(_charged_between(date_from, date_to))
        .annotate(month=TruncMonth("created_at"))
        .values("month", "account_id", "account__name")
        .annotate(
            count=Count("pk"),
            net=_money_sum("net"),
            vat=_money_sum("vat"),
            gross=_money_sum("amount"),
        )
        .order_by("month", "account__name", "account_id")
    )
    return [
        {
            "month": _first_of_month(row["month"]),
            "reseller_id": row["account_id"],
            "reseller": row["account__name"],
            "count": row["count"],
            **{key: _cents(row[key]) for key in ("net", "vat", "gross")},
        }
        for row in rows
    ]


def wholesale_totals_by_reseller(rows):
    """``wholesale_revenue`` rows summed per reseller, highest net first."""
    totals = {}
    for row in rows:
        total = totals.setdefault(
            row["reseller_id"],
            {
                "reseller_id": row["reseller_id"],
                "reseller": row["reseller"],
                "count": 0,
                "net": ZERO,
                "vat": ZERO,
                "gross": ZERO,
            },
        )
        for key in ("count", "net", "vat", "gross"):
            total[key] += row[key]
    return sorted(totals.values(), key=lambda t: (-t["net"], t["reseller"]))


WHOLESALE_EXPORT_HEADER = ["month", "reseller_id", "reseller", "charges", "net", "vat", "gross"]


def wholesale_export_rows(rows):
    for row in rows:
        yield [
            f"{row['month']:%Y-%m}",
            row["reseller_id"],
            row["reseller"],
            row["count"],
            row["net"],
            row["vat"],
            row["gross"],
        ]


def margin_rows(reseller, *, date_from, date_to):
    """The reseller's sales in the range, per month charged, customer and country of the
    number: retail net (its customers' sale charges) and wholesale net (its own wholesale
    charges for the same periods), in one query. Amounts net of VAT; the platform's own cost
    is nowhere in it."""
    wholesale = SubscriptionCharge.objects.filter(
        subscription_id=OuterRef("subscription_id"),
        period_index=OuterRef("period_index"),
        side=SubscriptionCharge.Side.WHOLESALE,
        account_id=reseller.pk,
    ).values("net")[:1]
    money = DecimalField(**MONEY)
    rows = (
        SubscriptionCharge.objects.filter(
            side=SubscriptionCharge.Side.SALE, subscription__reseller_id=reseller.pk
        )
        .filter(_charged_between(date_from, date_to))
        .annotate(
            month=TruncMonth("created_at"),
            wholesale_net=Coalesce(Subquery(wholesale, output_field=money), Value(ZERO)),
        )
        .values("month", "account_id", "account__name", "subscription__did__block__country")
        .annotate(
            count=Count("pk"),
            retail=_money_sum("net"),
            wholesale=Coalesce(Sum("wholesale_net"), Value(ZERO), output_field=money),
        )
        .order_by("month", "account__name", "account_id", "subscription__did__block__country")
    )
    return [
        _with_margin(
            {
                "month": _first_of_month(row["month"]),
                "customer_id": row["account_id"],
                "customer": row["account__name"],
                "country": row["subscription__did__block__country"] or "",
                "country_name": countries.name(row["subscription__did__block__country"] or ""),
                "count": row["count"],
                "retail": _cents(row["retail"]),
                "wholesale": _cents(row["wholesale"]),
            }
        )
        for row in rows
    ]


def _with_margin(row):
    margin = row["retail"] - row["wholesale"]
    percent = None
    if row["retail"]:
        percent = (margin * 100 / row["retail"]).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return {**row, "margin": margin, "margin_percent": percent}


def margin_summary(rows, key):
    """``margin_rows`` summed by ``key`` ("month", "customer_id" or "country")."""
    groups = {}
    for row in rows:
        group = groups.setdefault(
            row[key],
            {
                key: row[key],
                "customer": row["customer"],
                "country": row["country"],
                "country_name": row["country_name"],
                "month": row["month"],
                "count": 0,
                "retail": ZERO,
                "wholesale": ZERO,
            },
        )
        for field in ("count", "retail", "wholesale"):
            group[field] += row[field]
    return [_with_margin(group) for group in groups.values()]


def margin_by_month(rows, *, date_from, date_to):
    """Every month of the range (empty ones at zero), for the chart and its table."""
    found = {group["month"]: group for group in margin_summary(rows, "month")}
    months, month = [], _first_of_month(date_from)
    while month <= date_to:
        empty = {"month": month, "count": 0, "retail": ZERO, "wholesale": ZERO}
        months.append(found.get(month) or _with_margin(empty))
        month = _next_month(month)
    return months


def margin_totals(rows):
    total = {"count": 0, "retail": ZERO, "wholesale": ZERO}
    for row in rows:
        for field in total:
            total[field] += row[field]
    return _with_margin(total)


MARGIN_EXPORT_HEADER = [
    "month",
    "customer_id",
    "customer",
    "country",
    "charges",
    "retail_net",
    "wholesale_net",
    "margin",
    "margin_percent",
]


def margin_export_rows(rows):
    for row in rows:
        yield [
            f"{row['month']:%Y-%m}",
            row["customer_id"],
            row["customer"],
            row["country"],
            row["count"],
            row["retail"],
            row["wholesale"],
            row["margin"],
            "" if row["margin_percent"] is None else row["margin_percent"],
        ]
