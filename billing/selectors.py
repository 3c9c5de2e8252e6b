"""Reads on balances, the ledger, invoices and the finance reports."""

from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Prefetch, Q, Sum, Value
from django.db.models.functions import Coalesce, Round, TruncMonth
from django_countries import countries

from accounts.models import Account
from accounts.scoping import get_scoped_or_404, scoped

from .models import MONEY, Balance, Invoice, InvoiceLine, LedgerEntry, Subscription, TaxRate

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

    @property
    def active(self):
        return any(getattr(self, f.name) not in (None, "") for f in fields(self))


def invoices_for(user, *, account=None):
    """Invoices the user may see, newest first (a customer: its own; platform staff: all)."""
    # "order" is cart's Order.invoice seen from here (an invoice's order, if it has one).
    invoices = scoped(Invoice.objects.select_related("account", "credit_note", "order"), user)
    if account is not None:
        invoices = invoices.filter(account=account)
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
    return invoices


def _money_sum(field, condition=None):
    return Coalesce(Sum(field, filter=condition), Value(ZERO), output_field=DecimalField(**MONEY))


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
    return get_scoped_or_404(queryset, user, pk=pk)


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


def _revenue(user, date_from, date_to):
    """Invoices that count as revenue between two dates: void ones never do."""
    return invoices_for(user).filter(
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
    invoices = invoices_for(user).filter(issue_date__gte=date_from, issue_date__lte=date_to)
    totals = invoice_totals(invoices)
    return {**totals, "paid": totals["count"] - totals["void"]}


def invoice_years(user):
    """The years that have invoices, newest first."""
    return [d.year for d in invoices_for(user).order_by().dates("issue_date", "year", "DESC")]


def _first_of_month(day):
    if isinstance(day, datetime):
        day = day.date()
    return day.replace(day=1)


def _next_month(day):
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
