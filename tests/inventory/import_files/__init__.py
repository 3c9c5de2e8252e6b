"""Builders of good and bad import files for the import tests (generated, not stored)."""

import csv
import io
import zipfile

from openpyxl import Workbook

HEADER = [
    "number",
    "operator",
    "country",
    "city",
    "number_type",
    "region",
    "area_code",
    "capabilities",
    "status",
    "tag",
    "notes",
    "setup_fee",
    "monthly_price",
]
DEFAULTS = {
    "operator": "KPN",
    "country": "NL",
    "city": "Amsterdam",
    "number_type": "local",
    "region": "North Holland",
    "area_code": "20",
    "capabilities": "voice",
    "status": "",
    "tag": "",
    "notes": "",
    "setup_fee": "1.00",
    "monthly_price": "2.00",
}


def row(number, **fields):
    values = {"number": number, **DEFAULTS, **fields}
    return [values[name] for name in HEADER]


def amsterdam_rows(count, start=5550000, **fields):
    return [row(f"+3120{start + i}", **fields) for i in range(count)]


def csv_bytes(rows, header=HEADER, encoding="utf-8"):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, header=HEADER):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


SHEET_START = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def xlsx_with_sheet(chunks):
    """A real .xlsx whose first sheet's XML is written from ``chunks`` (bytes), streamed."""
    good = zipfile.ZipFile(io.BytesIO(xlsx_bytes([row("+31205550000")])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as made:
        for info in good.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                made.writestr(info, good.read(info))
        with made.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for chunk in chunks:
                sheet.write(chunk)
    return out.getvalue()


def xlsx_bomb(unpacked_mb=200):
    """A real-looking .xlsx whose sheet XML inflates to ``unpacked_mb`` MB of blank rows."""
    chunk = b"<row/>" * (1024 * 1024 // 6)
    return xlsx_with_sheet(
        [SHEET_START + b"<sheetData>", *[chunk] * unpacked_mb, b"</sheetData></worksheet>"]
    )


def xlsx_wide_row(cells=552_000):
    """A small .xlsx whose first row has ``cells`` cells: ~75 KB on disk and 9 MB unpacked,
    a compression ratio the zip checks let through, yet every cell is an object once parsed."""

    def cell_chunks():
        for start in range(0, cells, 10_000):
            end = min(cells, start + 10_000)
            yield b"".join(b"<c><v>%d</v></c>" % (i % 1000) for i in range(start, end))

    return xlsx_with_sheet(
        [SHEET_START + b'<sheetData><row r="1">', *cell_chunks(), b"</row></sheetData></worksheet>"]
    )


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
