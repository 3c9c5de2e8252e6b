"""Invoice PDFs: the printed figures, literal customer text, the static-only fetcher, storage."""

import io
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest
from django.conf import settings as django_settings
from django.core.exceptions import SuspiciousFileOperation
from PIL import Image
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from billing import pdf
from billing.pdf import (
    REVERSE_CHARGE_NOTE,
    STATIC_BASE_URL,
    InvoiceDocument,
    InvoiceLine,
    InvoiceTotals,
    Party,
    RefusedURL,
    StaticOnlyFetcher,
    render_invoice_pdf,
    store_invoice_pdf,
)

INJECTION_NAME = 'Evil <img src="file:///etc/passwd"> Ltd'
INJECTION_ADDRESS = "<script>alert(1)</script>\n1 Main Street"
INJECTION_DESCRIPTION = '<link rel="stylesheet" href="http://example.com/x.css">DID rent'

SELLER = Party(
    name="DIDPortal Carrier",
    legal_name="DIDPortal Carrier B.V.",
    address="Keizersgracht 100\n1015 AA Amsterdam",
    country="NL",
    vat_number="NL004495445B01",
)
BUYER = Party(
    name="Acme Telecom",
    legal_name="Acme Telecom GmbH",
    address="Hauptstraße 5\n10115 Berlin",
    country="DE",
    vat_number="DE136695976",
)


def line(description, quantity, unit_price, net, rate, vat, gross, period=""):
    return InvoiceLine(
        description=description,
        period=period,
        quantity=Decimal(quantity),
        unit_price=Decimal(unit_price),
        net=Decimal(net),
        vat_rate=Decimal(rate),
        vat=Decimal(vat),
        gross=Decimal(gross),
    )


def domestic_invoice(**changes):
    """Two lines at 21 % VAT (a Dutch customer of a Dutch seller)."""
    document = InvoiceDocument(
        number="INV-2026-000123",
        issue_date=date(2026, 3, 1),
        due_date=date(2026, 3, 15),
        currency="USD",
        seller=SELLER,
        buyer=replace(BUYER, country="NL", vat_number="NL859048267B01"),
        lines=[
            line(
                "DID +31 20 123 4567 monthly rent",
                "1",
                "10.00000",
                "10.00",
                "21",
                "2.10",
                "12.10",
                period="1 Mar 2026 – 31 Mar 2026",
            ),
            line("DID setup fees", "150", "8.23000", "1234.50", "21", "259.25", "1493.75"),
        ],
        totals=InvoiceTotals(
            net=Decimal("1244.50"), vat=Decimal("261.35"), gross=Decimal("1505.85")
        ),
    )
    return replace(document, **changes)


def reverse_charge_invoice(**changes):
    """An EU business customer in another member state: 0 % VAT and the reverse-charge note."""
    document = domestic_invoice(
        number="INV-2026-000124",
        buyer=BUYER,
        lines=[
            line("DID +49 30 1234 5678 monthly rent", "2", "3.50", "7.00", "0", "0.00", "7.00"),
            line("Toll-free DID setup", "1", "25.00", "25.00", "0", "0.00", "25.00"),
        ],
        totals=InvoiceTotals(net=Decimal("32.00"), vat=Decimal("0.00"), gross=Decimal("32.00")),
        reverse_charge_note=REVERSE_CHARGE_NOTE,
    )
    return replace(document, **changes)


def pdf_text(content):
    """The text of every page, whitespace collapsed to single spaces."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def squeeze(text):
    """Without any whitespace: a line wrap inside a long word must not fail a test."""
    return re.sub(r"\s+", "", text)


def image_count(content):
    return sum(len(page.images) for page in pypdf.PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def fetched(monkeypatch):
    """Every URL WeasyPrint asks our fetcher for, in order."""
    urls = []
    original = StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        urls.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(StaticOnlyFetcher, "fetch", spy)
    return urls


def test_pdf_prints_number_parties_lines_and_totals(fetched):
    content = render_invoice_pdf(domestic_invoice())
    assert content.startswith(b"%PDF-")
    text = pdf_text(content)

    assert "INV-2026-000123" in text
    assert "Acme Telecom GmbH" in text and "DIDPortal Carrier B.V." in text
    assert "VAT number: NL859048267B01" in text  # the buyer's
    assert "VAT number: NL004495445B01" in text  # the seller's
    assert "Issue date 1 Mar 2026" in text and "Due date 15 Mar 2026" in text
    # Each line's net, rate, VAT and gross, in that order on its row.
    assert "1 10.00 10.00 21% 2.10 12.10" in text
    assert "150 8.23 1,234.50 21% 259.25 1,493.75" in text
    assert "1 Mar 2026 – 31 Mar 2026" in text
    assert "net 1,244.50 USD" in text
    assert "VAT 261.35 USD" in text
    assert "Total due 1,505.85 USD" in text
    assert "reverse charge" not in text.lower()
    assert django_settings.BILLING_BANK_DETAILS in text
    # The stylesheet came through the fetcher, and nothing else was asked for.
    assert fetched == [f"{STATIC_BASE_URL}css/invoice.css"]


def test_reverse_charge_invoice_carries_the_note():
    text = pdf_text(render_invoice_pdf(reverse_charge_invoice()))

    assert "INV-2026-000124" in text
    assert "VAT number: DE136695976" in text
    assert "2 3.50 7.00 0% 0.00 7.00" in text
    assert "1 25.00 25.00 0% 0.00 25.00" in text
    assert "Total due 32.00 USD" in text
    assert squeeze(REVERSE_CHARGE_NOTE) in squeeze(text)


def test_customer_text_prints_literally_and_fetches_nothing(fetched):
    document = reverse_charge_invoice(
        buyer=replace(BUYER, name=INJECTION_NAME, legal_name="", address=INJECTION_ADDRESS),
        lines=[line(INJECTION_DESCRIPTION, "1", "5", "5.00", "0", "0.00", "5.00")],
        notes='<img src="https://example.com/pixel.png"> & <b>bold</b>',
    )
    content = render_invoice_pdf(document)
    text = squeeze(pdf_text(content))

    for literal in (
        INJECTION_NAME,
        "<script>alert(1)</script>",
        INJECTION_DESCRIPTION,
        '<img src="https://example.com/pixel.png"> & <b>bold</b>',
    ):
        assert squeeze(literal) in text
    assert image_count(content) == 0
    assert fetched == [f"{STATIC_BASE_URL}css/invoice.css"]
    assert not any("passwd" in url or "example.com" in url for url in fetched)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.com/x.png",
        "https://example.com/static/css/portal.css",
        "data:text/css,body{}",
        "ftp://example.com/static/css/portal.css",
        f"{STATIC_BASE_URL}../../etc/passwd",
        f"{STATIC_BASE_URL}%2e%2e/%2e%2e/etc/passwd",
        f"{STATIC_BASE_URL}css/missing.css",
        f"{STATIC_BASE_URL}css/",
        f"{STATIC_BASE_URL}css/portal.css?x=1",
        "/static/../didportal/settings.py",
        "/etc/passwd",
        "https://didportal.invalid/private/invoices/2026/INV-2026-000001.pdf",
    ],
)
def test_fetcher_refuses_everything_but_static_files(url):
    with pytest.raises(RefusedURL):
        StaticOnlyFetcher()(url)


@pytest.mark.parametrize("url", ["/static/css/portal.css", f"{STATIC_BASE_URL}css/portal.css"])
def test_fetcher_serves_static_files(url):
    expected = (Path(django_settings.BASE_DIR) / "static" / "css" / "portal.css").read_bytes()
    response = StaticOnlyFetcher()(url)
    try:
        assert response.read() == expected
        assert response.content_type == "text/css"
    finally:
        response.close()


def test_refused_fetch_still_renders_and_embeds_nothing(tmp_path):
    """A canary image on disk: WeasyPrint's default fetcher would embed it, ours does not."""
    canary = tmp_path / "canary.png"
    Image.new("RGB", (4, 4), "red").save(canary)
    html = f'<p>before</p><img src="{canary.as_uri()}"><p>after</p>'

    unsafe = HTML(string=html, url_fetcher=URLFetcher()).write_pdf()
    assert image_count(unsafe) == 1  # the control: the canary is fetchable

    safe = HTML(string=html, base_url=STATIC_BASE_URL, url_fetcher=StaticOnlyFetcher())
    content = safe.write_pdf()
    assert image_count(content) == 0
    assert "before after" in pdf_text(content)


def test_store_writes_privately_and_a_rerun_replaces_the_file(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"

    relative = store_invoice_pdf(domestic_invoice())
    assert relative == "invoices/2026/INV-2026-000123.pdf"
    stored = settings.PRIVATE_STORAGE_ROOT / relative
    assert "Total due 1,505.85 USD" in pdf_text(stored.read_bytes())

    again = store_invoice_pdf(domestic_invoice(notes="Second issue of the same invoice."))
    assert again == relative
    assert "Second issue of the same invoice." in pdf_text(stored.read_bytes())
    assert [p.name for p in stored.parent.iterdir()] == [stored.name]  # no temporary left


def test_store_accepts_a_path_but_never_outside_the_private_root(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"

    relative = store_invoice_pdf(domestic_invoice(), path="invoices/2026/custom.pdf")
    assert relative == "invoices/2026/custom.pdf"
    assert (settings.PRIVATE_STORAGE_ROOT / relative).read_bytes().startswith(b"%PDF-")

    with pytest.raises(SuspiciousFileOperation):
        store_invoice_pdf(domestic_invoice(), path="../escaped.pdf")
    with pytest.raises(ValueError, match="file name"):
        store_invoice_pdf(domestic_invoice(number="../../INV-2026-1"))
    assert not (tmp_path / "escaped.pdf").exists()


def test_amounts_must_be_decimals():
    with pytest.raises(TypeError, match="net must be a Decimal"):
        InvoiceTotals(net=1.5, vat=Decimal("0"), gross=Decimal("1.5"))
    assert InvoiceTotals(net=1, vat=0, gross=1).gross == Decimal(1)


def test_party_from_account_reads_the_billing_identity():
    class FakeCountry:
        code = "NL"

    class FakeAccount:
        name = "Acme"
        legal_name = "Acme B.V."
        address = "Street 1"
        country = FakeCountry()
        vat_number = "NL859048267B01"

    party = Party.from_account(FakeAccount())
    assert party == Party("Acme", "Acme B.V.", "Street 1", "NL", "NL859048267B01")
    assert party.country_name == "Netherlands"
    assert pdf.format_amount(Decimal("1234.5")) == "1,234.50"
    assert pdf.format_unit_price(Decimal("0.00850")) == "0.0085"
