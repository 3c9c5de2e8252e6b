"""Invoice PDFs: what is printed (plain dataclasses) and how it becomes a file.

The Invoice model (a later step) builds an :class:`InvoiceDocument` from its stored figures;
this module never computes money — it prints the amounts it is given, with two decimals.

Safety: the HTML comes from our own template with autoescaping on, so customer text (names,
addresses, line descriptions) is printed literally. WeasyPrint fetches through
:class:`StaticOnlyFetcher`, which serves files from our static roots and refuses every other
URL (``file:``, ``http(s):``, ``data:`` …); a refused fetch is a warning, not a failed render.
The one exception is the seller's logo: the document carries its bytes, the template embeds
them as a ``data:`` URI, and the fetcher serves exactly that URI (it was built here from a
PNG or JPEG, never read from the page).
"""

from __future__ import annotations

import base64
import mimetypes
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage
from django.template.loader import render_to_string
from django.utils._os import safe_join
from django_countries import countries
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .tax import REVERSE_CHARGE_NOTE  # one wording, for orders and invoices alike

TEMPLATE = "billing/invoice_pdf.html"
# Relative URLs in the template resolve against this base. The host is in the reserved
# ".invalid" TLD: nothing is ever fetched from it over the network, the fetcher maps its
# /static/ paths onto our static files.
STATIC_BASE_URL = "https://didportal.invalid/static/"
# File names of stored PDFs come from invoice numbers; anything else is refused.
SAFE_FILE_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
CENT = Decimal("0.01")
LOGO_TYPES = {"image/png", "image/jpeg"}


# --- What is printed ------------------------------------------------------------------------


def _decimal(value, name):
    """Decimals only (an int is accepted and converted); a float is a bug upstream."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")


@dataclass(frozen=True)
class Party:
    """A seller or buyer as printed: trading name, legal name, address, country, VAT number."""

    name: str
    legal_name: str = ""
    address: str = ""
    country: str = ""  # ISO 3166 alpha-2 code ("NL"); printed as the country's name
    vat_number: str = ""

    @classmethod
    def from_account(cls, account):
        """The billing identity of an ``accounts.Account`` (duck-typed: no model import)."""
        return cls(
            name=account.name,
            legal_name=account.legal_name or "",
            address=account.address or "",
            country=str(getattr(account.country, "code", account.country) or ""),
            vat_number=account.vat_number or "",
        )

    @property
    def display_name(self):
        return self.legal_name or self.name

    @property
    def country_name(self):
        if not self.country:
            return ""
        return str(countries.name(self.country)) or self.country


@dataclass(frozen=True)
class InvoiceLine:
    """One printed line. ``vat_rate`` is a percentage: Decimal("21") means 21 %."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    net: Decimal
    vat_rate: Decimal
    vat: Decimal
    gross: Decimal
    period: str = ""  # e.g. "1 Mar 2026 – 31 Mar 2026"; empty for one-off charges

    def __post_init__(self):
        for name in ("quantity", "unit_price", "net", "vat_rate", "vat", "gross"):
            object.__setattr__(self, name, _decimal(getattr(self, name), name))


@dataclass(frozen=True)
class InvoiceTotals:
    net: Decimal
    vat: Decimal
    gross: Decimal

    def __post_init__(self):
        for name in ("net", "vat", "gross"):
            object.__setattr__(self, name, _decimal(getattr(self, name), name))


@dataclass(frozen=True)
class InvoiceDocument:
    """Everything an invoice PDF shows, already decided and rounded by the caller."""

    number: str  # "INV-2026-000123"
    issue_date: date
    due_date: date
    currency: str  # "USD"
    seller: Party
    buyer: Party
    lines: tuple[InvoiceLine, ...]
    totals: InvoiceTotals
    reverse_charge_note: str = ""  # REVERSE_CHARGE_NOTE when it applies
    notes: str = ""
    title: str = "Invoice"  # "Credit note" reuses the layout
    paid_on: date | None = None  # paid from the prepaid balance on this day: nothing is due
    void: bool = False  # printed with a VOID mark
    credits: str = ""  # a credit note: the number of the invoice it cancels
    # The seller's brand (a reseller): the name its customers know it by, its logo (PNG or
    # JPEG bytes), its bank details (printed on every page) and its invoice footer.
    # ``bank_details`` None: the platform's (settings.BILLING_BANK_DETAILS), printed only
    # where something is due.
    brand_name: str = ""
    logo: bytes = b""
    logo_type: str = ""
    bank_details: str | None = None
    footer: str = ""
    # The buyer's payment reference (ISO 11649 "RF…"): quoted when topping up the balance.
    payment_reference: str = ""

    def __post_init__(self):
        object.__setattr__(self, "lines", tuple(self.lines))
        if self.logo and self.logo_type not in LOGO_TYPES:
            raise ValueError(f"a logo must be PNG or JPEG, not {self.logo_type!r}")

    @property
    def logo_data_uri(self) -> str:
        if not self.logo:
            return ""
        return f"data:{self.logo_type};base64,{base64.b64encode(self.logo).decode('ascii')}"

    @property
    def amount_due(self) -> Decimal:
        if self.paid_on is not None or self.credits:
            return Decimal("0.00")
        return self.totals.gross


# --- Formatting -----------------------------------------------------------------------------


def format_amount(value):
    """A money amount with two decimals and thousands separators: 1234.5 → "1,234.50"."""
    return f"{value.quantize(CENT):,.2f}"


def format_unit_price(value):
    """Unit prices keep up to five decimals where they matter (0.00850 → "0.0085")."""
    exponent = -value.normalize().as_tuple().exponent
    return f"{value:,.{min(max(2, exponent), 5)}f}"


def format_number(value):
    """Quantities and VAT rates without trailing zeros: 2.000 → "2", 5.50 → "5.5"."""
    return f"{value.normalize():f}"


def _context(document):
    lines = [
        {
            "description": line.description,
            "period": line.period,
            "quantity": format_number(line.quantity),
            "unit_price": format_unit_price(line.unit_price),
            "net": format_amount(line.net),
            "vat_rate": format_number(line.vat_rate),
            "vat": format_amount(line.vat),
            "gross": format_amount(line.gross),
        }
        for line in document.lines
    ]
    totals = {
        "net": format_amount(document.totals.net),
        "vat": format_amount(document.totals.vat),
        "gross": format_amount(document.totals.gross),
        "paid": format_amount(-document.totals.gross),
        "due": format_amount(document.amount_due),
    }
    own_bank = document.bank_details
    pay_to = settings.BILLING_BANK_DETAILS if own_bank is None else own_bank
    return {
        "document": document,
        "lines": lines,
        "totals": totals,
        # The platform's bank details only where something is to be paid; a reseller's,
        # part of its identity as seller, on every page.
        "bank_details": pay_to if document.amount_due > 0 else "",
        "seller_bank_details": own_bank or "",
        # Topping up the prepaid balance that pays the invoices: the reference to quote, and
        # a reseller's bank details (the platform's stay off a page where nothing is due).
        "topup_bank_details": own_bank or "",
        "show_topup": bool(document.payment_reference)
        and not document.void
        and not document.credits,
    }


# --- The fetcher ----------------------------------------------------------------------------


class RefusedURL(ValueError):
    """Raised for any URL outside our static files; WeasyPrint logs it and renders on."""


def _static_file(relative):
    """The absolute path of a static file, or None. Never leaves the static roots."""
    if not relative or relative.endswith("/") or "\\" in relative or "\x00" in relative:
        return None
    try:
        found = finders.find(relative)
    except SuspiciousFileOperation:
        return None
    if found:
        return Path(found)
    if settings.STATIC_ROOT:  # collected files (production, hashed names)
        try:
            candidate = Path(safe_join(str(settings.STATIC_ROOT), relative))
        except (SuspiciousFileOperation, ValueError):
            return None
        if candidate.is_file():
            return candidate
    return None


class StaticOnlyFetcher(URLFetcher):
    """Serves ``/static/...`` (bare or under :data:`STATIC_BASE_URL`) from our static files.

    Everything else — another scheme or host, ``file:``, ``data:``, a path outside /static/,
    a ``..`` escape, a file that does not exist — raises :class:`RefusedURL`.
    """

    def __init__(self, inline=()):
        super().__init__(fail_on_errors=False)
        # ``data:`` URIs this render built itself (the seller's logo): served, nothing else.
        self.inline = frozenset(uri for uri in inline if uri)

    def fetch(self, url, headers=None):
        if url in self.inline:
            header, _, payload = url.partition(",")
            content_type = header.removeprefix("data:").removesuffix(";base64")
            return URLFetcherResponse(
                url, body=base64.b64decode(payload), headers={"Content-Type": content_type}
            )
        path = self.static_path(url)
        if path is None:
            raise RefusedURL(f"refused to fetch {url!r}: only our static files are served")
        content_type, _ = mimetypes.guess_type(path.name)
        return URLFetcherResponse(
            url,
            body=path.read_bytes(),
            headers={"Content-Type": content_type or "application/octet-stream"},
        )

    @staticmethod
    def static_path(url):
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        base = urlsplit(STATIC_BASE_URL)
        if (parts.scheme, parts.netloc) not in {("", ""), (base.scheme, base.netloc)}:
            return None
        if parts.query or parts.fragment:
            return None
        prefix = base.path  # "/static/"
        if not parts.path.startswith(prefix):
            return None
        relative = unquote(parts.path[len(prefix) :])
        if any(segment in {"", ".", ".."} for segment in relative.split("/")):
            return None
        return _static_file(relative)


# --- Rendering and storing ------------------------------------------------------------------


def render_invoice_html(document):
    return render_to_string(TEMPLATE, _context(document))


def render_invoice_pdf(document):
    """The invoice as PDF bytes."""
    html = HTML(
        string=render_invoice_html(document),
        base_url=STATIC_BASE_URL,
        url_fetcher=StaticOnlyFetcher(inline=[document.logo_data_uri]),
    )
    return html.write_pdf()


def invoice_pdf_name(document):
    """``invoices/<year>/<number>.pdf``, relative to PRIVATE_STORAGE_ROOT."""
    if not SAFE_FILE_STEM.match(document.number):
        raise ValueError(f"invoice number {document.number!r} is not usable as a file name")
    return f"invoices/{document.issue_date.year:04d}/{document.number}.pdf"


def store_invoice_pdf(document, *, path=None):
    """Render ``document`` and write it privately; returns the path relative to the root.

    ``path`` defaults to :func:`invoice_pdf_name`. The PDF is written to a temporary file in
    the same directory and renamed over the target, so a re-run replaces an earlier file
    atomically and a reader never sees half a PDF.
    """
    name = path or invoice_pdf_name(document)
    storage = FileSystemStorage(location=settings.PRIVATE_STORAGE_ROOT, base_url=None)
    target = Path(storage.path(name))  # refuses names that escape the root
    pdf = render_invoice_pdf(document)  # render first: a failed render leaves nothing behind

    target.parent.mkdir(parents=True, exist_ok=True)
    if storage.directory_permissions_mode is not None:
        target.parent.chmod(storage.directory_permissions_mode)
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pdf)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, storage.file_permissions_mode or 0o640)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target.relative_to(Path(storage.location)).as_posix()


__all__ = [
    "REVERSE_CHARGE_NOTE",
    "InvoiceDocument",
    "InvoiceLine",
    "InvoiceTotals",
    "Party",
    "RefusedURL",
    "StaticOnlyFetcher",
    "invoice_pdf_name",
    "render_invoice_html",
    "render_invoice_pdf",
    "store_invoice_pdf",
]
