"""manage.py import_dids FILE [--dry-run]."""

import pytest
from django.core.management import CommandError, call_command

from inventory.models import DID, ImportBatch, NumberBlock
from tests.inventory.factories import OperatorFactory
from tests.inventory.import_files import amsterdam_rows, csv_bytes, row

pytestmark = pytest.mark.django_db


@pytest.fixture
def file(tmp_path):
    OperatorFactory(name="KPN")

    def write(rows, name="numbers.csv"):
        path = tmp_path / name
        path.write_bytes(csv_bytes(rows))
        return str(path)

    return write


def run(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("import_dids", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_dry_run_saves_nothing(file):
    out, _ = run(file(amsterdam_rows(4)), "--dry-run")
    assert out == "Would import 4 numbers into 1 blocks (1 new).\n"
    assert not DID.objects.exists() and not NumberBlock.objects.exists()


def test_import_with_a_user(file, platform_admin):
    out, _ = run(file(amsterdam_rows(4)), "--user", platform_admin.email)
    assert out == "Imported 4 numbers into 1 blocks (1 new).\n"
    batch = ImportBatch.objects.get()
    assert (batch.created_by, batch.number_count, batch.job) == (platform_admin, 4, None)
    assert DID.objects.filter(import_batch=batch).count() == 4


def test_import_without_a_user_is_signed_by_the_command(file):
    run(file(amsterdam_rows(1)))
    batch = DID.objects.get().import_batch
    assert (batch.created_by, batch.reason) == (None, "import_dids: imported from numbers.csv")


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_bad_rows_exit_non_zero_and_are_printed(file, capsys, dry_run):
    rows = amsterdam_rows(3) + [row("+31205550000"), row("+3120", status="sold")]
    with pytest.raises(CommandError, match="Nothing was imported."):
        run(file(rows), *dry_run)
    assert not DID.objects.exists()


def test_bad_rows_report(file):
    from io import StringIO

    err = StringIO()
    rows = amsterdam_rows(3) + [row("+31205550000"), row("+3120", status="sold")]
    with pytest.raises(CommandError):
        call_command("import_dids", file(rows), stdout=StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [
        "row 5, number: +31205550000 is also on row 2.",
        "row 6, number: +3120 is not a valid NL number.",
        "row 6, status: numbers are imported as in_stock, reserved or archive.",
        "3 errors.",
    ]


def test_exit_code_from_the_command_line(file, capsys):
    from django.core.management import execute_from_command_line

    bad = file([row("+31205550000", operator="Nope")])
    with pytest.raises(SystemExit) as exc_info:
        execute_from_command_line(["manage.py", "import_dids", bad, "--dry-run"])
    assert exc_info.value.code == 1
    err = capsys.readouterr().err
    assert "row 2, operator: no operator is named “Nope”" in err
    assert "CommandError: Nothing was imported." in err


def test_bad_file(file, tmp_path):
    path = tmp_path / "numbers.xls"
    path.write_bytes(b"whatever")
    from io import StringIO

    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_dids", str(path), stdout=StringIO(), stderr=err)
    assert "Only .csv and .xlsx files can be imported" in err.getvalue()


def test_missing_file(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        run(str(tmp_path / "nope.csv"))
