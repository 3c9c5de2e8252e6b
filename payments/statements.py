"""Bank statement files read into credit lines: CAMT.053 XML and a CSV layout.

Parsers only read: they return the booked credits (``StatementLine``) and counts of what
they skipped, or raise ``StatementError`` naming the entry or row that is wrong, so an
upload is saved whole or not at all. Matching and saving are ``payments.services.bank``'s.

CAMT.053 (any version of the ``camt.053.001.xx`` schema; elements are found by their local
names). Each ``Ntry`` with ``CdtDbtInd`` CRDT and status BOOK is a credit; debits, pending
and information-only entries, and reversals are skipped. The line's id is the bank's own
reference for the entry, ``AcctSvcrRef``: it is unique per booking at the bank and the same
in every statement that repeats the entry (intraday and end of day), which is what keeps a
payment from being booked twice. Without it we take ``NtryRef``, then the transaction's
``Refs/AcctSvcrRef``, then its ``Refs/TxId``; an entry with none of them is refused. A batch
entry (several ``TxDtls``) gives one line per transaction, with the transaction's amount and
its own ``AcctSvcrRef`` (else ``<entry id>/<TxId or position>``). The payer is the debtor's
name (``RltdPties/Dbtr``), the remittance text the ``RmtInf/Ustrd`` lines, and a structured
creditor reference (``RmtInf/Strd/CdtrRefInf/Ref``) is read too.

The XML is parsed with defusedxml and a DTD is refused outright: a bank statement never
needs one, and entity tricks (external entities, "billion laughs") need one.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from django.core.exceptions import ValidationError

CAMT053 = "camt053"
CSV = "csv"

# The CSV layout: a header row naming these columns (any order, any case; extra columns are
# ignored). "description" may stand for "reference".
CSV_COLUMNS = ("date", "amount", "currency", "reference", "transaction_id", "payer")
CSV_REQUIRED = ("date", "amount", "currency", "transaction_id")
CSV_ALIASES = {"description": "reference"}

MAX_ID = 100
MAX_PAYER = 200
MAX_REMITTANCE = 500
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_AMOUNT = re.compile(r"^[+-]?\d{1,12}(\.\d{1,2})?$")


class StatementError(ValidationError):
    """The file cannot be read; the message says where and why. Nothing is saved."""


@dataclass(frozen=True)
class StatementLine:
    bank_transaction_id: str
    booking_date: date
    amount: Decimal
    currency: str
    payer_name: str = ""
    remittance: str = ""
    # A structured creditor reference given apart from the free text (CAMT.053 only).
    structured_reference: str = ""
    # Where the line is in the file: "entry 3", "row 7".
    where: str = ""


@dataclass
class ParsedStatement:
    format: str
    lines: list = field(default_factory=list)
    debits: int = 0
    # Pending or information-only entries and reversals: not money received (yet).
    not_booked: int = 0


def parse_statement(data: bytes) -> ParsedStatement:
    """Read a statement file, CAMT.053 XML or CSV, told apart by its first character."""
    if not data or not data.strip():
        raise StatementError("The file is empty.")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return parse_camt053(data) if head == b"<" else parse_csv(data)


# --- CAMT.053 -------------------------------------------------------------------------------


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element, name):
    return [child for child in element if _local(child.tag) == name]


def _find(element, *path):
    """The first element down ``path`` (local names), or None."""
    current = [element]
    for name in path:
        current = [child for parent in current for child in _children(parent, name)]
        if not current:
            return None
    return current[0]


def _findall(element, *path):
    current = [element]
    for name in path:
        current = [child for parent in current for child in _children(parent, name)]
    return current


def _text(element, *path) -> str:
    found = _find(element, *path) if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def parse_camt053(data: bytes) -> ParsedStatement:
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise StatementError(
            "The XML file declares a DTD or entities, which a bank statement never needs: "
            f"refused for safety ({type(exc).__name__})."
        ) from exc
    except SafeET.ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise StatementError(
            f"The XML is not well formed at line {line}, column {column + 1}: "
            "is it the bank's CAMT.053 file as downloaded (in the encoding it declares)?"
        ) from exc
    statement = _find(root, "BkToCstmrStmt") if _local(root.tag) == "Document" else None
    if statement is None:
        raise StatementError(
            f"This XML is not a CAMT.053 bank statement (its root is “{_local(root.tag)}”, "
            "expected Document/BkToCstmrStmt)."
        )
    parsed = ParsedStatement(format=CAMT053)
    number = 0
    for stmt in _children(statement, "Stmt"):
        for entry in _children(stmt, "Ntry"):
            number += 1
            _camt_entry(entry, number, parsed)
    return parsed


def _camt_entry(entry, number, parsed):
    where = f"entry {number}"
    direction = _text(entry, "CdtDbtInd")
    if direction == "DBIT":
        parsed.debits += 1
        return
    if direction != "CRDT":
        raise StatementError(f"{where.capitalize()}: CdtDbtInd is “{direction}”, not CRDT/DBIT.")
    status = _text(entry, "Sts") or _text(entry, "Sts", "Cd")
    if status != "BOOK" or _text(entry, "RvslInd").lower() == "true":
        parsed.not_booked += 1
        return
    entry_id = (
        _text(entry, "AcctSvcrRef")
        or _text(entry, "NtryRef")
        or _text(entry, "NtryDtls", "TxDtls", "Refs", "AcctSvcrRef")
        or _text(entry, "NtryDtls", "TxDtls", "Refs", "TxId")
    )
    if not entry_id:
        raise StatementError(
            f"{where.capitalize()}: no bank reference (AcctSvcrRef, NtryRef or TxId), so it "
            "could not be told apart from other payments."
        )
    amount, currency = _camt_amount(_find(entry, "Amt"), where)
    booked = _camt_date(entry, where)
    transactions = _findall(entry, "NtryDtls", "TxDtls")
    if len(transactions) <= 1:
        details = transactions[0] if transactions else None
        parsed.lines.append(_line(entry_id, booked, amount, currency, details, where=where))
        return
    for position, details in enumerate(transactions, start=1):
        tx_where = f"{where}, transaction {position}"
        tx_id = _text(details, "Refs", "AcctSvcrRef") or (
            f"{entry_id}/{_text(details, 'Refs', 'TxId') or position}"
        )
        element = _find(details, "Amt")
        if element is None:  # an Element with no children is falsy: no "or" here
            element = _find(details, "AmtDtls", "TxAmt", "Amt")
        if element is None:
            raise StatementError(f"{tx_where.capitalize()}: no amount.")
        tx_amount, tx_currency = _camt_amount(element, tx_where)
        parsed.lines.append(_line(tx_id, booked, tx_amount, tx_currency, details, where=tx_where))


def _camt_amount(element, where):
    if element is None:
        raise StatementError(f"{where.capitalize()}: no amount (Amt).")
    amount = _amount((element.text or "").strip(), where)
    currency = (element.get("Ccy") or "").strip().upper()
    if not _CURRENCY.match(currency):
        raise StatementError(f"{where.capitalize()}: the amount has no currency (Ccy).")
    return amount, currency


def _camt_date(entry, where):
    text = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm")[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise StatementError(
            f"{where.capitalize()}: booking date “{text}” is not a date (BookgDt)."
        ) from None


def _line(tx_id, booked, amount, currency, details, *, where):
    if len(tx_id) > MAX_ID:
        raise StatementError(
            f"{where.capitalize()}: the bank reference is longer than {MAX_ID} characters."
        )
    payer, remittance, structured = "", "", ""
    if details is not None:
        payer = _text(details, "RltdPties", "Dbtr", "Nm") or _text(
            details, "RltdPties", "Dbtr", "Pty", "Nm"
        )
        remittance = " ".join(
            (element.text or "").strip() for element in _findall(details, "RmtInf", "Ustrd")
        ).strip()
        structured = _text(details, "RmtInf", "Strd", "CdtrRefInf", "Ref")
    return StatementLine(
        bank_transaction_id=tx_id,
        booking_date=booked,
        amount=amount,
        currency=currency,
        payer_name=payer[:MAX_PAYER],
        remittance=remittance[:MAX_REMITTANCE],
        structured_reference=structured[:35],
        where=where,
    )


def _amount(text, where) -> Decimal:
    if not _AMOUNT.match(text):
        raise StatementError(
            f"{where.capitalize()}: amount “{text[:30]}” is not a number with at most two "
            "decimals (a dot for decimals, no thousands separators)."
        )
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover (the pattern admits only numbers)
        raise StatementError(f"{where.capitalize()}: amount “{text}” is not a number.") from None


# --- CSV ------------------------------------------------------------------------------------


def parse_csv(data: bytes) -> ParsedStatement:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise StatementError(
            f"Line {line}: the file is not UTF-8 text. Save the CSV as UTF-8 and upload it again."
        ) from None
    if "\x00" in text:
        raise StatementError("The file contains NUL bytes: it is not a CSV text file.")
    first = text.splitlines()[0] if text.splitlines() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise StatementError("The file is empty.") from None
    columns = [CSV_ALIASES.get(name.strip().lower(), name.strip().lower()) for name in header]
    missing = [name for name in CSV_REQUIRED if name not in columns]
    if missing:
        raise StatementError(
            f"Row 1 (header): missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}. Expected: {', '.join(CSV_COLUMNS)}."
        )
    index = {name: columns.index(name) for name in CSV_COLUMNS if name in columns}
    parsed = ParsedStatement(format=CSV)
    try:
        for row in reader:
            _csv_row(row, reader.line_num, index, parsed)
    except csv.Error as exc:
        raise StatementError(f"Row {reader.line_num}: {exc}.") from None
    return parsed


def _csv_row(row, number, index, parsed):
    if not any(cell.strip() for cell in row):
        return
    where = f"row {number}"

    def cell(name):
        position = index.get(name)
        return row[position].strip() if position is not None and position < len(row) else ""

    amount = _amount(cell("amount"), where)
    if amount <= 0:
        parsed.debits += 1
        return
    text = cell("date")
    try:
        booked = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        booked = None
    if booked is None:
        raise StatementError(f"Row {number}: date “{text[:30]}” is not a date as YYYY-MM-DD.")
    currency = cell("currency").upper()
    if not _CURRENCY.match(currency):
        raise StatementError(
            f"Row {number}: currency “{currency[:10]}” is not a three-letter code."
        )
    tx_id = cell("transaction_id")
    if not tx_id:
        raise StatementError(f"Row {number}: the transaction id is empty.")
    if len(tx_id) > MAX_ID:
        raise StatementError(
            f"Row {number}: the transaction id is longer than {MAX_ID} characters."
        )
    parsed.lines.append(
        StatementLine(
            bank_transaction_id=tx_id,
            booking_date=booked,
            amount=amount,
            currency=currency,
            payer_name=cell("payer")[:MAX_PAYER],
            remittance=cell("reference")[:MAX_REMITTANCE],
            where=where,
        )
    )
