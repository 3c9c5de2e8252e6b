"""Bank transfers reconciled from statements: upload, match, confirm, assign, ignore.

Whoever collects an account's money reconciles its transfers: platform finance and admins
for the accounts the platform collects from (resellers, direct customers), a reseller's
admins and finance for the reseller's own customers. The user's account is the seller;
every statement and line belongs to one seller, and another seller's are not found.

- ``statement_upload`` reads the file (``payments.statements``), matches each credit line
  by its RF reference to an account this seller collects for (``proposed``) or leaves it
  ``unmatched``, and saves the statement and its new lines in one transaction. A line whose
  bank transaction id this seller already has is skipped (the database's unique
  (seller, bank_transaction_id) constraint decides, so concurrent uploads agree).
- ``lines_confirm`` books proposed lines: each one a ``billing.services.topup_record``
  under the line's row lock, all in one transaction; a line already booked is skipped, so
  a second confirm (or two at once) books nothing more.
- ``line_assign`` and ``line_ignore`` settle the unmatched queue by hand.
"""

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from accounts.permissions import may_record_topup_for
from billing.models import LedgerEntry
from billing.services import TopupDuplicate, balances_lock, topup_record

from .. import references
from ..models import BankStatement, BankStatementLine, collector_of
from ..statements import StatementError, parse_statement

Status = BankStatementLine.Status


def seller_of(user):
    """The account whose bank statements ``user`` reconciles (their own)."""
    seller = collector_of(user)
    if seller is None:
        raise PermissionDenied("Your role does not reconcile bank statements.")
    return seller


def collected_accounts(seller):
    """The accounts ``seller`` collects money from: its direct children (the platform's
    resellers and direct customers; a reseller's customers)."""
    return Account.objects.filter(parent=seller).exclude(kind=Account.Kind.PLATFORM)


# --- Upload ---------------------------------------------------------------------------------


class AlreadyUploaded(ValidationError):
    def __init__(self, statement):
        self.statement = statement
        super().__init__(
            f"This file was uploaded already on "
            f"{timezone.localtime(statement.uploaded_at):%-d %b %Y %H:%M} "
            f"({statement.filename}): nothing new was read."
        )


@dataclass
class Upload:
    statement: BankStatement
    read: int  # credit lines in the file
    new: int
    known: int  # lines this seller had from an earlier statement (or twice in this one)
    proposed: int
    unmatched: int
    debits: int
    not_booked: int


def _match(line, accounts):
    """(status, account, reference, note) for a parsed credit line."""
    found = references.references_in(line.structured_reference)
    for reference in references.references_in(line.remittance):
        if reference not in found:
            found.append(reference)
    if not found:
        return Status.UNMATCHED, None, "", "No payment reference found."
    ids = {references.account_id_of(reference) for reference in found}
    shown = ", ".join(references.reference_display(i) for i in sorted(ids))
    if len(ids) > 1:
        return Status.UNMATCHED, None, "", f"Several references ({shown}): assign by hand."
    reference = found[0]
    account = accounts.filter(pk=ids.pop()).first()
    if account is None:
        note = f"{shown} is not the reference of an account you collect for."
        return Status.UNMATCHED, None, reference, note
    if account.currency != line.currency:
        note = (
            f"Paid in {line.currency}; {account.name} is kept in {account.currency}: not matched."
        )
        return Status.UNMATCHED, None, reference, note
    return Status.PROPOSED, account, reference, ""


def statement_upload(*, user, filename, data: bytes) -> Upload:
    """Read, match and save a statement file (all of it, or nothing: ``StatementError`` or
    ``AlreadyUploaded`` says why)."""
    seller = seller_of(user)
    limit = settings.BANK_STATEMENT_MAX_BYTES
    if len(data) > limit:
        raise StatementError(
            f"The file is {len(data):,} bytes; the largest statement accepted is {limit:,} bytes."
        )
    parsed = parse_statement(data)
    if not parsed.lines:
        raise StatementError(
            f"No booked credit in this file ({parsed.debits} debit(s), {parsed.not_booked} "
            "not booked): nothing to reconcile."
        )
    digest = hashlib.sha256(data).hexdigest()
    accounts = collected_accounts(seller)
    with transaction.atomic():
        earlier = BankStatement.objects.filter(seller=seller, sha256=digest).first()
        if earlier is not None:
            raise AlreadyUploaded(earlier)
        statement = BankStatement.objects.create(
            seller=seller,
            format=parsed.format,
            filename=(filename or "statement")[:255],
            sha256=digest,
            lines_read=len(parsed.lines),
            uploaded_by=user,
        )
        rows, seen = [], set()
        for line in parsed.lines:
            if line.bank_transaction_id in seen:
                continue
            seen.add(line.bank_transaction_id)
            status, account, reference, note = _match(line, accounts)
            rows.append(
                BankStatementLine(
                    statement=statement,
                    seller=seller,
                    bank_transaction_id=line.bank_transaction_id,
                    booking_date=line.booking_date,
                    amount=line.amount,
                    currency=line.currency,
                    payer_name=line.payer_name,
                    remittance=line.remittance,
                    reference=reference,
                    account=account,
                    status=status,
                    note=note,
                )
            )
        # A line the seller has already (same bank transaction id) is left out here, by
        # the unique constraint: whatever we read above, the database has the last word.
        BankStatementLine.objects.bulk_create(rows, ignore_conflicts=True)
        lines = statement.lines.all()
        new = lines.count()
        statement.lines_new = new
        statement.save(update_fields=["lines_new"])
        return Upload(
            statement=statement,
            read=len(parsed.lines),
            new=new,
            known=len(parsed.lines) - new,
            proposed=lines.filter(status=Status.PROPOSED).count(),
            unmatched=lines.filter(status=Status.UNMATCHED).count(),
            debits=parsed.debits,
            not_booked=parsed.not_booked,
        )


# --- Confirm --------------------------------------------------------------------------------


@dataclass
class Booking:
    booked: list = field(default_factory=list)
    total: Decimal = Decimal("0.00")
    # (line, why it was not booked)
    refused: list = field(default_factory=list)


def _lock_lines(seller, ids, statuses):
    return list(
        BankStatementLine.objects.select_for_update(of=("self",))
        .filter(seller=seller, pk__in=list(ids), status__in=statuses)
        .select_related("account")
        .order_by("pk")
    )


def _book(line, user, booking):
    """Credit one locked, proposed line (inside the caller's transaction)."""
    account = line.account
    now = timezone.now()
    if not may_record_topup_for(user, account):
        raise PermissionDenied(f"You may not record money for {account}.")
    if account.currency != line.currency:
        line.status, line.account = Status.UNMATCHED, None
        line.note = f"Paid in {line.currency}; the account is kept in {account.currency}."
        line.save(update_fields=["status", "account", "note"])
        booking.refused.append((line, line.note))
        return
    try:
        with transaction.atomic():
            entry = topup_record(
                account=account,
                amount=line.amount,
                method=LedgerEntry.Method.BANK_TRANSFER,
                external_reference=line.bank_transaction_id,
                actor=user,
                idempotency_key=f"topup:bank:{line.seller_id}:{line.bank_transaction_id}",
                description=f"Bank transfer {line.bank_transaction_id}"[:255],
            )
    except TopupDuplicate as exc:
        original = exc.original
        when = f"{timezone.localtime(original.created_at):%-d %b %Y}"
        linked = BankStatementLine.objects.filter(ledger_entry=original).exists()
        if original.account_id == account.pk and original.amount == line.amount and not linked:
            # Finance recorded this transfer by hand already: link it, credit nothing more.
            line.status, line.ledger_entry = Status.BOOKED, original
            line.note = f"Recorded by hand on {when} already; nothing credited again."
            line.decided_by, line.decided_at = user, now
            line.save(update_fields=["status", "ledger_entry", "note", "decided_by", "decided_at"])
            booking.refused.append((line, line.note))
            return
        line.status, line.account = Status.UNMATCHED, None
        line.note = (
            f"The bank reference {line.bank_transaction_id} was credited by another top-up "
            f"on {when}: nothing credited. Ignore this line if that was this payment."
        )[:255]
        line.save(update_fields=["status", "account", "note"])
        booking.refused.append((line, line.note))
        return
    line.status, line.ledger_entry = Status.BOOKED, entry
    line.decided_by, line.decided_at = user, now
    line.save(update_fields=["status", "ledger_entry", "decided_by", "decided_at"])
    booking.booked.append(line)
    booking.total += line.amount


def lines_confirm(*, user, line_ids) -> Booking:
    """Book the proposed lines among ``line_ids`` (this seller's), once each, in one
    transaction. Lines booked, ignored or unmatched meanwhile are skipped."""
    seller = seller_of(user)
    booking = Booking()
    with transaction.atomic():
        lines = _lock_lines(seller, line_ids, [Status.PROPOSED])
        # Every balance up front, in the lock order checkout uses: two confirms of
        # different batches crediting the same accounts wait for each other, never deadlock.
        balances_lock([line.account for line in lines])
        for line in lines:
            _book(line, user, booking)
    return booking


def proposed_ids(*, user, statement_id) -> list[int]:
    """The ids of a statement's lines waiting for confirmation (this seller's only)."""
    return list(
        BankStatementLine.objects.filter(
            seller=seller_of(user), statement_id=statement_id, status=Status.PROPOSED
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- The unmatched queue --------------------------------------------------------------------


def _one_line(user, line_id, statuses):
    lines = _lock_lines(seller_of(user), [line_id], statuses)
    if not lines:
        raise ValidationError("This line was settled meanwhile: nothing was changed.")
    return lines[0]


def line_assign(*, user, line_id, account_id, book=False) -> BankStatementLine:
    """Give an unmatched (or wrongly matched) line its account by hand: it becomes
    proposed, or is booked at once with ``book``."""
    with transaction.atomic():
        line = _one_line(user, line_id, [Status.UNMATCHED, Status.PROPOSED])
        account = collected_accounts(line.seller).filter(pk=account_id).first()
        if account is None:
            raise ValidationError({"account": "Choose one of the accounts you collect for."})
        if account.currency != line.currency:
            raise ValidationError(
                {
                    "account": f"{account.name} is kept in {account.currency}; this payment "
                    f"is in {line.currency}."
                }
            )
        line.status, line.account = Status.PROPOSED, account
        line.note = "Assigned by hand."
        line.decided_by, line.decided_at = user, timezone.now()
        line.save(update_fields=["status", "account", "note", "decided_by", "decided_at"])
        if book:
            booking = Booking()
            _book(line, user, booking)
            if booking.refused and line.status != Status.BOOKED:
                raise ValidationError(booking.refused[0][1])
        return line


def line_ignore(*, user, line_id, note) -> BankStatementLine:
    """Set a line aside for good (not a payment to us, refunded, booked elsewhere), with
    a note saying why."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say why this line is ignored."})
    with transaction.atomic():
        line = _one_line(user, line_id, [Status.UNMATCHED, Status.PROPOSED])
        line.status, line.account = Status.IGNORED, None
        line.note = note[:255]
        line.decided_by, line.decided_at = user, timezone.now()
        line.save(update_fields=["status", "account", "note", "decided_by", "decided_at"])
        return line


def line_reopen(*, user, line_id) -> BankStatementLine:
    """Put an ignored line back in the unmatched queue."""
    with transaction.atomic():
        line = _one_line(user, line_id, [Status.IGNORED])
        line.status = Status.UNMATCHED
        line.note = "Put back in the unmatched queue."
        line.decided_by, line.decided_at = user, timezone.now()
        line.save(update_fields=["status", "note", "decided_by", "decided_at"])
        return line
