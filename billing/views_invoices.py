"""Invoice pages: a customer's own invoices (from the platform, or from its reseller), a
reseller's (issued to its customers, received from the platform), the finance list with
totals and CSV, the PDF download, voiding, and the finance reports (revenue per month, VAT
per country)."""

import logging
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation, ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control

from accounts.models import Account
from accounts.permissions import (
    allow,
    handles_customer_money,
    is_customer,
    is_finance,
    may_see_invoices_of,
    may_void_invoice,
)
from accounts.scoping import get_scoped_or_404, scoped
from didportal.csv_export import csv_download

from . import selectors
from .forms import QUICK_PERIODS, InvoiceFilterForm, InvoiceVoidForm, ReportForm, period_bounds
from .models import Invoice
from .payments import bank_transfer_details
from .services import invoices as invoice_services

logger = logging.getLogger(__name__)

PAGE_SIZE = 25
ZERO = Decimal("0")


# --- Customers ------------------------------------------------------------------------------


RESELLER_DIRECTIONS = {"issued": "Issued to your customers", "received": "From the platform"}


@allow(is_customer, handles_customer_money, is_finance)
def invoices(request):
    """A customer's own invoices; a reseller's, issued or received; platform staff are sent
    to the full list."""
    user = request.user
    if is_finance(user):
        return redirect("billing:invoice_list")
    if handles_customer_money(user):
        direction = request.GET.get("direction", "issued")
        direction = direction if direction in RESELLER_DIRECTIONS else "issued"
        invoices = selectors.invoices_for(user, direction=direction)
    else:  # a customer's users: their own account's only
        direction = ""
        invoices = selectors.invoices_for(user, account=user.account)
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "direction": direction, "directions": RESELLER_DIRECTIONS}
    return render(request, "billing/invoices.html", context)


@allow(is_customer, handles_customer_money, is_finance)
def invoice(request, pk):
    invoice = selectors.invoice_detail(request.user, pk)
    _require_may_see(request.user, invoice)
    context = {
        "invoice": invoice,
        "lines": invoice.lines.all(),
        "is_finance": is_finance(request.user),
        "issued_by_me": invoice.issuer_id == request.user.account_id,
        "may_void": may_void_invoice(request.user, invoice),
        "pdf_stale": _pdf_needs_render(invoice),
        "topup": bank_transfer_details(invoice.account),
    }
    return render(request, "billing/invoice_detail.html", context)


def _require_may_see(user, document):
    """Within the user's scope, a reseller's support sees no money of its customers."""
    if not may_see_invoices_of(user, document.account):
        raise PermissionDenied("Your role does not give access to invoices.")


# --- The PDF --------------------------------------------------------------------------------


def _pdf_needs_render(invoice):
    """No PDF yet, or one printed before the invoice was voided."""
    if not invoice.pdf_path or invoice.pdf_rendered_at is None:
        return True
    return invoice.voided_at is not None and invoice.pdf_rendered_at < invoice.voided_at


def _private_file(relative):
    """The stored file at ``relative`` under PRIVATE_STORAGE_ROOT; raises
    SuspiciousFileOperation for a path that leaves the root, None if it is not there."""
    storage = FileSystemStorage(location=settings.PRIVATE_STORAGE_ROOT, base_url=None)
    path = Path(storage.path(relative))
    root = Path(storage.location).resolve()
    if not path.resolve().is_relative_to(root):  # a symlink pointing out
        raise SuspiciousFileOperation(f"{relative!r} leaves the private storage root")
    return path if path.is_file() else None


@allow(is_customer, handles_customer_money, is_finance)
def invoice_pdf(request, pk):
    """The invoice's PDF as an attachment: rendered now if the task has not run yet."""
    invoice = get_scoped_or_404(selectors.visible_invoices(request.user), request.user, pk=pk)
    _require_may_see(request.user, invoice)
    return _pdf_download(
        request,
        invoice,
        stale=_pdf_needs_render(invoice),
        render=lambda: invoice_services.invoice_pdf_render(invoice_id=invoice.pk),
        back=invoice.pk,
    )


@allow(is_customer, handles_customer_money, is_finance)
def credit_note_pdf(request, pk):
    """A credit note's PDF, for the same people as its invoice's."""
    credit_note = get_scoped_or_404(
        selectors.visible_credit_notes(request.user), request.user, pk=pk
    )
    _require_may_see(request.user, credit_note)
    return _pdf_download(
        request,
        credit_note,
        stale=not credit_note.pdf_path,
        render=lambda: invoice_services.credit_note_pdf_render(credit_note_id=credit_note.pk),
        back=credit_note.invoice_id,
    )


def _pdf_download(request, document, *, stale, render, back):
    try:
        path = None if stale else _private_file(document.pdf_path)
        if path is None:
            path = _private_file(render())
    except SuspiciousFileOperation:
        logger.error("%s: pdf_path %r is outside the private root", document, document.pdf_path)
        raise Http404("No PDF for this document.") from None
    except Exception:
        logger.exception("rendering the PDF of %s failed", document)
        path = None
    if path is None:
        messages.error(request, "The PDF could not be prepared just now. Try again in a minute.")
        return redirect("billing:invoice", pk=back)
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{document.number}.pdf",
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True, max_age=0)
    return response


# --- Finance: the list, the CSV, void ------------------------------------------------------


def _filtered(request):
    form = InvoiceFilterForm(request.GET, today=timezone.localdate())
    filters = form.filters()
    return form, filters, selectors.invoice_search(request.user, filters)


@allow(is_finance)
def invoice_list(request):
    form, filters, invoices = _filtered(request)
    account = None
    if filters.account:
        account = scoped(Account.objects.all(), request.user).filter(pk=filters.account).first()
    today = timezone.localdate()
    context = {
        "form": form,
        "filters": filters,
        "account": account,
        "totals": selectors.invoice_totals(invoices, include_void=filters.status == "void"),
        "page": Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page")),
        "account_names": selectors.invoice_accounts(request.user),
        "platform_id": request.user.account_id,  # platform staff: the platform's own
        "quick_periods": [
            {"key": key, "label": label, "active": period_bounds(key, today) == _range(filters)}
            for key, label in QUICK_PERIODS
        ],
    }
    return render(request, "billing/invoice_list.html", context)


def _range(filters):
    return (filters.date_from, filters.date_to)


@allow(is_finance)
def invoice_export(request):
    _, _, invoices = _filtered(request)
    filename = f"invoices-{timezone.localdate():%Y%m%d}.csv"
    return csv_download(
        filename, selectors.INVOICE_EXPORT_HEADER, selectors.invoice_export_rows(invoices)
    )


@allow(is_finance, handles_customer_money)
def invoice_void(request, pk):
    invoice = selectors.invoice_detail(request.user, pk)
    if not may_void_invoice(request.user, invoice):
        raise PermissionDenied("Only the issuer of an invoice may void it.")
    if invoice.status == Invoice.Status.VOID:
        messages.info(request, f"{invoice.number} is already void.")
        return redirect("billing:invoice", pk=invoice.pk)
    form = InvoiceVoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invoice = invoice_services.invoice_void(
                invoice=invoice, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except (ValidationError, PermissionDenied) as exc:
            form.add_error("reason" if isinstance(exc, ValidationError) else None, exc)
        else:
            messages.success(
                request,
                f"{invoice.number} is void; credit note {invoice.credit_note.number} cancels it. "
                "Its number stays used.",
            )
            return redirect("billing:invoice", pk=invoice.pk)
    context = {"invoice": invoice, "form": form, "is_finance": is_finance(request.user)}
    return render(request, "billing/invoice_void.html", context)


# --- Finance: reports ----------------------------------------------------------------------


def month_bars(months):
    """The revenue chart's bars: each month's net as a share of the highest month, in
    percent (Decimal, one decimal) — the template draws them as CSS bars, no JavaScript."""
    top = max((month["net"] for month in months), default=ZERO)
    bars = []
    for month in months:
        share = (month["net"] * 100 / top).quantize(Decimal("0.1")) if top > 0 else ZERO
        bars.append({**month, "height": max(share, ZERO)})
    return bars


def _report_range(year, today):
    if year:
        return date(year, 1, 1), date(year, 12, 31)
    # The last twelve months: this one and the eleven before it.
    if today.month == 12:
        return date(today.year, 1, 1), today
    return date(today.year - 1, today.month + 1, 1), today


@allow(is_finance)
def reports(request):
    today = timezone.localdate()
    years = sorted({*selectors.invoice_years(request.user), today.year}, reverse=True)
    form = ReportForm(request.GET, years=years)
    year = form.cleaned_data.get("year") if form.is_valid() else None
    date_from, date_to = _report_range(year, today)
    months = selectors.revenue_by_month(request.user, date_from=date_from, date_to=date_to)
    wholesale = selectors.wholesale_revenue(request.user, date_from=date_from, date_to=date_to)
    context = {
        "form": form,
        "year": year,
        "date_from": date_from,
        "date_to": date_to,
        "months": months,
        "bars": month_bars(months),
        "countries": selectors.vat_by_country(request.user, date_from=date_from, date_to=date_to),
        "totals": selectors.revenue_totals(request.user, date_from=date_from, date_to=date_to),
        "wholesale": wholesale,
        "wholesale_resellers": selectors.wholesale_totals_by_reseller(wholesale),
    }
    return render(request, "billing/reports.html", context)


def report_period(request):
    """The finance reports' range from the query string (``?year=``), for the CSV exports."""
    today = timezone.localdate()
    years = sorted({*selectors.invoice_years(request.user), today.year}, reverse=True)
    form = ReportForm(request.GET, years=years)
    return _report_range(form.cleaned_data.get("year") if form.is_valid() else None, today)
