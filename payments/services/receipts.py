"""Receipts of top-ups: a PDF for every ledger top-up (card, bank transfer, recorded by
finance), printed by the invoices' renderer (``billing.pdf``: our template, the static-only
fetcher) and issued by whoever collected the money (``invoice_issuer_for``: the platform,
or a reseller under its brand for its own customers).

A top-up is prepayment, not a supply: the receipt says so, and VAT is invoiced when the
balance is charged. A ledger entry never changes, so the PDF of one never does either
(only the seller's brand may since have changed: a receipt is printed as the brand is now).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML

from accounts.models import Brand
from billing import pdf
from billing.models import LedgerEntry
from billing.services.invoices import LOGO_SIGNATURES, invoice_issuer_for

TEMPLATE = "payments/refunds_receipt_pdf.html"
VAT_NOTE = (
    "A prepaid top-up is not an invoice: no VAT is charged on it. VAT is invoiced when "
    "charges are made against the balance."
)
# Rendered receipts are kept a while: a render costs a few hundred ms, and the figures of
# a ledger entry never change.
CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ReceiptDocument:
    """What a receipt PDF shows: one top-up, as recorded."""

    number: str  # "RCT-000123" (the ledger entry's id)
    received_at: datetime
    currency: str
    seller: pdf.Party
    buyer: pdf.Party
    amount: Decimal
    balance_after: Decimal
    method: str  # "Card", "Bank transfer"
    reference: str  # the payer's or provider's reference
    description: str
    brand_name: str = ""
    logo: bytes = b""
    logo_type: str = ""
    footer: str = ""
    vat_note: str = VAT_NOTE

    @property
    def logo_data_uri(self) -> str:
        if not self.logo:
            return ""
        return f"data:{self.logo_type};base64,{base64.b64encode(self.logo).decode('ascii')}"

    @property
    def title(self):
        return "Receipt"


def receipt_number(entry) -> str:
    return f"RCT-{entry.pk:06d}"


def _brand_fields(issuer) -> dict:
    if issuer.is_platform:
        return {}
    brand = Brand.objects.filter(account=issuer).first()
    if brand is None:
        return {}
    logo = bytes(brand.logo) if brand.logo else b""
    signature = LOGO_SIGNATURES.get(brand.logo_content_type)
    printable = bool(logo) and signature is not None and logo.startswith(signature)
    return {
        "brand_name": brand.display_name,
        "logo": logo if printable else b"",
        "logo_type": brand.logo_content_type if printable else "",
        "footer": brand.invoice_footer,
    }


def receipt_document(entry) -> ReceiptDocument:
    """The receipt of a top-up ``entry`` (a ``LedgerEntry`` of kind top-up)."""
    if entry.kind != LedgerEntry.Kind.TOPUP:
        raise ValueError(f"ledger entry {entry.pk} is a {entry.kind}, not a top-up")
    account = entry.account
    issuer = invoice_issuer_for(account)
    return ReceiptDocument(
        number=receipt_number(entry),
        received_at=timezone.localtime(entry.created_at),
        currency=account.currency,
        seller=pdf.Party.from_account(issuer),
        buyer=pdf.Party.from_account(account),
        amount=entry.amount,
        balance_after=entry.balance_after,
        method=entry.get_method_display(),
        reference=entry.external_reference,
        description=entry.description or "Prepaid balance top-up",
        **_brand_fields(issuer),
    )


def render_receipt_html(document: ReceiptDocument) -> str:
    return render_to_string(
        TEMPLATE,
        {
            "document": document,
            "amount": pdf.format_amount(document.amount),
            "balance_after": pdf.format_amount(document.balance_after),
        },
    )


def render_receipt_pdf(document: ReceiptDocument) -> bytes:
    html = HTML(
        string=render_receipt_html(document),
        base_url=pdf.STATIC_BASE_URL,
        url_fetcher=pdf.StaticOnlyFetcher(inline=[document.logo_data_uri]),
    )
    return html.write_pdf()


def receipt_pdf(entry) -> tuple[str, bytes]:
    """(file name, PDF bytes) of the receipt of ``entry``, from the cache when the same
    document was rendered before."""
    document = receipt_document(entry)
    # Keyed by everything printed, so a changed brand (or a reused id in a fresh
    # database) never serves another document.
    digest = hashlib.sha256(repr(document).encode()).hexdigest()
    key = f"receipt-pdf:{entry.pk}:{digest}"
    content = cache.get(key)
    if content is None:
        content = render_receipt_pdf(document)
        cache.set(key, content, CACHE_SECONDS)
    return f"{document.number}.pdf", content
