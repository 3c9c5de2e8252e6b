"""Invoices of resellers (issue 11): who issues each invoice, each issuer's own gap-free
series, the reseller's identity and brand copied at issue and printed on the PDF, and the
platform's one consolidated daily invoice per reseller for its wholesale charges."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pypdf
import pytest
import time_machine
from django.core.exceptions import ValidationError

from accounts.models import Brand
from billing.models import CreditNote, Invoice, InvoiceLogo, SubscriptionCharge
from billing.services.invoices import (
    LineDraft,
    invoice_for_charges,
    invoice_issue,
    invoice_issuer_for,
    invoice_pdf_render,
    invoice_void,
    invoices_issue_daily,
)
from billing.services.renewals import subscriptions_renew_due
from tests.billing.factories import fund
from tests.billing.resellers import PNG, customer_of, reseller_with_brand, resold
from tests.billing.test_subscriptions_helpers import start
from tests.factories import platform

pytestmark = pytest.mark.django_db

D = Decimal
MARCH_1 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
MARCH_2 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"


@pytest.fixture
def voxel(db):
    return reseller_with_brand(
        "Voxel",
        vat_number="NL859048267B01",
        bank="IBAN NL91 VOXL 0417 1643 00, BIC VOXLNL2A",
        footer="Voxel Voice is a trading name of Voxel B.V., KvK 12345678.",
        logo=PNG,
    )


@pytest.fixture
def orbit(db):
    return reseller_with_brand("Orbit", bank="IBAN NL02 ORBT 0123 4567 89")


def pdf_text(path, settings):
    reader = pypdf.PdfReader(io.BytesIO((settings.PRIVATE_STORAGE_ROOT / path).read_bytes()))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def pdf_images(path, settings):
    reader = pypdf.PdfReader(io.BytesIO((settings.PRIVATE_STORAGE_ROOT / path).read_bytes()))
    return [image for page in reader.pages for image in page.images]


def order_invoice(account, subscription, key="order:1"):
    return invoice_for_charges(
        account=account,
        charges=[subscription.charges.get(side="sale")],
        source=Invoice.Source.ORDER,
        idempotency_key=key,
        job="tests",
    )


def line(net="10.00"):
    return LineDraft(
        description="Number: monthly fee",
        net=D(net),
        vat=D("2.10"),
        vat_rate=D("21"),
        tax_country="NL",
    )


# --- Who issues -----------------------------------------------------------------------------


def test_the_issuer_is_the_seller_of_the_account(voxel, customer):
    assert invoice_issuer_for(customer_of(voxel)) == voxel
    assert invoice_issuer_for(customer) == platform()
    assert invoice_issuer_for(voxel) == platform()  # its wholesale and its own purchases


def test_an_order_invoice_of_a_resellers_customer_is_the_resellers(voxel):
    buyer = customer_of(voxel, country="DE")
    invoice = order_invoice(buyer, resold(buyer, retail="10.00", wholesale="6.00"))
    assert invoice.issuer == voxel and invoice.account == buyer
    assert invoice.number == f"INV-R{voxel.pk}-{invoice.year}-000001"
    assert invoice.net == D("10.00")  # retail only: the wholesale charge is not the buyer's
    assert (invoice.seller_name, invoice.seller_legal_name) == ("Voxel", "Voxel B.V.")
    assert invoice.seller_vat_number == "NL859048267B01"
    assert invoice.seller_address.startswith("Voxelstraat 1")
    assert invoice.seller_display_name == "Voxel Voice"
    assert invoice.seller_bank_details.startswith("IBAN NL91 VOXL")
    assert invoice.seller_footer.startswith("Voxel Voice is a trading name")
    assert bytes(invoice.seller_logo.content) == PNG


def test_direct_customers_and_resellers_are_invoiced_by_the_platform(voxel, customer):
    fund(customer, "50.00")
    fund(voxel, "50.00")
    direct = order_invoice(customer, start(customer, price="4.00"), key="order:d")
    own = order_invoice(voxel, start(voxel, price="3.00"), key="order:own")
    assert direct.issuer == own.issuer == platform()
    assert direct.number.startswith("INV-2026-") or direct.number.startswith(f"INV-{direct.year}-")
    assert [direct.sequence, own.sequence] == [1, 2]  # the platform's one series
    assert own.seller_display_name == own.seller_bank_details == "" and own.seller_logo is None


def test_a_charge_is_invoiced_only_to_the_account_charged(voxel):
    buyer = customer_of(voxel)
    subscription = resold(buyer)
    wholesale = subscription.charges.get(side="wholesale")
    with pytest.raises(ValidationError, match="belong to its account"):
        invoice_for_charges(
            account=buyer, charges=[wholesale], source="order", idempotency_key="x", job="t"
        )
    assert not Invoice.objects.exists()


def test_a_reseller_without_a_brand_issues_under_its_account_identity(customer):
    from tests.factories import AccountFactory  # noqa: PLC0415

    plain = AccountFactory(kind="reseller", parent=platform(), name="Plain Resale")
    invoice = invoice_issue(
        account=customer_of(plain), lines=[line()], source="order", idempotency_key="p", job="t"
    )
    assert invoice.issuer == plain and invoice.seller_name == "Plain Resale"
    assert invoice.seller_display_name == "" and invoice.seller_bank_details == ""


# --- Each issuer's own series ---------------------------------------------------------------


def test_each_issuer_numbers_its_own_invoices_and_credit_notes(
    voxel, orbit, customer, finance_user
):
    def issue(account, key):
        return invoice_issue(
            account=account, lines=[line()], source="order", idempotency_key=key, job="t"
        )

    a, b = customer_of(voxel), customer_of(orbit)
    numbers = [issue(acc, f"k{i}").number for i, acc in enumerate([a, b, a, customer, b, a])]
    year = date.today().year
    assert numbers == [
        f"INV-R{voxel.pk}-{year}-000001",
        f"INV-R{orbit.pk}-{year}-000001",
        f"INV-R{voxel.pk}-{year}-000002",
        f"INV-{year}-000001",
        f"INV-R{orbit.pk}-{year}-000002",
        f"INV-R{voxel.pk}-{year}-000003",
    ]
    voided = invoice_void(
        invoice=Invoice.objects.get(number=numbers[2]), actor=finance_user, reason="Wrong buyer"
    )
    credit_note = CreditNote.objects.get(invoice=voided)
    assert credit_note.issuer == voxel and credit_note.account == a
    assert credit_note.number == f"CN-R{voxel.pk}-{year}-000001"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_resellers_issuing_at_once_each_number_1_2_3():
    from tests.concurrency import run_in_threads  # noqa: PLC0415

    resellers = [reseller_with_brand("Alpha"), reseller_with_brand("Beta")]
    buyers = [customer_of(r) for r in resellers]

    def issue(i):
        buyer = buyers[i % 2]
        return invoice_issue(
            account=buyer, lines=[line()], source="order", idempotency_key=f"c{i}", job="t"
        ).number

    results = run_in_threads(issue, count=12)
    assert not [r for r in results if isinstance(r, Exception)], results
    year = date.today().year
    for reseller in resellers:
        mine = sorted(Invoice.objects.filter(issuer=reseller).values_list("number", flat=True))
        assert mine == [f"INV-R{reseller.pk}-{year}-{n:06d}" for n in range(1, 7)]


# --- The brand, copied at issue and printed -------------------------------------------------


def test_a_later_brand_change_leaves_issued_invoices_as_they_were(voxel, settings):
    buyer = customer_of(voxel)
    invoice = order_invoice(buyer, resold(buyer))
    Brand.objects.filter(account=voxel).update(
        display_name="Voxel Renamed",
        bank_details="IBAN NEW",
        invoice_footer="New footer",
        logo=None,
        logo_content_type="",
    )
    voxel.vat_number, voxel.name = "", "Voxel Holding"
    voxel.save()
    invoice.refresh_from_db()
    assert (invoice.seller_display_name, invoice.seller_name) == ("Voxel Voice", "Voxel")
    assert invoice.seller_vat_number == "NL859048267B01"
    path = invoice_pdf_render(invoice_id=invoice.pk)
    text = pdf_text(path, settings)
    assert "Voxel Voice" in text and "IBAN NL91 VOXL" in text and "NL859048267B01" in text
    assert "Renamed" not in text and "IBAN NEW" not in text and "Holding" not in text
    assert len(pdf_images(path, settings)) == 1  # the logo of the day


def test_one_logo_row_per_image(voxel):
    buyers = [customer_of(voxel) for _ in range(3)]
    for i, buyer in enumerate(buyers):
        order_invoice(buyer, resold(buyer), key=f"order:{i}")
    assert InvoiceLogo.objects.count() == 1


def test_the_pdf_is_the_resellers_and_names_nothing_of_the_platform(voxel, settings):
    settings.BILLING_BANK_DETAILS = "IBAN NL00 PLAT 0000 0000 00"
    carrier = platform()
    carrier.vat_number = "NL004495445B01"
    carrier.save()
    buyer = customer_of(voxel, name="Kunde")
    invoice = order_invoice(buyer, resold(buyer, retail="10.00", wholesale="6.00"))
    path = invoice_pdf_render(invoice_id=invoice.pk)
    text = pdf_text(path, settings)
    for expected in (
        "Voxel Voice",
        "Voxel B.V.",
        "NL859048267B01",
        "IBAN NL91 VOXL 0417 1643 00",
        "KvK 12345678",
        invoice.number,
    ):
        assert expected in text, expected
    for absent in (carrier.name, carrier.legal_name, "NL004495445B01", "PLAT", "6.00"):
        assert absent not in text, absent
    assert len(pdf_images(path, settings)) == 1


def test_a_logo_that_is_not_an_image_is_not_printed(voxel, settings):
    Brand.objects.filter(account=voxel).update(
        logo=b"<svg onload=x>", logo_content_type="image/png"
    )
    buyer = customer_of(voxel)
    invoice = order_invoice(buyer, resold(buyer))
    assert invoice.seller_logo is None
    assert pdf_images(invoice_pdf_render(invoice_id=invoice.pk), settings) == []


def test_the_credit_note_pdf_is_the_resellers_too(voxel, finance_user, settings):
    from billing.services.invoices import credit_note_pdf_render  # noqa: PLC0415

    buyer = customer_of(voxel)
    invoice = invoice_void(
        invoice=order_invoice(buyer, resold(buyer)), actor=finance_user, reason="Wrong buyer"
    )
    text = pdf_text(credit_note_pdf_render(credit_note_id=invoice.credit_note.pk), settings)
    assert f"CN-R{voxel.pk}-" in text and "Voxel Voice" in text and "IBAN NL91 VOXL" in text
    assert platform().name not in text


# --- The daily invoices ---------------------------------------------------------------------


def test_daily_run_one_invoice_per_account_charged_each_from_its_seller(voxel, orbit, customer):
    with time_machine.travel(MARCH_1, tick=False):
        a1, a2, b1 = customer_of(voxel), customer_of(voxel), customer_of(orbit)
        for buyer, retail, wholesale in (
            (a1, "10.00", "6.00"),
            (a2, "20.00", "12.00"),
            (b1, "5.00", "4.00"),
        ):
            resold(buyer, retail=retail, wholesale=wholesale)
        start(voxel, price="3.00")  # Voxel's own number, bought at wholesale from the platform
        fund(customer, "50.00")
        start(customer, price="7.00")
    with time_machine.travel(MARCH_2, tick=False):
        assert invoices_issue_daily() == 6
        assert invoices_issue_daily() == 0  # safe twice
    invoices = {i.account: i for i in Invoice.objects.select_related("issuer", "account")}
    assert len(invoices) == 6  # one per account charged
    for buyer, seller in ((a1, voxel), (a2, voxel), (b1, orbit), (customer, platform())):
        assert invoices[buyer].issuer == seller
    # Voxel: one platform invoice for both wholesale charges and its own purchase.
    to_voxel = invoices[voxel]
    assert to_voxel.issuer == platform() and to_voxel.source == "daily"
    assert to_voxel.net == D("21.00")  # 6 + 12 + 3
    assert to_voxel.lines.count() == 3
    assert invoices[orbit].net == D("4.00") and invoices[orbit].issuer == platform()
    assert invoices[a1].net == D("10.00") and invoices[a2].net == D("20.00")
    assert not SubscriptionCharge.objects.filter(invoice_lines__isnull=True, amount__gt=0).exists()


def test_renewals_of_a_resold_number_are_invoiced_by_each_seller(voxel):
    """A renewal charged on both sides (made here by hand until lane money's renewals do)."""
    from tests.billing.resellers import wholesale_charge  # noqa: PLC0415

    with time_machine.travel(MARCH_1, tick=False):
        buyer = customer_of(voxel)
        subscription = resold(buyer, retail="1.00", wholesale="0.60", unit="day")
    with time_machine.travel(MARCH_2, tick=False):
        subscriptions_renew_due()
        renewal = subscription.charges.get(side="sale", period_index=1)
        wholesale_charge(renewal, wholesale="0.60")
    with time_machine.travel(datetime(2026, 3, 3, 1, 0, tzinfo=UTC), tick=False):
        assert invoices_issue_daily() == 2
        assert invoices_issue_daily() == 0
    by_issuer = {i.issuer_id: i for i in Invoice.objects.all()}
    assert by_issuer[voxel.pk].account == buyer and by_issuer[voxel.pk].lines.count() == 2
    assert by_issuer[platform().pk].account == voxel
    assert by_issuer[platform().pk].lines.count() == 2
    assert by_issuer[platform().pk].net == D("1.20")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_daily_runs_give_each_reseller_one_invoice():
    from datetime import timedelta  # noqa: PLC0415

    from tests.concurrency import run_in_threads  # noqa: PLC0415

    resellers = [reseller_with_brand("Alpha"), reseller_with_brand("Beta")]
    for reseller in resellers:
        for _ in range(3):
            resold(customer_of(reseller), retail="2.00", wholesale="1.00", unit="day")
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    results = run_in_threads(lambda i: invoices_issue_daily(now=tomorrow), count=4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 8  # 6 customers + 2 resellers
    for reseller in resellers:
        to_reseller = Invoice.objects.get(account=reseller)
        assert to_reseller.issuer == platform() and to_reseller.lines.count() == 3
        assert Invoice.objects.filter(issuer=reseller).count() == 3
        assert list(
            Invoice.objects.filter(issuer=reseller)
            .order_by("sequence")
            .values_list("sequence", flat=True)
        ) == [1, 2, 3]


def test_the_fetcher_serves_the_documents_own_logo_and_no_other_data_uri():
    import base64  # noqa: PLC0415

    from billing.pdf import RefusedURL, StaticOnlyFetcher  # noqa: PLC0415

    own = f"data:image/png;base64,{base64.b64encode(PNG).decode()}"
    other = f"data:image/png;base64,{base64.b64encode(PNG + b'x').decode()}"
    fetcher = StaticOnlyFetcher(inline=[own])
    assert fetcher.fetch(own).read() == PNG
    for refused in (other, "data:text/html,<script>x</script>", "file:///etc/passwd"):
        with pytest.raises(RefusedURL):
            fetcher.fetch(refused)
