"""Invoices: gap-free numbers, lines from charges, the daily invoice, PDFs, void."""

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pypdf
import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from billing.models import CreditNote, Invoice, InvoiceLine, InvoiceSequence, SubscriptionCharge
from billing.services.invoices import (
    LineDraft,
    invoice_document,
    invoice_for_charges,
    invoice_issue,
    invoice_pdf_render,
    invoice_pdfs_render_missing,
    invoice_void,
    invoices_issue_daily,
)
from billing.services.renewals import (
    subscriptions_renew_due,
)
from billing.tasks import issue_daily_invoices, render_invoice_pdf
from billing.tax import OUTSIDE_EU_NOTE, REVERSE_CHARGE_NOTE
from tests.billing.factories import fund
from tests.billing.test_subscriptions_helpers import start

pytestmark = pytest.mark.django_db
D2 = Decimal("2.00")


def line(net="10.00", vat="1.90", rate="19", **kw):
    return LineDraft(
        description=kw.pop("description", "Number +49 30 1234567: monthly fee"),
        net=Decimal(net),
        vat=Decimal(vat),
        vat_rate=Decimal(rate),
        tax_country=kw.pop("tax_country", "DE"),
        **kw,
    )


def issue(account, key, lines=None, **kw):
    return invoice_issue(
        account=account,
        lines=[line()] if lines is None else lines,
        source=Invoice.Source.ORDER,
        idempotency_key=key,
        job="tests",
        **kw,
    )


def pdf_text(path, settings):
    reader = pypdf.PdfReader(io.BytesIO((settings.PRIVATE_STORAGE_ROOT / path).read_bytes()))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


# --- Numbers --------------------------------------------------------------------------------


def test_numbers_follow_each_other_per_year(customer):
    first = issue(customer, "a", issue_date=date(2026, 12, 31))
    second = issue(customer, "b", issue_date=date(2026, 12, 31))
    next_year = issue(customer, "c", issue_date=date(2027, 1, 1))
    assert [first.number, second.number, next_year.number] == [
        "INV-2026-000001",
        "INV-2026-000002",
        "INV-2027-000001",
    ]


def test_a_repeated_key_returns_the_same_invoice_and_uses_no_number(customer):
    first = issue(customer, "order:1")
    again = issue(customer, "order:1")
    assert again.pk == first.pk
    assert Invoice.objects.count() == 1
    assert InvoiceSequence.objects.get().last_number == 1


def test_a_new_key_skips_the_look_up_and_a_repeat_still_returns_the_first_invoice(customer):
    """``new_key`` (checkout's order invoice) skips the look-up; the key's constraint still
    returns the first invoice, and the repeat's number is given back with its savepoint."""
    first = issue(customer, "order:2", new_key=True)
    again = issue(customer, "order:2", new_key=True)
    assert again.pk == first.pk
    assert Invoice.objects.count() == 1
    assert InvoiceSequence.objects.get().last_number == 1
    assert issue(customer, "order:3", new_key=True).number.endswith("-000002")


def test_a_rolled_back_issue_gives_its_number_back(customer):
    with pytest.raises(RuntimeError), transaction.atomic():
        issue(customer, "doomed")
        raise RuntimeError("the order failed after the invoice")
    assert issue(customer, "kept").number.endswith("-000001")


def test_totals_identity_and_snapshot(customer, platform_account):
    customer.legal_name, customer.vat_number = "Kunde GmbH", ""
    customer.save()
    invoice = issue(customer, "k", lines=[line(), line("5.00", "0.95")])
    assert (invoice.net, invoice.vat, invoice.gross) == (
        Decimal("15.00"),
        Decimal("2.85"),
        Decimal("17.85"),
    )
    assert invoice.seller_name == platform_account.name
    assert (invoice.buyer_legal_name, invoice.buyer_country.code) == ("Kunde GmbH", "DE")
    assert (invoice.tax_country.code, invoice.reverse_charge, invoice.tax_note) == ("DE", False, "")
    customer.name = "Renamed later"
    customer.save()
    invoice.refresh_from_db()
    assert invoice.buyer_name != "Renamed later"
    assert [x.position for x in invoice.lines.all()] == [1, 2]


def test_tax_notes(customer):
    reverse = issue(customer, "r", lines=[line(vat="0", rate="0", reverse_charge=True)])
    outside = issue(customer, "o", lines=[line(vat="0", rate="0", tax_country="")])
    assert (reverse.reverse_charge, reverse.tax_note) == (True, REVERSE_CHARGE_NOTE)
    assert outside.tax_note == OUTSIDE_EU_NOTE


def test_an_invoice_needs_lines_and_an_author(customer):
    with pytest.raises(ValidationError, match="at least one line"):
        issue(customer, "empty", lines=[])
    with pytest.raises(ValidationError, match="author"):
        invoice_issue(account=customer, lines=[line()], source="order", idempotency_key="x", job="")
    assert not Invoice.objects.exists()


# --- Lines from charges ---------------------------------------------------------------------


def test_a_charge_becomes_a_setup_line_and_a_period_line(customer):
    fund(customer, "20.00")
    sub = start(customer, price="2.05", setup="1.05")  # DE 19 %
    charge = sub.charges.get()
    invoice = invoice_for_charges(
        account=customer, charges=[charge], source="order", idempotency_key="order:7", job="t"
    )
    setup, period = invoice.lines.order_by("position")
    assert (setup.charge_part, setup.net, setup.vat, setup.gross) == (
        "setup",
        Decimal("1.05"),
        Decimal("0.20"),
        Decimal("1.25"),
    )
    assert (period.charge_part, period.net, period.vat) == (
        "period",
        Decimal("2.05"),
        Decimal("0.39"),
    )
    assert period.period_start is not None and period.period_end > period.period_start
    assert "monthly fee" in period.description
    assert invoice.gross == charge.amount == Decimal("3.69")


def test_a_charge_part_is_invoiced_once(customer):
    fund(customer, "20.00")
    charge = start(customer, price="2.00").charges.get()
    invoice_for_charges(
        account=customer, charges=[charge], source="order", idempotency_key="1", job="t"
    )
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017 (IntegrityError)
        invoice_for_charges(
            account=customer, charges=[charge], source="order", idempotency_key="2", job="t"
        )
    assert InvoiceLine.objects.filter(subscription_charge=charge).count() == 1


def test_charges_of_another_account_are_refused(customer, stranger):
    fund(customer, "20.00")
    charge = start(customer, price="2.00").charges.get()
    with pytest.raises(ValidationError):
        invoice_for_charges(
            account=stranger.account, charges=[charge], source="order", idempotency_key="x", job="t"
        )


# --- The daily invoice ----------------------------------------------------------------------


def test_daily_invoice_bills_yesterdays_charges_once_per_account(customer, stranger):
    with time_machine.travel(datetime(2026, 3, 1, 9, 0, tzinfo=UTC), tick=False):
        fund(customer, "100.00")
        fund(stranger.account, "100.00")
        mine = [start(customer, unit="day", price="1.00") for _ in range(2)]
        start(stranger.account, unit="day", price="3.00")
        assert invoices_issue_daily() == 0  # today's charges wait for tomorrow
    with time_machine.travel(datetime(2026, 3, 2, 9, 30, tzinfo=UTC), tick=False):
        subscriptions_renew_due()  # day 2 for everyone: billed on the 3rd
        assert invoices_issue_daily() == 2
        assert invoices_issue_daily() == 0
    invoice = Invoice.objects.get(account=customer)
    assert invoice.source == "daily"
    assert invoice.issue_date == date(2026, 3, 2)
    assert invoice.gross == Decimal("2.38")  # two numbers, 1.00 + 19 % each
    assert {x.subscription_charge.subscription_id for x in invoice.lines.all()} == {
        s.pk for s in mine
    }
    with time_machine.travel(datetime(2026, 3, 3, 0, 45, tzinfo=UTC), tick=False):
        assert issue_daily_invoices.apply().get() == 2
    uninvoiced = SubscriptionCharge.objects.exclude(invoice_lines__isnull=False)
    assert not uninvoiced.exists()
    assert Invoice.objects.filter(account=customer).count() == 2


def test_daily_invoice_leaves_order_charges_alone(customer):
    with time_machine.travel(datetime(2026, 3, 1, 9, 0, tzinfo=UTC), tick=False):
        fund(customer, "100.00")
        charge = start(customer, unit="month", price="4.00").charges.get()
        invoice_for_charges(
            account=customer, charges=[charge], source="order", idempotency_key="o", job="t"
        )
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        assert invoices_issue_daily() == 0
    assert Invoice.objects.count() == 1


# --- PDF and void ---------------------------------------------------------------------------


def test_pdf_prints_the_stored_figures(customer, settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    customer.address = '<img src="file:///etc/passwd"> Hauptstr. 1'
    customer.save()
    invoice = issue(customer, "p", lines=[line("12.50", "2.38")])
    path = render_invoice_pdf.apply(args=[invoice.pk]).get()
    invoice.refresh_from_db()
    assert invoice.pdf_path == path == f"invoices/{invoice.year}/{invoice.number}.pdf"
    text = pdf_text(path, settings)
    assert invoice.number in text
    assert "12.50" in text and "2.38" in text and "14.88" in text
    assert '<img src="file:///etc/passwd">' in text
    assert invoice_pdf_render(invoice_id=invoice.pk) == path  # again: same file, no error


def test_missing_pdfs_are_caught_up(customer, settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    issue(customer, "1")
    issue(customer, "2")
    assert invoice_pdfs_render_missing() == 2
    assert invoice_pdfs_render_missing() == 0
    assert not Invoice.objects.filter(pdf_path="").exists()


def test_void_keeps_the_number_and_needs_finance_and_a_reason(
    customer, customer_admin, finance_user, settings, tmp_path
):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    invoice = issue(customer, "v")
    with pytest.raises(PermissionDenied):
        invoice_void(invoice=invoice, actor=customer_admin, reason="mine")
    with pytest.raises(ValidationError):
        invoice_void(invoice=invoice, actor=finance_user, reason="  ")
    invoice_void(invoice=invoice, actor=finance_user, reason="Issued twice by mistake")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == ("void", f"INV-{invoice.year}-000001")
    text = pdf_text(invoice_pdf_render(invoice_id=invoice.pk), settings)
    assert "Issued twice by mistake" in text and "void" in text.lower()


# --- Concurrency ----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_take_consecutive_numbers(customer):
    from tests.concurrency import run_in_threads

    results = run_in_threads(lambda i: issue(customer, f"c{i}").number, count=12)
    assert not [r for r in results if isinstance(r, Exception)], results
    year = Invoice.objects.first().year
    assert sorted(results) == [f"INV-{year}-{n:06d}" for n in range(1, 13)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_daily_runs_invoice_each_charge_once(customer):
    from tests.concurrency import run_in_threads

    fund(customer, "100.00")
    for _ in range(30):
        start(customer, unit="day", price="1.00")
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    results = run_in_threads(lambda i: invoices_issue_daily(now=tomorrow), count=4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 1
    assert InvoiceLine.objects.count() == 30
    assert Invoice.objects.get().gross == Decimal("35.70")


def test_credit_notes_have_their_own_gap_free_series(customer, finance_user):
    first, second, third = (issue(customer, key) for key in ("c1", "c2", "c3"))
    invoice_void(invoice=first, actor=finance_user, reason="Wrong buyer")
    with pytest.raises(RuntimeError), transaction.atomic():
        invoice_void(invoice=second, actor=finance_user, reason="Rolled back")
        raise RuntimeError("the void fails after numbering")
    invoice_void(invoice=third, actor=finance_user, reason="Duplicate")
    again = invoice_void(invoice=third, actor=finance_user, reason="twice")

    numbers = list(CreditNote.objects.order_by("sequence").values_list("number", "invoice"))
    year = first.year
    assert numbers == [(f"CN-{year}-000001", first.pk), (f"CN-{year}-000002", third.pk)]
    assert again.credit_note.number == f"CN-{year}-000002"  # one credit note per invoice
    # The invoice series goes on where it was.
    assert issue(customer, "c4").number == f"INV-{year}-000004"
    second.refresh_from_db()
    assert second.status == "paid"


def test_a_vat_identity_changed_mid_day_gives_one_invoice_per_regime(customer, settings):
    """Issue 10, item 11: each charge keeps the identity it was taxed on; the daily invoice
    never mixes regimes and a reverse-charge invoice prints the VAT number it used."""
    from accounts.services import account_update_identity  # noqa: PLC0415

    settings.PLATFORM_COUNTRY = "NL"
    account_update_identity(account=customer, country="DE", vat_number="DE136695976")
    with time_machine.travel(datetime(2026, 3, 1, 8, 0, tzinfo=UTC), tick=False):
        fund(customer, "100.00")
        start(customer, unit="month", price="1.00")  # reverse charge on DE136695976
    with time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False):
        account_update_identity(account=customer, vat_number="")  # no longer a business
        start(customer, unit="month", price="4.00")  # German VAT
    with time_machine.travel(datetime(2026, 3, 1, 16, 0, tzinfo=UTC), tick=False):
        account_update_identity(account=customer, vat_number="DE129273398")
        start(customer, unit="month", price="2.00")  # reverse charge on the new number
    with time_machine.travel(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), tick=False):
        account_update_identity(account=customer, country="AT", vat_number="")  # moved again
        assert invoices_issue_daily() == 3
        assert invoices_issue_daily() == 0

    invoices = {invoice.net: invoice for invoice in Invoice.objects.filter(account=customer)}
    first, german, second = invoices[Decimal("1.00")], invoices[Decimal("4.00")], invoices[D2]
    for invoice, vat_number in ((first, "DE136695976"), (second, "DE129273398")):
        assert invoice.reverse_charge and invoice.tax_note == REVERSE_CHARGE_NOTE
        assert (invoice.buyer_country.code, invoice.buyer_vat_number) == ("DE", vat_number)
        assert invoice.vat == 0
        assert invoice_document(invoice).buyer.vat_number == vat_number
    assert not german.reverse_charge and german.tax_note == ""
    assert (german.tax_country.code, german.buyer_country.code, german.buyer_vat_number) == (
        "DE",
        "DE",
        "",
    )
    assert german.vat == Decimal("0.76")
    charge = SubscriptionCharge.objects.get(net=Decimal("2.00"))
    assert (charge.buyer_country, charge.buyer_vat_number, charge.reverse_charge) == (
        "DE",
        "DE129273398",
        True,
    )
    assert charge.vat_confirmed is False  # VIES is off by default


def test_one_invoice_refuses_lines_of_two_regimes(customer):
    with pytest.raises(ValidationError, match="mix VAT regimes"):
        issue(
            customer,
            "mixed",
            lines=[
                line(tax_country="DE", buyer_country="DE", buyer_vat_number=""),
                line(
                    vat="0.00",
                    rate="0",
                    reverse_charge=True,
                    buyer_country="DE",
                    buyer_vat_number="DE136695976",
                ),
            ],
        )
