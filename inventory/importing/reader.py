"""Defensive reading of an uploaded CSV or XLSX file into rows of text cells.

Anything wrong with the file as a whole (type, size, encoding, headers, a zip bomb, a formula)
raises ``ImportFileError`` with a sentence for the admin; nothing here raises a traceback at
them. Rows come out as ``(row_number, cells)``, the header being row 1, cells as ``str``.

Limits, from settings (read when a file is opened):
- ``IMPORT_MAX_BYTES`` (100 MB): the largest upload;
- ``IMPORT_XLSX_MAX_UNPACKED_BYTES`` (10 × IMPORT_MAX_BYTES): what an XLSX may unpack to;
- ``IMPORT_XLSX_MAX_COLUMNS`` (64), ``IMPORT_XLSX_MAX_ROWS`` (1,048,576, Excel's own),
  ``IMPORT_XLSX_MAX_CELLS`` (20,000,000): checked while the sheet streams, so a small file
  that declares a huge sheet is refused before it costs memory or time.
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

from .columns import EXPORT_ONLY, NAMES, REQUIRED

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


def xlsx_limits():
    """(most columns in a row, most rows, most cells in the sheet), from settings."""
    return (
        getattr(settings, "IMPORT_XLSX_MAX_COLUMNS", 64),
        getattr(settings, "IMPORT_XLSX_MAX_ROWS", 1_048_576),
        getattr(settings, "IMPORT_XLSX_MAX_CELLS", 20_000_000),
    )


@contextmanager
def _xlsx_table(path):
    _check_zip(path)
    from openpyxl.xml import DEFUSEDXML  # slow to import; only XLSX uploads need openpyxl

    if not DEFUSEDXML:  # openpyxl parses with defusedxml only when it is installed
        raise ImportFileError("XLSX import is unavailable: defusedxml is not installed.")
    with open(path, "rb") as raw:
        sheet = _first_sheet(raw)
        try:
            rows = iter(sheet)
            try:
                _, header = next(rows)
            except StopIteration:
                raise ImportFileError("The first sheet is empty.") from None
            columns = _check_header(header)
            estimate = sheet.declared_rows - 1 if sheet.declared_rows else None
            yield Table(columns, rows, estimate)
        finally:
            sheet.archive.close()


def _first_sheet(raw):
    """The workbook's shared strings and styles, read by openpyxl, and a ``SheetStream`` of
    its first worksheet.

    openpyxl's read-only worksheet is not used: it parses a whole sheet that declares no size
    just to open it, builds a whole ``<row>`` before handing it over (a 130 KB file with one
    552,000-cell row took 563 MB) and pads every row to the size the sheet declares.
    """
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    try:
        reader = ExcelReader(raw, read_only=True)
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        paths = [
            rel.target
            for _sheet, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type
        ]
    except Exception as exc:  # openpyxl raises many kinds; none may reach the admin raw
        raise ImportFileError(
            f"This .xlsx file could not be read ({type(exc).__name__})."
        ) from None
    if not paths:
        reader.archive.close()
        raise ImportFileError("This .xlsx file has no worksheet.")
    return SheetStream(reader.archive, paths[0], reader.shared_strings, reader.wb)


class SheetStream:
    """Rows ``(row_number, [text, ...])`` of one worksheet, read cell by cell.

    Rows, columns and cells past ``xlsx_limits()`` are refused as soon as the parser reaches
    them, and parsed elements are dropped as it goes: memory stays bounded by one row.
    Cells are decoded by openpyxl's cell parser (shared strings, dates, booleans, formulas).
    """

    def __init__(self, archive, path, shared_strings, workbook):
        from openpyxl.worksheet._reader import WorkSheetParser

        self.archive = archive
        self.path = path
        self.declared_rows = None  # from <dimension>, known once the first row is read
        self.cell_parser = WorkSheetParser(
            None,
            shared_strings,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )

    def __iter__(self):
        try:
            yield from self._rows()
        except ImportFileError:
            raise
        except Exception as exc:  # damaged or hostile XML (defusedxml refuses entities)
            raise ImportFileError(
                f"This .xlsx file could not be read after row {self.cell_parser.row_counter} "
                f"({type(exc).__name__})."
            ) from None

    def _rows(self):
        from openpyxl.worksheet._reader import CELL_TAG, DATA_TAG, DIMENSION_TAG, ROW_TAG
        from openpyxl.xml.functions import iterparse  # defusedxml's (checked above)

        max_columns, max_rows, max_cells = xlsx_limits()
        max_parts = 32 * max_columns  # XML elements between two row ends (rich text has many)
        parser = self.cell_parser
        cells_read = parts = 0
        values = {}
        sheet_data = None
        with self.archive.open(self.path) as source:
            for event, element in iterparse(source, events=("start", "end")):
                tag = element.tag
                if event == "start":
                    parts += 1
                    if parts > max_parts:
                        raise ImportFileError(
                            f"Row {parser.row_counter + 1} of this .xlsx file is too complex "
                            f"(over {max_parts:,} XML elements). Save the sheet as CSV."
                        )
                    if tag == ROW_TAG:
                        parser.row_counter = _row_number(element.get("r"), parser.row_counter)
                        parser.col_counter = 0
                        if parser.row_counter > max_rows:
                            raise ImportFileError(
                                f"This .xlsx file has a row {parser.row_counter:,}; at most "
                                f"{max_rows:,} rows are read (IMPORT_XLSX_MAX_ROWS). Split it."
                            )
                    elif tag == DATA_TAG:
                        sheet_data = element
                    elif tag == DIMENSION_TAG:
                        self.declared_rows = _declared_rows(element.get("ref"))
                elif tag == CELL_TAG:
                    cells_read += 1
                    if cells_read > max_cells:
                        raise ImportFileError(
                            f"This .xlsx file has more than {max_cells:,} cells (IMPORT_XLSX_"
                            f"MAX_CELLS, reached on row {parser.row_counter:,}). Split it."
                        )
                    values.update(self._cell(element, max_columns))
                    element.clear()
                elif tag == ROW_TAG:
                    width = max(values, default=0)
                    yield parser.row_counter, [values.get(c, "") for c in range(1, width + 1)]
                    values, parts = {}, 0
                    sheet_data.clear()  # the rows read so far, and their cells
                elif tag == DATA_TAG:
                    return  # nothing after the cells is needed

    def _cell(self, element, max_columns):
        """``{column: text}`` of one ``<c>`` element; a formula, or a column past the limit,
        is refused."""
        cell = self.cell_parser.parse_cell(element)
        row_no, column = self.cell_parser.row_counter, cell["column"]
        if column > max_columns:
            raise ImportFileError(
                f"Row {row_no:,} has a cell in column {column:,}; at most {max_columns:,} "
                "columns are read (IMPORT_XLSX_MAX_COLUMNS). Delete the extra columns."
            )
        if cell["data_type"] == "f":
            raise ImportFileError(
                f"Row {row_no}, column {column}: formulas are not accepted "
                f"({str(cell['value'])[:40]}). Copy the cells and paste them as values."
            )
        return {column: _xlsx_text(cell["value"])}


def _row_number(attribute, previous):
    if attribute is None:
        return previous + 1
    number = int(attribute)
    if number < 1:
        raise ValueError(f"row number {attribute}")
    return number


def _declared_rows(ref):
    """The last row of a ``<dimension ref="A1:M101">``, if it says one."""
    digits = "".join(ch for ch in (ref or "").rpartition(":")[2] if ch.isdigit())
    return int(digits) if digits else None


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
    unknown = [c for c in named if c not in NAMES and c not in EXPORT_ONLY]
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
