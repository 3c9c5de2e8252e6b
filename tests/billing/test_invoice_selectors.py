"""Invoice reads: scoping, the finance filters and totals, the CSV rows, the reports."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.http import QueryDict

from billing.forms import InvoiceFilterForm
from billing.models import Invoice
from billing.selectors import (
    InvoiceFilters,
    invoice_export_rows,
    invoice_search,
    invoice_totals,
    invoice_years,
    invoices_for,
    revenue_by_month,
    revenue_totals,
    vat_by_country,
)
from billing.services.invoices import LineDraft, invoice_issue, invoice_void
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

D = Decimal


def make_invoice(
    account,
    day,
    net="10.00",
    vat="2.10",
    rate="21",
    *,
    tax_country="NL",
    reverse_charge=False,
    source=Invoice.Source.ORDER,
    extra_lines=(),
):
    """An invoice of ``account`` issued on ``day`` with one line (plus ``extra_lines``)."""
    regime = {"tax_country": tax_country, "reverse_charge": reverse_charge}
    lines = [
        LineDraft(
            description="Number +31 20 555 0100: monthly fee",
            net=D(net),
            vat=D(vat),
            vat_rate=D(rate),
            **regime,
        ),
        *(
            LineDraft(description="Setup fee", net=D(n), vat=D(v), vat_rate=D(r), **regime)
            for n, v, r in extra_lines
        ),
    ]
    return invoice_issue(
        account=account,
        lines=lines,
        source=source,
        idempotency_key=f"test:{uuid.uuid4().hex}",
        job="tests",
        issue_date=day,
    )


def void(invoice, reason="Issued twice"):
    finance = UserFactory(account=invoice.issuer, role="platform_finance")
    return invoice_void(invoice=invoice, actor=finance, reason=reason)


@pytest.fixture
def ledger(customer, stranger):
    """Five invoices in 2026 over three regimes, one of them void, and one in 2025."""
    fr_business = AccountFactory(name="Société Exemple", country="FR", vat_number="FR40303265045")
    us_buyer = AccountFactory(name="Acme Inc", country="US")
    return {
        "jan": make_invoice(customer, date(2026, 1, 15), "10.00", "1.90", "19", tax_country="DE"),
        "jan_daily": make_invoice(
            customer,
            date(2026, 1, 31),
            "2.05",
            "0.39",
            "19",
            tax_country="DE",
            source=Invoice.Source.DAILY,
        ),
        "feb_rc": make_invoice(
            fr_business,
            date(2026, 2, 1),
            "100.00",
            "0.00",
            "0",
            tax_country="FR",
            reverse_charge=True,
        ),
        "mar_us": make_invoice(us_buyer, date(2026, 3, 3), "7.50", "0.00", "0", tax_country=""),
        "mar_void": void(make_invoice(stranger.account, date(2026, 3, 9), "40.00", "8.40", "21")),
        "last_year": make_invoice(customer, date(2025, 12, 31), "3.00", "0.57", "19"),
    }


# --- Scoping --------------------------------------------------------------------------------


def test_invoices_for_is_scoped_and_newest_first(
    ledger, customer, customer_admin, customer_member, stranger, finance_user
):
    own = [ledger["jan_daily"], ledger["jan"], ledger["last_year"]]
    assert list(invoices_for(customer_admin)) == own
    assert list(invoices_for(customer_member)) == own
    assert list(invoices_for(stranger)) == [ledger["mar_void"]]
    assert list(invoices_for(stranger, account=customer)) == []
    assert invoices_for(finance_user).count() == 6


# --- Filters and totals ---------------------------------------------------------------------


def search(user, **filters):
    return invoice_search(user, InvoiceFilters(**filters))


def test_filters_narrow_by_period_account_country_status_and_source(ledger, customer, finance_user):
    numbers = lambda qs: {i.number for i in qs}  # noqa: E731
    march = search(finance_user, date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    assert numbers(march) == {ledger["mar_us"].number, ledger["mar_void"].number}
    assert numbers(search(finance_user, account=customer.pk)) == {
        ledger[k].number for k in ("jan", "jan_daily", "last_year")
    }
    assert numbers(search(finance_user, q="société")) == {ledger["feb_rc"].number}
    assert numbers(search(finance_user, q=ledger["mar_us"].number)) == {ledger["mar_us"].number}
    assert numbers(search(finance_user, country="FR")) == {ledger["feb_rc"].number}
    assert numbers(search(finance_user, status="void")) == {ledger["mar_void"].number}
    assert numbers(search(finance_user, source="daily")) == {ledger["jan_daily"].number}


def test_totals_are_exact_and_leave_void_money_out(ledger, finance_user, django_assert_num_queries):
    year = search(finance_user, date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))
    with django_assert_num_queries(1):
        totals = invoice_totals(year)
    assert totals == {
        "count": 5,
        "void": 1,
        "net": D("119.55"),
        "vat": D("2.29"),
        "gross": D("121.84"),
    }
    voided = invoice_totals(search(finance_user, status="void"), include_void=True)
    assert (voided["count"], voided["net"], voided["vat"], voided["gross"]) == (
        1,
        D("40.00"),
        D("8.40"),
        D("48.40"),
    )


def test_totals_of_nothing_are_zero(finance_user):
    assert invoice_totals(search(finance_user)) == {
        "count": 0,
        "void": 0,
        "net": D("0.00"),
        "vat": D("0.00"),
        "gross": D("0.00"),
    }


def test_filter_form_quick_periods_and_bad_dates():
    today = date(2026, 3, 18)
    form = InvoiceFilterForm(QueryDict("period=last_month&status=paid"), today=today)
    assert form.filters() == InvoiceFilters(
        date_from=date(2026, 2, 1), date_to=date(2026, 2, 28), status="paid"
    )
    assert form.data["date_from"] == "2026-02-01"  # the form shows the period's dates
    this_year = InvoiceFilterForm(QueryDict("period=this_year"), today=today).filters()
    assert (this_year.date_from, this_year.date_to) == (date(2026, 1, 1), date(2026, 12, 31))
    december = InvoiceFilterForm(QueryDict("period=this_month"), today=date(2026, 12, 5))
    assert december.filters().date_to == date(2026, 12, 31)

    backwards = InvoiceFilterForm(
        QueryDict("date_from=2026-03-01&date_to=2026-02-01&country=FR"), today=today
    )
    assert backwards.filters() == InvoiceFilters(country="FR")  # the bad range filters nothing
    assert "on or after" in backwards.errors["date_to"][0]
    nonsense = InvoiceFilterForm(QueryDict("date_from=yesterday&status=bogus"), today=today)
    assert nonsense.filters() == InvoiceFilters()
    assert set(nonsense.errors) == {"date_from", "status"}


# --- CSV rows -------------------------------------------------------------------------------


def test_export_rows_carry_the_invoice_and_its_vat_rates(customer, finance_user):
    invoice = make_invoice(
        customer,
        date(2026, 4, 1),
        "10.00",
        "2.10",
        "21",
        extra_lines=[("5.00", "0.45", "9")],
    )
    (row,) = invoice_export_rows(invoices_for(finance_user))
    assert row == [
        invoice.number,
        "2026-04-01",
        invoice.seller_name,
        customer.pk,
        customer.name,
        "DE",
        "",
        D("15.00"),
        "9% / 21%",
        D("2.55"),
        D("17.55"),
        "USD",
        "Paid",
        "Order",
        "NL",
        "no",
        "",  # no credit note
    ]


# --- Reports --------------------------------------------------------------------------------


def test_revenue_by_month_fills_every_month_and_leaves_void_out(ledger, finance_user):
    months = revenue_by_month(finance_user, date_from=date(2025, 12, 1), date_to=date(2026, 4, 30))
    assert [(m["month"], m["count"], m["net"], m["vat"], m["gross"]) for m in months] == [
        (date(2025, 12, 1), 1, D("3.00"), D("0.57"), D("3.57")),
        (date(2026, 1, 1), 2, D("12.05"), D("2.29"), D("14.34")),
        (date(2026, 2, 1), 1, D("100.00"), D("0.00"), D("100.00")),
        (date(2026, 3, 1), 1, D("7.50"), D("0.00"), D("7.50")),  # the void one is not here
        (date(2026, 4, 1), 0, D("0"), D("0"), D("0")),
    ]


def test_revenue_by_month_is_one_query(ledger, finance_user, django_assert_num_queries):
    with django_assert_num_queries(1):
        revenue_by_month(finance_user, date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))


def test_vat_by_country_separates_reverse_charge_and_outside_eu(ledger, finance_user):
    rows = vat_by_country(finance_user, date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))
    assert [(r["label"], r["count"], r["net"], r["vat"], r["gross"]) for r in rows] == [
        ("Germany (DE)", 2, D("12.05"), D("2.29"), D("14.34")),
        ("Reverse charge (FR)", 1, D("100.00"), D("0.00"), D("100.00")),
        ("Outside EU", 1, D("7.50"), D("0.00"), D("7.50")),
    ]  # the void NL invoice is in no row


def test_revenue_totals_count_paid_and_void(ledger, finance_user):
    totals = revenue_totals(finance_user, date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    assert (totals["paid"], totals["void"], totals["net"], totals["gross"]) == (
        1,
        1,
        D("7.50"),
        D("7.50"),
    )


def test_invoice_years_newest_first(ledger, finance_user, customer_admin, stranger):
    assert invoice_years(finance_user) == [2026, 2025]
    assert invoice_years(customer_admin) == [2026, 2025]
    assert invoice_years(stranger) == [2026]
