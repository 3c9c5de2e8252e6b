"""Reports about resellers: the platform's wholesale revenue per reseller (finance, a CSV
next to the Reports page) and a reseller's margin per period, customer and country (its
admins and finance: a page with a chart, and a CSV)."""

from django.contrib import messages
from django.shortcuts import render
from django.utils import timezone

from accounts.permissions import allow, handles_customer_money, is_finance
from didportal.csv_export import csv_download

from . import selectors
from .charts import margin_chart
from .forms import ReportPeriodForm
from .views_invoices import report_period


@allow(is_finance)
def wholesale_export(request):
    date_from, date_to = report_period(request)
    rows = selectors.wholesale_revenue(request.user, date_from=date_from, date_to=date_to)
    return csv_download(
        f"wholesale-{date_from:%Y%m%d}-{date_to:%Y%m%d}.csv",
        selectors.WHOLESALE_EXPORT_HEADER,
        selectors.wholesale_export_rows(rows),
    )


def _margin(request):
    form = ReportPeriodForm(request.GET, today=timezone.localdate())
    date_from, date_to = form.period()
    rows = selectors.margin_rows(request.user.account, date_from=date_from, date_to=date_to)
    return form, date_from, date_to, rows


@allow(handles_customer_money)
def margin_report(request):
    form, date_from, date_to, rows = _margin(request)
    if form.errors:
        messages.error(
            request,
            "The period was not understood ("
            + "; ".join(error for errors in form.errors.values() for error in errors)
            + "): showing the last twelve months.",
        )
    months = selectors.margin_by_month(rows, date_from=date_from, date_to=date_to)
    customers = sorted(
        selectors.margin_summary(rows, "customer_id"), key=lambda r: (-r["margin"], r["customer"])
    )
    countries = sorted(
        selectors.margin_summary(rows, "country"), key=lambda r: (-r["margin"], r["country"])
    )
    context = {
        "form": form,
        "date_from": date_from,
        "date_to": date_to,
        "months": months,
        "customers": customers,
        "countries": countries,
        "totals": selectors.margin_totals(rows),
        "chart": margin_chart(months, currency=request.user.account.currency),
    }
    return render(request, "billing/margin_report.html", context)


@allow(handles_customer_money)
def margin_export(request):
    _, date_from, date_to, rows = _margin(request)
    return csv_download(
        f"margin-{date_from:%Y%m%d}-{date_to:%Y%m%d}.csv",
        selectors.MARGIN_EXPORT_HEADER,
        selectors.margin_export_rows(rows),
    )
