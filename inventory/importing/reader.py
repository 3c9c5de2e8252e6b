"""Defensive reading of an uploaded CSV or XLSX file into rows of text cells.

Anything wrong with the file as a whole (type, size, encoding, headers, a zip bomb, a formula)
raises ``ImportFileError`` with a sentence for the admin; nothing here raises a traceback at
them. Rows come out as ``(row_number, cells)``, the header being row 1, cells as ``str``.

Limits, from settings (read when a file is opened):
- ``IMPORT_MAX_BYTES`` (100 MB): the largest upload;
- ``IMPORT_XLSX_MAX_UNPACKED_BYTES`` (10 × IMPORT_MAX_BYTES): what an XLSX may unpack to.
"""

import csv
import datetime
import io
import os
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from .columns import NAMES, REQUIRED

EXTENSIONS = (".csv", ".xlsx")
MB = 1024 * 1024
# A member of an XLSX packing more than this ratio (and over 1 MB) is treated as a zip bomb.
MAX_COMPRESSION_RATIO = 200
MAX_ZIP_MEMBERS = 1000
BINARY_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"GIF8": "a GIF image",
    b"\xff\xd8\xff": "a JPEG image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a zip archive (an .xlsx? then name it .xlsx)",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls file (save it as .xlsx or CSV UTF-8)",
}


class ImportFileError(Exception):
    """The file cannot be imported at all; ``str(error)`` says why, for the admin."""


def max_bytes():
    return getattr(settings, "IMPORT_MAX_BYTES", 100 * MB)


def check_name_and_size(name, size):
    """The checks that need no reading: extension, emptiness, size cap."""
    extension = os.path.splitext(name)[1].lower()
    if extension not in EXTENSIONS:
        raise ImportFileError(
            f"Only .csv and .xlsx files can be imported; “{name}” is {extension or 'neither'}."
        )
    if size == 0:
        raise ImportFileError("The file is empty.")
    if size > max_bytes():
        raise ImportFileError(
            f"The file is {_size(size)}; the limit is {_size(max_bytes())}. "
            "Split it into smaller files."
        )
    return extension


def _size(count):
    return f"{count / MB:,.1f} MB" if count >= MB else f"{count / 1024:,.1f} KB"


@dataclass
class Table:
    columns: list  # column names in file order (None for a column with a blank header)
    rows: object  # iterator of (row_number, [str, ...]); may include blank rows
    estimated_rows: int | None  # data rows, for a progress bar


@contextmanager
def open_table(path, *, name):
    """Open ``path`` (uploaded as ``name``) and yield its ``Table``; the header is checked.

    Rows are read lazily: a decoding error met while the caller walks them comes out of this
    ``with`` block as ImportFileError too.
    """
    extension = check_name_and_size(name, os.path.getsize(path))
    if extension == ".csv":
        with open(path, "rb") as raw:
            table, reader = _csv_table(raw, path)
            try:
                yield table
            except UnicodeDecodeError:
                raise ImportFileError(
                    f"The file is not UTF-8 text (near row {reader.line_num + 1}). "
                    "Save it as “CSV UTF-8” and upload it again."
                ) from None
            except csv.Error as exc:
                raise ImportFileError(
                    f"Row {reader.line_num}: the CSV file is malformed ({exc})."
                ) from None
    else:
        with _xlsx_table(path) as table:
            yield table


# --- CSV -----------------------------------------------------------------------------------


def _csv_table(raw, path):
    head = raw.read(8192)
    for signature, what in BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise ImportFileError(f"This is not a CSV text file: it looks like {what}.")
    if b"\x00" in head:
        raise ImportFileError("This is not a CSV text file (it contains binary data).")
    raw.seek(0)
    reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    except UnicodeDecodeError:
        raise ImportFileError(
            "The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again."
        ) from None
    except csv.Error as exc:
        raise ImportFileError(f"Row 1: the CSV file is malformed ({exc}).") from None
    columns = _check_header(header)
    # Blank rows are skipped by the row checker (only rows it would reject can be blank).
    return Table(columns, enumerate(reader, start=2), max(0, _count_lines(path) - 1)), reader


def _count_lines(path):
    lines = 0
    with open(path, "rb") as raw:
        while chunk := raw.read(MB):
            lines += chunk.count(b"\n")
    return lines


# --- XLSX ----------------------------------------------------------------------------------


def _check_zip(path):
    if not zipfile.is_zipfile(path):
        raise ImportFileError("This is not an .xlsx file (an .xlsx file is a zip archive).")
    limit = getattr(settings, "IMPORT_XLSX_MAX_UNPACKED_BYTES", 10 * max_bytes())
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFileError(f"This .xlsx file is damaged ({exc}).") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise ImportFileError("This .xlsx file has too many parts to be a spreadsheet.")
    unpacked = sum(member.file_size for member in members)
    if unpacked > limit:
        raise ImportFileError(
            f"This .xlsx file unpacks to {_size(unpacked)}; the limit is {_size(limit)}. "
            "Split it, or save it as CSV."
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > MB and ratio > MAX_COMPRESSION_RATIO:
            raise ImportFileError(
                f"This .xlsx file looks like a zip bomb: {member.filename} is compressed "
                f"{ratio:,.0f} times. It was not opened."
            )


@contextmanager
def _xlsx_table(path):
    _check_zip(path)
    import openpyxl  # slow to import; only XLSX uploads need it
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # openpyxl parses with defusedxml only when it is installed
        raise ImportFileError("XLSX import is unavailable: defusedxml is not installed.")
    with open(path, "rb") as raw:
        # A file object, not the path: openpyxl refuses a path without an .xlsx extension.
        try:
            workbook = openpyxl.load_workbook(raw, read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises many kinds; none may reach the admin raw
            raise ImportFileError(
                f"This .xlsx file could not be read ({type(exc).__name__})."
            ) from None
        try:
            sheet = workbook.worksheets[0]
            rows = _xlsx_rows(sheet)
            try:
                _, header = next(rows)
            except StopIteration:
                raise ImportFileError("The first sheet is empty.") from None
            columns = _check_header(header)
            estimate = (sheet.max_row - 1) if sheet.max_row else None
            yield Table(columns, rows, estimate)
        finally:
            workbook.close()


def _xlsx_rows(sheet):
    row_no = 0
    try:
        for row_no, row in enumerate(sheet.iter_rows(), start=1):  # noqa: B007
            cells = []
            for position, cell in enumerate(row):
                if cell.data_type == "f":
                    raise ImportFileError(
                        f"Row {row_no}, column {position + 1}: formulas are not accepted "
                        f"({str(cell.value)[:40]}). Copy the cells and paste them as values."
                    )
                cells.append(_xlsx_text(cell.value))
            yield row_no, cells
    except ImportFileError:
        raise
    except Exception as exc:  # damaged or hostile XML (defusedxml refuses entities)
        raise ImportFileError(
            f"This .xlsx file could not be read after row {row_no} ({type(exc).__name__})."
        ) from None


def _xlsx_text(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


# --- Both ----------------------------------------------------------------------------------


def _normalise(name):
    return "_".join(name.strip().lower().replace("-", " ").split())


def _check_header(header):
    columns = [_normalise(cell) or None for cell in header]
    named = [c for c in columns if c]
    if not named:
        raise ImportFileError(
            "The first row must name the columns, e.g. " + ",".join(REQUIRED) + "."
        )
    unknown = [c for c in named if c not in NAMES]
    missing = [c for c in REQUIRED if c not in named]
    repeated = sorted({c for c in named if named.count(c) > 1})
    problems = []
    if missing:
        problems.append("missing column" + "s" * (len(missing) > 1) + ": " + ", ".join(missing))
    if unknown:
        shown = ", ".join(f"“{c[:30]}”" for c in unknown[:5])
        problems.append("unknown column" + "s" * (len(unknown) > 1) + ": " + shown)
    if repeated:
        problems.append("repeated column" + "s" * (len(repeated) > 1) + ": " + ", ".join(repeated))
    if problems:
        hint = ""
        if len(header) == 1 and ";" in header[0]:
            hint = " Columns must be separated by commas, not semicolons."
        raise ImportFileError(
            "The first row must name the columns; "
            + "; ".join(problems)
            + ". Download the template to see them."
            + hint
        )
    return columns
