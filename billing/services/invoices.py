"""Issuing invoices: numbers, lines from charges, the daily invoice, PDFs, voiding.

Which invoices exist:
- one per order, issued by checkout inside the order's transaction (``invoice_for_charges``
  with the charges of the order's first periods);
- one per account per day for every other charge (renewals, periods charged when a top-up
  resumed a held number), issued by the hourly ``issue_daily_invoices`` job from yesterday's
  and older charges no invoice has billed yet (``invoices_issue_daily``).
Each part of a charge can be on one invoice line only (a unique constraint), so a charge is
never invoiced twice and the daily job never takes an order's charges.

Who issues: the seller of the invoiced account (``invoice_issuer_for``). A reseller's customer
is invoiced by its reseller, under the reseller's identity and brand (name, logo, bank
details, footer; copied onto the invoice when issued) — it never receives a document from
the platform. Everyone else (direct customers, and resellers for their wholesale charges and
their own purchases) is invoiced by the platform. A charge is invoiced to the account it
was charged to (``SubscriptionCharge.account``): a period of a reseller's customer gives a
sale charge (the customer, invoiced by the reseller) and a wholesale charge (the reseller,
invoiced by the platform on its daily invoice).

Numbers (``INV-2026-000123``; a reseller's carry its id, ``INV-R7-2026-000001``) come from
one sequence per issuer and year, incremented under a row lock in the invoice's own
transaction: a rollback gives the number back, so each issuer's sequence has no gaps. The
PDF is rendered after commit by a Celery task that can run again safely;
``render_missing_invoice_pdfs`` catches up any the broker lost.
"""

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import Account, Brand
from accounts.permissions import may_void_invoice
from accounts.services import platform_account
from didportal.enqueue import enqueue
from payments.references import reference_display

from .. import pdf
from ..models import (
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceLogo,
    InvoiceSequence,
    Subscription,
    SubscriptionCharge,
)
from ..tax import OUTSIDE_EU_NOTE, REVERSE_CHARGE_NOTE, TaxDecision

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
PERIOD_NAMES = {("day", 1): "daily", ("week", 1): "weekly", ("month", 1): "monthly"}


@dataclass
class LineDraft:
    """An invoice line before it has an invoice: the caller's figures, already rounded."""

    description: str
    net: Decimal
    vat_rate: Decimal
    vat: Decimal
    quantity: Decimal = Decimal("1")
    unit_price: Decimal | None = None  # defaults to net / quantity
    period_start: date | None = None
    period_end: date | None = None
    subscription_charge: SubscriptionCharge | None = None
    charge_part: str = ""
    # Which VAT regime the line was charged under (for the invoice's note and country), and
    # the buyer's VAT identity it was decided on (None: not recorded; the account's today).
    tax_country: str = ""
    reverse_charge: bool = False
    buyer_country: str | None = None
    buyer_vat_number: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def gross(self):
        return self.net + self.vat

    @property
    def regime(self):
        """What one invoice may not mix: the VAT regime and the buyer identity behind it."""
        return (self.tax_country, self.reverse_charge, self.buyer_country, self.buyer_vat_number)


def invoice_issuer_for(account) -> Account:
    """Who invoices ``account``: its seller — the reseller a customer buys from, else the
    platform (direct customers, and resellers for their wholesale charges and own numbers).
    The seller is the account's parent (nested resellers are out of scope); no extra query
    when the parent is already loaded."""
    parent = account.parent if account.parent_id else None
    if parent is not None and (parent.is_platform or (parent.is_reseller and account.is_customer)):
        return parent
    return platform_account()


def _series_prefix(issuer):
    """What sets an issuer's numbers apart: nothing for the platform, ``R<id>-`` for a
    reseller (its id never changes, so its numbers, and the PDFs' file names, stay unique)."""
    return "" if issuer is None or issuer.is_platform else f"R{issuer.pk}-"


def invoice_number(year, sequence, issuer=None):
    return f"INV-{_series_prefix(issuer)}{year}-{sequence:06d}"


def credit_note_number(year, sequence, issuer=None):
    return f"CN-{_series_prefix(issuer)}{year}-{sequence:06d}"


def _next_sequence(issuer, year, series=InvoiceSequence.Series.INVOICE):
    """The next number of ``issuer`` in ``year`` and ``series``; the row lock is held until
    commit. One ``UPDATE … RETURNING`` when the year's row exists (it locks the row as
    ``SELECT … FOR UPDATE`` does); else the row is made first."""
    table = InvoiceSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_number = last_number + 1 "  # noqa: S608 (the model's table)
            "WHERE issuer_id = %s AND series = %s AND year = %s RETURNING last_number",
            [issuer.pk, series, year],
        )
        found = cursor.fetchone()
    if found is not None:
        return found[0]
    row, _ = InvoiceSequence.objects.select_for_update().get_or_create(
        issuer=issuer, series=series, year=year
    )
    row.last_number += 1
    row.save(update_fields=["last_number"])
    return row.last_number


def _identity(prefix, account):
    return {
        f"{prefix}_name": account.name,
        f"{prefix}_legal_name": account.legal_name,
        f"{prefix}_address": account.address,
        f"{prefix}_country": account.country,
        f"{prefix}_vat_number": account.vat_number,
    }


# What a logo must start with to be printed (the brand editor checks uploads; this is the
# renderer's own guard against anything else in the column).
LOGO_SIGNATURES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


def _logo_snapshot(brand):
    """The ``InvoiceLogo`` of the brand's logo as it is now (stored once per image), or None."""
    content = bytes(brand.logo) if brand.logo else b""
    signature = LOGO_SIGNATURES.get(brand.logo_content_type)
    if not content or signature is None or not content.startswith(signature):
        return None
    logo, _ = InvoiceLogo.objects.get_or_create(
        sha256=hashlib.sha256(content).hexdigest(),
        defaults={"content": content, "content_type": brand.logo_content_type},
    )
    return logo


def _seller_identity(issuer):
    """The seller as printed: the issuer's billing identity and, for a reseller, its brand
    (display name, logo, bank details, invoice footer) as they are at issue."""
    identity = _identity("seller", issuer)
    if issuer.is_platform:
        return identity
    brand = Brand.objects.filter(account=issuer).first()
    if brand is None:
        return identity
    return {
        **identity,
        "seller_display_name": brand.display_name,
        "seller_logo": _logo_snapshot(brand),
        "seller_bank_details": brand.bank_details,
        "seller_footer": brand.invoice_footer,
    }


def _buyer_identity(account, lines):
    """The buyer as printed: today's name and address, and the VAT identity the lines'
    charges were decided on (the account's today where a charge predates the record)."""
    identity = _identity("buyer", account)
    first = lines[0]
    if first.buyer_country is not None:
        identity["buyer_country"] = first.buyer_country
        identity["buyer_vat_number"] = first.buyer_vat_number or ""
    return identity


def _tax_summary(lines):
    """The invoice's VAT country and note: the one regime its lines were charged under."""
    if len({line.regime for line in lines}) > 1:
        raise ValidationError("One invoice cannot mix VAT regimes or buyer VAT identities.")
    reverse_charge = lines[0].reverse_charge
    tax_country = lines[0].tax_country
    if reverse_charge:
        note = REVERSE_CHARGE_NOTE
    elif not tax_country and all(line.vat == 0 for line in lines):
        note = OUTSIDE_EU_NOTE
    else:
        note = ""
    return {"tax_country": tax_country, "reverse_charge": reverse_charge, "tax_note": note}


def invoice_issue(
    *,
    account,
    lines,
    source,
    idempotency_key,
    reference=None,
    actor=None,
    job="",
    issue_date=None,
    new_key=False,
) -> Invoice:
    """Issue a paid invoice to ``account`` with ``lines`` (``LineDraft``); numbered now in
    the series of its issuer (``invoice_issuer_for``).

    A repeated ``idempotency_key`` returns the first invoice. The PDF follows after commit.
    ``new_key``: the key names a row made in the caller's transaction (an order), so no
    invoice can have it yet and the look-up is skipped; a repeat would still return the
    first invoice (the key's constraint, below), only later.
    """
    if not new_key:
        existing = Invoice.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if not lines:
        raise ValidationError("An invoice needs at least one line.")
    if actor is None and not job:
        raise ValidationError("An invoice needs an author: actor or job.")
    # No savepoint of its own (its callers' transactions hold it; nothing below is caught at
    # this level): the invoice and its lines commit or roll back together either way.
    with transaction.atomic(savepoint=False):
        return _invoice_write(
            account=account,
            lines=lines,
            source=source,
            idempotency_key=idempotency_key,
            reference=reference,
            actor=actor,
            job=job,
            issue_date=issue_date,
        )


def _invoice_write(
    *, account, lines, source, idempotency_key, reference, actor, job, issue_date
) -> Invoice:
    issuer = invoice_issuer_for(account)
    issue_date = issue_date or timezone.localdate()
    reference_type, reference_id = reference or ("", "")
    invoice = Invoice(
        issuer=issuer,
        account=account,
        year=issue_date.year,
        issue_date=issue_date,
        due_date=issue_date,  # prepaid: paid from the balance when issued
        currency=account.currency,
        source=source,
        reference_type=reference_type,
        reference_id=str(reference_id),
        idempotency_key=idempotency_key,
        net=sum((line.net for line in lines), ZERO),
        vat=sum((line.vat for line in lines), ZERO),
        gross=sum((line.gross for line in lines), ZERO),
        created_by=actor,
        created_by_job=job if actor is None else "",
        **_seller_identity(issuer),
        **_buyer_identity(account, lines),
        **_tax_summary(lines),
    )
    try:
        # The number and the invoice in one savepoint: if the insert fails, so does the
        # increment, and the number is not lost.
        with transaction.atomic():
            invoice.sequence = _next_sequence(issuer, invoice.year)
            invoice.number = invoice_number(invoice.year, invoice.sequence, issuer)
            invoice.save()
    except IntegrityError:
        existing = Invoice.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=position,
            description=line.description[:255],
            period_start=line.period_start,
            period_end=line.period_end,
            quantity=line.quantity,
            unit_price=line.net / line.quantity if line.unit_price is None else line.unit_price,
            net=line.net,
            vat_rate=line.vat_rate,
            vat=line.vat,
            gross=line.gross,
            subscription_charge=line.subscription_charge,
            charge_part=line.charge_part,
        )
        for position, line in enumerate(lines, start=1)
    )
    invoice_id = invoice.pk
    transaction.on_commit(lambda: _enqueue_pdf(invoice_id), robust=True)
    return invoice


def _enqueue_pdf(invoice_id):
    from ..tasks import render_invoice_pdf  # noqa: PLC0415 (tasks import this module)

    enqueue(render_invoice_pdf, invoice_id, catch_up="render_missing_invoice_pdfs")


# --- Lines from charges ---------------------------------------------------------------------


def _period_dates(charge):
    start = timezone.localtime(charge.period_start).date()
    if charge.period_end is None:
        return start, None
    return start, (timezone.localtime(charge.period_end) - timedelta(microseconds=1)).date()


def _period_name(subscription):
    if not subscription.is_recurring:
        return "one-time fee"
    key = (subscription.period_unit, subscription.period_count)
    name = PERIOD_NAMES.get(key) or f"every {subscription.period_count} {subscription.period_unit}s"
    return f"{name} fee"


def charge_lines(charges) -> list[LineDraft]:
    """Invoice lines for subscription charges: the setup fee and the period, each with the
    VAT the charge was made with (rounded per part, as the charge was)."""
    lines = []
    for charge in charges:
        subscription = charge.subscription
        decision = TaxDecision(rate=charge.vat_rate, country=charge.vat_country)
        regime = _charge_regime(charge)
        setup_vat = decision.vat_on(charge.setup_net) if charge.setup_net else ZERO
        if charge.setup_net:
            lines.append(
                LineDraft(
                    description=f"{subscription}: setup fee",
                    net=charge.setup_net,
                    vat_rate=charge.vat_rate,
                    vat=setup_vat,
                    subscription_charge=charge,
                    charge_part=InvoiceLine.Part.SETUP,
                    **regime,
                )
            )
        period_net = charge.net - charge.setup_net
        start, end = _period_dates(charge)
        lines.append(
            LineDraft(
                description=f"{subscription}: {_period_name(subscription)}",
                net=period_net,
                vat_rate=charge.vat_rate,
                vat=charge.vat - setup_vat,
                period_start=start,
                period_end=end,
                subscription_charge=charge,
                charge_part=InvoiceLine.Part.PERIOD,
                **regime,
            )
        )
    return lines


def invoice_for_charges(
    *, account, charges, source, idempotency_key, reference=None, actor=None, job="", new_key=False
):
    """Invoice ``charges`` (SubscriptionCharge rows of ``account``); None when all are free.
    ``new_key`` as ``invoice_issue``'s."""
    charges = [c for c in charges if c.amount > 0]
    if any(c.account_id != account.pk for c in charges):
        raise ValidationError("Every charge on an invoice must belong to its account.")
    if not charges:
        return None
    return invoice_issue(
        account=account,
        lines=charge_lines(charges),
        source=source,
        idempotency_key=idempotency_key,
        reference=reference,
        actor=actor,
        job=job,
        new_key=new_key,
    )


# --- The daily invoice ----------------------------------------------------------------------


def _uninvoiced_charges():
    """Charges no invoice bills yet, except those awaiting registration (invoiced when their
    period starts, at approval) and those refunded because it never came."""
    billed = InvoiceLine.objects.filter(subscription_charge=OuterRef("pk"))
    return (
        SubscriptionCharge.objects.filter(amount__gt=0, refund_entry__isnull=True)
        .exclude(subscription__status=Subscription.Status.PENDING)
        .exclude(Exists(billed))
    )


def _start_of_today(now):
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def invoices_issue_daily(*, now=None, job="issue_daily_invoices") -> int:
    """Invoice each account's charges made before today that no invoice bills yet, one
    invoice per account charged (and VAT regime): a reseller's customer gets its reseller's
    invoice for its sale charges; a reseller gets one platform invoice for its wholesale
    charges and its own purchases. Safe to run twice or concurrently; returns invoices
    issued."""
    cutoff = _start_of_today(now or timezone.now())
    accounts = (
        _uninvoiced_charges()
        .filter(created_at__lt=cutoff)
        .values_list("account_id", flat=True)
        .distinct()
    )
    issued = 0
    for account_id in sorted(set(accounts)):
        try:
            issued += _invoice_daily_for(account_id, cutoff=cutoff, job=job)
        except Exception:  # one account's failure must not stop the others
            logger.exception("daily invoice for account %s failed", account_id)
    return issued


@transaction.atomic
def _invoice_daily_for(account_id, *, cutoff, job) -> int:
    # One run at a time per account: a second run waits here, then finds the charges billed.
    # (skip_locked on the charges would let two runs split them into two invoices.)
    account = Account.objects.select_for_update().get(pk=account_id)
    charges = list(
        _uninvoiced_charges()
        .filter(account_id=account_id, created_at__lt=cutoff)
        .select_related("subscription")
        .order_by("created_at", "pk")
    )
    # One invoice per VAT regime and buyer identity: a buyer whose VAT number or country
    # changed during the day gets one invoice per identity, each printing the one it used.
    by_regime = {}
    for charge in charges:
        by_regime.setdefault(tuple(_charge_regime(charge).values()), []).append(charge)
    for group in by_regime.values():
        # Named by its first charge: a charge is invoiced once, so the key is never reused.
        invoice_for_charges(
            account=account,
            charges=group,
            source=Invoice.Source.DAILY,
            idempotency_key=f"daily:{account_id}:{group[0].pk}",
            reference=("charges", f"{timezone.localtime(group[0].created_at):%Y-%m-%d}"),
            job=job,
        )
    return len(by_regime)


def _charge_regime(charge):
    """The ``LineDraft`` fields of the VAT regime ``charge`` was made under (its ``regime``)."""
    return {
        "tax_country": charge.vat_country,
        "reverse_charge": charge.reverse_charge,
        "buyer_country": charge.buyer_country,
        "buyer_vat_number": charge.buyer_vat_number,
    }


# --- Void -----------------------------------------------------------------------------------


@transaction.atomic
def invoice_void(*, invoice, actor, reason, now=None) -> Invoice:
    """Mark an invoice void (platform finance, or the issuing reseller's admins and finance)
    and issue the credit note that cancels it, numbered in the issuer's credit-note series.
    The invoice's number stays used; money is not moved — record a refund or an adjustment
    on the account's statement for that."""
    if not may_void_invoice(actor, invoice):
        raise PermissionDenied("Only finance staff of the invoice's issuer may void it.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the invoice is void."})
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == Invoice.Status.VOID:
        return invoice
    now = now or timezone.now()
    invoice.status = Invoice.Status.VOID
    invoice.void_reason = reason[:255]
    invoice.voided_at = now
    invoice.save(update_fields=["status", "void_reason", "voided_at"])
    credit_note = _credit_note_issue(invoice, actor=actor, now=now)
    invoice_id, credit_note_id = invoice.pk, credit_note.pk
    transaction.on_commit(lambda: _enqueue_pdf(invoice_id), robust=True)
    transaction.on_commit(lambda: _enqueue_credit_note_pdf(credit_note_id), robust=True)
    return invoice


def _credit_note_issue(invoice, *, actor, now) -> CreditNote:
    issue_date = timezone.localdate(now)
    credit_note = CreditNote(
        invoice=invoice,
        issuer_id=invoice.issuer_id,
        account_id=invoice.account_id,
        year=issue_date.year,
        issue_date=issue_date,
        currency=invoice.currency,
        reason=invoice.void_reason,
        net=invoice.net,
        vat=invoice.vat,
        gross=invoice.gross,
        created_by=actor,
        created_at=now,
    )
    # The number last: the sequence row stays locked only until this commit.
    credit_note.sequence = _next_sequence(
        invoice.issuer, credit_note.year, InvoiceSequence.Series.CREDIT_NOTE
    )
    credit_note.number = credit_note_number(credit_note.year, credit_note.sequence, invoice.issuer)
    credit_note.save()
    return credit_note


def _enqueue_credit_note_pdf(credit_note_id):
    from ..tasks import render_credit_note_pdf  # noqa: PLC0415 (tasks import this module)

    enqueue(render_credit_note_pdf, credit_note_id, catch_up="render_missing_invoice_pdfs")


# --- PDF ------------------------------------------------------------------------------------


def _party(invoice, prefix):
    return pdf.Party(
        name=getattr(invoice, f"{prefix}_name"),
        legal_name=getattr(invoice, f"{prefix}_legal_name"),
        address=getattr(invoice, f"{prefix}_address"),
        country=getattr(invoice, f"{prefix}_country").code or "",
        vat_number=getattr(invoice, f"{prefix}_vat_number"),
    )


def _line_period(line):
    if line.period_start is None:
        return ""
    if line.period_end is None:
        return f"from {line.period_start:%-d %b %Y}"
    return f"{line.period_start:%-d %b %Y} – {line.period_end:%-d %b %Y}"


def _document_lines(invoice, sign=1):
    return [
        pdf.InvoiceLine(
            description=line.description,
            period=_line_period(line),
            quantity=line.quantity,
            unit_price=line.unit_price,
            net=sign * line.net,
            vat_rate=line.vat_rate,
            vat=sign * line.vat,
            gross=sign * line.gross,
        )
        for line in invoice.lines.order_by("position")
    ]


def _void_note(invoice):
    credit_note = CreditNote.objects.filter(invoice=invoice).only("number").first()
    cancelled_by = f" Cancelled by credit note {credit_note.number}." if credit_note else ""
    return (
        f"VOID since {timezone.localtime(invoice.voided_at):%-d %b %Y}: "
        f"{invoice.void_reason}.{cancelled_by}"
    )


def _brand(invoice) -> dict:
    """The ``InvoiceDocument`` fields of the seller's brand as stored at issue. A reseller's
    invoice prints its own bank details (blank if it had none), never the platform's."""
    if invoice.issuer.is_platform:
        return {}
    logo = invoice.seller_logo
    return {
        "brand_name": invoice.seller_display_name,
        "logo": bytes(logo.content) if logo else b"",
        "logo_type": logo.content_type if logo else "",
        "bank_details": invoice.seller_bank_details,
        "footer": invoice.seller_footer,
    }


def invoice_document(invoice) -> "pdf.InvoiceDocument":
    """What the PDF prints: the invoice's stored figures, nothing recomputed. Every invoice
    is paid from the prepaid balance when issued, so nothing is ever due."""
    void = invoice.status == Invoice.Status.VOID
    # The reverse-charge wording has its own place on the page; other tax notes are notes.
    tax_note = "" if invoice.reverse_charge else invoice.tax_note
    notes = "\n".join(note for note in (_void_note(invoice) if void else "", tax_note) if note)
    return pdf.InvoiceDocument(
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        currency=invoice.currency,
        seller=_party(invoice, "seller"),
        buyer=_party(invoice, "buyer"),
        lines=_document_lines(invoice),
        totals=pdf.InvoiceTotals(net=invoice.net, vat=invoice.vat, gross=invoice.gross),
        reverse_charge_note=REVERSE_CHARGE_NOTE if invoice.reverse_charge else "",
        notes=notes,
        title="Invoice",
        paid_on=invoice.due_date,
        void=void,
        payment_reference=reference_display(invoice.account_id),
        **_brand(invoice),
    )


def credit_note_document(credit_note) -> "pdf.InvoiceDocument":
    """The credit note as printed: the invoice's parties and lines, credited (negative)."""
    invoice = credit_note.invoice
    return pdf.InvoiceDocument(
        number=credit_note.number,
        issue_date=credit_note.issue_date,
        due_date=credit_note.issue_date,
        currency=credit_note.currency,
        seller=_party(invoice, "seller"),
        buyer=_party(invoice, "buyer"),
        lines=_document_lines(invoice, sign=-1),
        totals=pdf.InvoiceTotals(
            net=-credit_note.net, vat=-credit_note.vat, gross=-credit_note.gross
        ),
        reverse_charge_note=REVERSE_CHARGE_NOTE if invoice.reverse_charge else "",
        notes=(
            f"This credit note cancels invoice {invoice.number} of "
            f"{invoice.issue_date:%-d %b %Y} in full. Reason: {credit_note.reason}"
        ),
        title="Credit note",
        credits=invoice.number,
        **_brand(invoice),
    )


def credit_note_pdf_render(*, credit_note_id) -> str:
    """Render and store the PDF of a credit note (again, if it exists); returns its path."""
    credit_note = CreditNote.objects.select_related("invoice__issuer", "invoice__seller_logo").get(
        pk=credit_note_id
    )
    path = pdf.store_invoice_pdf(credit_note_document(credit_note))
    CreditNote.objects.filter(pk=credit_note_id).update(
        pdf_path=path, pdf_rendered_at=timezone.now()
    )
    return path


def invoice_pdf_render(*, invoice_id) -> str:
    """Render and store the PDF of an invoice (again, if it exists); returns its path.

    Safe to run twice or concurrently: the file is replaced atomically and the path is
    derived from the invoice number, so both runs write the same file.
    """
    invoice = Invoice.objects.select_related("issuer", "seller_logo").get(pk=invoice_id)
    path = pdf.store_invoice_pdf(invoice_document(invoice))
    Invoice.objects.filter(pk=invoice_id).update(pdf_path=path, pdf_rendered_at=timezone.now())
    return path


def invoice_pdfs_render_missing(*, limit=200) -> int:
    """Render the invoice and credit-note PDFs a lost task never wrote (oldest first);
    returns how many."""
    done = 0
    renderers = (
        (Invoice, lambda pk: invoice_pdf_render(invoice_id=pk)),
        (CreditNote, lambda pk: credit_note_pdf_render(credit_note_id=pk)),
    )
    for model, render in renderers:
        missing = model.objects.filter(pdf_path="").order_by("created_at")
        for pk in list(missing.values_list("pk", flat=True)[:limit]):
            try:
                render(pk)
                done += 1
            except Exception:
                logger.exception("rendering the PDF of %s %s failed", model.__name__, pk)
    return done
