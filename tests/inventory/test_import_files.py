"""Bad files get one clear sentence and no traceback; nothing is saved."""

import io
import tracemalloc
import zipfile

import pytest

from inventory.importing.services import ImportRejected, file_check
from inventory.models import DID
from tests.inventory.factories import OperatorFactory
from tests.inventory.import_files import (
    HEADER,
    PNG,
    SHEET_START,
    amsterdam_rows,
    csv_bytes,
    row,
    xlsx_bomb,
    xlsx_bytes,
    xlsx_wide_row,
    xlsx_with_sheet,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def kpn(db):
    return OperatorFactory(name="KPN")


def check(tmp_path, content, name="numbers.csv"):
    path = tmp_path / name
    path.write_bytes(content)
    return file_check(path=path, name=name)


def file_error(tmp_path, content, name="numbers.csv"):
    with pytest.raises(ImportRejected) as exc_info:
        check(tmp_path, content, name)
    assert exc_info.value.plan is None
    assert not DID.objects.exists()
    return exc_info.value.file_error


def test_good_csv_and_xlsx_read_the_same(tmp_path):
    rows = amsterdam_rows(3)
    from_csv = check(tmp_path, csv_bytes(rows))
    from_xlsx = check(tmp_path, xlsx_bytes(rows), name="numbers.xlsx")
    assert from_csv.error_count == from_xlsx.error_count == 0
    assert (
        from_csv.numbers()
        == from_xlsx.numbers()
        == ["+31205550000", "+31205550001", "+31205550002"]
    )


@pytest.mark.parametrize("name", ["numbers.xls", "numbers.txt", "numbers"])
def test_wrong_extension(tmp_path, name):
    assert "Only .csv and .xlsx" in file_error(tmp_path, csv_bytes(amsterdam_rows(1)), name)


def test_png_renamed_csv(tmp_path):
    assert file_error(tmp_path, PNG) == "This is not a CSV text file: it looks like a PNG image."


def test_png_renamed_xlsx(tmp_path):
    assert "not an .xlsx file" in file_error(tmp_path, PNG, "numbers.xlsx")


def test_latin_1_csv(tmp_path):
    content = csv_bytes([row("+31205550000", city="Den Haag é")], encoding="latin-1")
    assert "not UTF-8" in file_error(tmp_path, content)


def test_latin_1_far_down_the_file(tmp_path):
    rows = amsterdam_rows(3000) + [row("+31205559999", notes="café")]
    message = file_error(tmp_path, csv_bytes(rows, encoding="latin-1"))
    assert "not UTF-8" in message and "row" in message


def test_utf8_with_byte_order_mark(tmp_path):
    plan = check(tmp_path, b"\xef\xbb\xbf" + csv_bytes(amsterdam_rows(1)))
    assert plan.error_count == 0 and plan.number_count == 1


def test_empty_file(tmp_path):
    assert file_error(tmp_path, b"") == "The file is empty."


def test_header_only(tmp_path):
    assert "no numbers" in file_error(tmp_path, csv_bytes([]))


def test_missing_headers(tmp_path):
    content = b"+31205550000,KPN,NL,Amsterdam,local\n"
    message = file_error(tmp_path, content)
    assert "missing columns: number, operator, country, city, number_type" in message
    assert "unknown columns" in message


def test_semicolon_separated(tmp_path):
    content = ";".join(HEADER).encode() + b"\n+31205550000;KPN;NL;Amsterdam;local\n"
    assert "separated by commas" in file_error(tmp_path, content)


def test_headers_are_forgiving_about_case_and_order(tmp_path):
    content = (
        b"City,Number Type,NUMBER,operator,country,monthly price\n"
        b"Amsterdam,local,+31205550000,KPN,NL,2\n"
    )
    plan = check(tmp_path, content)
    assert plan.error_count == 0 and plan.number_count == 1


def test_file_over_the_size_cap(tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 2048
    message = file_error(tmp_path, csv_bytes(amsterdam_rows(50)))
    assert message == "The file is 3.7 KB; the limit is 2.0 KB. Split it into smaller files."


def test_xlsx_bomb_is_not_opened(tmp_path, settings):
    settings.IMPORT_XLSX_MAX_UNPACKED_BYTES = 100 * 1024 * 1024
    message = file_error(tmp_path, xlsx_bomb(200), "bomb.xlsx")
    assert message.startswith("This .xlsx file unpacks to 200.0 MB; the limit is 100.0 MB")


def test_xlsx_bomb_under_the_unpacked_cap_is_caught_by_its_ratio(tmp_path, settings):
    settings.IMPORT_XLSX_MAX_UNPACKED_BYTES = 10**12
    assert "zip bomb" in file_error(tmp_path, xlsx_bomb(50), "bomb.xlsx")


def test_xlsx_formula_cell(tmp_path):
    content = xlsx_bytes([row("+31205550000"), row("=31205550000+1")])
    message = file_error(tmp_path, content, "numbers.xlsx")
    assert message.startswith("Row 3, column 1: formulas are not accepted (=31205550000+1)")


def test_xlsx_numbers_stored_as_numbers(tmp_path):
    content = xlsx_bytes([row(31205550000, setup_fee=1, monthly_price=2.5, area_code=20)])
    plan = check(tmp_path, content, "numbers.xlsx")
    assert plan.error_count == 0
    assert plan.numbers() == ["+31205550000"]


def test_xlsx_with_an_xml_entity_is_refused(tmp_path):
    good = zipfile.ZipFile(io.BytesIO(xlsx_bytes([row("+31205550000")])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as evil:
        for info in good.infolist():
            data = good.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b"<worksheet",
                    b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><worksheet',
                    1,
                )
            evil.writestr(info, data)
    assert "could not be read" in file_error(tmp_path, out.getvalue(), "numbers.xlsx")


def test_a_552000_cell_row_is_refused_early_in_bounded_memory(tmp_path):
    """The reported file: small on disk, ordinary compression, one row of 552,000 cells
    (openpyxl's row reader took 25 s and 563 MB on it)."""
    content = xlsx_wide_row(552_000)
    assert len(content) < 150_000
    tracemalloc.start()
    try:
        message = file_error(tmp_path, content, "wide.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message == (
        "Row 1 has a cell in column 65; at most 64 columns are read "
        "(IMPORT_XLSX_MAX_COLUMNS). Delete the extra columns."
    )
    assert peak < 16 * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MB"


def test_xlsx_column_limit_is_a_setting(tmp_path, settings):
    settings.IMPORT_XLSX_MAX_COLUMNS = 12  # the header has 13
    message = file_error(tmp_path, xlsx_bytes([row("+31205550000")]), "numbers.xlsx")
    assert message.startswith("Row 1 has a cell in column 13; at most 12 columns are read")


def test_xlsx_row_past_the_row_limit_is_refused_before_it_is_read(tmp_path):
    sheet = [
        SHEET_START + b"<sheetData>",
        b'<row r="1">'
        + b"".join(b'<c t="inlineStr"><is><t>%s</t></is></c>' % h.encode() for h in HEADER)
        + b"</row>",
        b'<row r="1048577"><c><v>31205550000</v></c></row></sheetData></worksheet>',
    ]
    message = file_error(tmp_path, xlsx_with_sheet(sheet), "numbers.xlsx")
    assert message == (
        "This .xlsx file has a row 1,048,577; at most 1,048,576 rows are read "
        "(IMPORT_XLSX_MAX_ROWS). Split it."
    )


def test_xlsx_cell_limit_counts_the_whole_sheet(tmp_path, settings):
    settings.IMPORT_XLSX_MAX_CELLS = 13 * 3
    message = file_error(tmp_path, xlsx_bytes(amsterdam_rows(5)), "numbers.xlsx")
    assert message == (
        "This .xlsx file has more than 39 cells (IMPORT_XLSX_MAX_CELLS, reached on row 4). "
        "Split it."
    )


def test_xlsx_declaring_a_huge_sheet_reads_only_its_cells(tmp_path):
    """openpyxl pads every row to the declared size: 16,384 cells × a million rows."""
    good = xlsx_bytes(amsterdam_rows(2))
    sheet = zipfile.ZipFile(io.BytesIO(good)).read("xl/worksheets/sheet1.xml")
    sheet = sheet.replace(b'<dimension ref="A1:M3" />', b'<dimension ref="A1:XFD1048576"/>')
    assert b"XFD1048576" in sheet
    plan = check(tmp_path, xlsx_with_sheet([sheet]), "numbers.xlsx")
    assert plan.error_count == 0 and plan.rows == 2


def test_damaged_xlsx(tmp_path):
    content = xlsx_bytes([row("+31205550000")])[:-200]
    assert "xlsx" in file_error(tmp_path, content, "numbers.xlsx")


def test_csv_with_binary_data(tmp_path):
    content = csv_bytes(amsterdam_rows(1)) + b"+31205550001,KPN\x00,NL\n"
    assert file_error(tmp_path, content) == "This is not a CSV text file (it contains binary data)."


def test_csv_with_a_huge_cell(tmp_path):
    content = csv_bytes(amsterdam_rows(2) + [row("+31205550009", notes="x" * 200_000)])
    assert file_error(tmp_path, content).startswith("Row 4: the CSV file is malformed")
