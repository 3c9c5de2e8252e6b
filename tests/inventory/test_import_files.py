"""Bad files get one clear sentence and no traceback; nothing is saved."""

import pytest

from inventory.importing.services import ImportRejected, file_check
from inventory.models import DID
from tests.inventory.factories import OperatorFactory
from tests.inventory.import_files import (
    HEADER,
    PNG,
    amsterdam_rows,
    csv_bytes,
    row,
    xlsx_bomb,
    xlsx_bytes,
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
    import io
    import zipfile

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


def test_damaged_xlsx(tmp_path):
    content = xlsx_bytes([row("+31205550000")])[:-200]
    assert "xlsx" in file_error(tmp_path, content, "numbers.xlsx")


def test_csv_with_binary_data(tmp_path):
    content = csv_bytes(amsterdam_rows(1)) + b"+31205550001,KPN\x00,NL\n"
    assert file_error(tmp_path, content) == "This is not a CSV text file (it contains binary data)."


def test_csv_with_a_huge_cell(tmp_path):
    content = csv_bytes(amsterdam_rows(2) + [row("+31205550009", notes="x" * 200_000)])
    assert file_error(tmp_path, content).startswith("Row 4: the CSV file is malformed")
