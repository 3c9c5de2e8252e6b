"""Statement parsers: CAMT.053 XML (through defusedxml) and the CSV layout."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from payments.references import reference_display, reference_for
from payments.statements import StatementError, parse_camt053, parse_csv, parse_statement
from tests.payments.bank_data import DATA, camt053, csv_statement

A, B = SimpleNamespace(pk=41), SimpleNamespace(pk=42)


def test_camt053_reads_booked_credits_and_skips_the_rest():
    parsed = parse_statement(camt053(A, B))
    assert parsed.format == "camt053"
    assert parsed.debits == 1 and parsed.not_booked == 1
    ids = [line.bank_transaction_id for line in parsed.lines]
    assert ids == [
        "BANK-20261201-0001",
        "BANK-20261201-0002",
        "BANK-20261201-0005",
        "BANK-20261201-0006",
        "BANK-20261201-0007/B1",  # a batch: the entry's id and the transaction's
        "BANK-20261201-0007-2",  # a batch transaction with its own bank reference
    ]
    first = parsed.lines[0]
    assert first.amount == Decimal("125.50") and first.currency == "USD"
    assert first.booking_date == date(2026, 12, 1)
    assert first.payer_name == "Bäckerei Schmidt GmbH"
    assert first.remittance == f"Top-up {reference_display(41)} thank you"
    assert parsed.lines[1].structured_reference == reference_for(42)
    assert parsed.lines[1].amount == Decimal("80.01")
    assert parsed.lines[3].currency == "EUR"
    assert [line.amount for line in parsed.lines[4:]] == [Decimal("10.00"), Decimal("5.25")]
    assert parsed.lines[4].payer_name == "Studio Lumen"


CAMT_ENTRY = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><Stmt>
<Ntry>{entry}</Ntry></Stmt></BkToCstmrStmt></Document>"""


def test_camt053_newer_version_status_code_datetime_and_entry_reference():
    entry = (
        '<Amt Ccy="USD">9.90</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        "<BookgDt><DtTm>2026-11-30T10:00:00+01:00</DtTm></BookgDt><NtryRef>E-1</NtryRef>"
        "<NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>New Style</Nm></Pty></Dbtr></RltdPties>"
        "<RmtInf><Ustrd>part one</Ustrd><Ustrd>part two</Ustrd></RmtInf></TxDtls></NtryDtls>"
    )
    (line,) = parse_camt053(CAMT_ENTRY.format(entry=entry).encode()).lines
    assert line.bank_transaction_id == "E-1"
    assert line.booking_date == date(2026, 11, 30)
    assert line.payer_name == "New Style"
    assert line.remittance == "part one part two"


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            '<Amt Ccy="USD">9.90</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
            "<BookgDt><Dt>2026-11-30</Dt></BookgDt>",
            "Entry 1: no bank reference",
        ),
        (
            '<Amt Ccy="USD">9,90</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
            "<BookgDt><Dt>2026-11-30</Dt></BookgDt><AcctSvcrRef>X</AcctSvcrRef>",
            "Entry 1: amount “9,90” is not a number",
        ),
        (
            "<Amt>9.90</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>"
            "<BookgDt><Dt>2026-11-30</Dt></BookgDt><AcctSvcrRef>X</AcctSvcrRef>",
            "Entry 1: the amount has no currency",
        ),
        (
            '<Amt Ccy="USD">9.90</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
            "<BookgDt><Dt>30.11.2026</Dt></BookgDt><AcctSvcrRef>X</AcctSvcrRef>",
            "Entry 1: booking date “30.11.2026” is not a date",
        ),
        (
            '<Amt Ccy="USD">9.90</Amt><CdtDbtInd>CREDIT</CdtDbtInd>',
            "Entry 1: CdtDbtInd is “CREDIT”",
        ),
    ],
)
def test_camt053_errors_name_the_entry(entry, message):
    with pytest.raises(StatementError, match=message):
        parse_camt053(CAMT_ENTRY.format(entry=entry).encode())


def test_malformed_xml_names_the_line():
    data = camt053(A, B).replace(b"</Ntry>", b"</Entry>", 1)
    with pytest.raises(StatementError, match=r"not well formed at line \d+, column \d+"):
        parse_statement(data)


def test_xml_that_is_not_a_camt053_statement_is_refused():
    with pytest.raises(StatementError, match="not a CAMT.053 bank statement"):
        parse_statement(b"<?xml version='1.0'?><html><body>hi</body></html>")


def test_external_entities_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    data = f"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file://{secret}">]>
<Document><BkToCstmrStmt><Stmt><Ntry><AcctSvcrRef>&xxe;</AcctSvcrRef></Ntry></Stmt>
</BkToCstmrStmt></Document>""".encode()
    with pytest.raises(StatementError, match="refused for safety") as caught:
        parse_statement(data)
    assert "top secret" not in str(caught.value)


def test_billion_laughs_is_refused():
    entities = "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    data = (
        '<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY lol0 "lol">'
        f"{entities}]><Document>&lol9;</Document>"
    ).encode()
    with pytest.raises(StatementError, match="refused for safety"):
        parse_statement(data)


def test_xml_in_another_encoding_than_declared_is_refused():
    data = camt053(A, B).decode().encode("latin-1")  # "Bäckerei" is not UTF-8 now
    with pytest.raises(StatementError, match="not well formed at line"):
        parse_statement(data)


@pytest.mark.parametrize("data", [b"", b"   \n\n", b"\xef\xbb\xbf"])
def test_an_empty_file_is_refused(data):
    with pytest.raises(StatementError, match="empty"):
        parse_statement(data)


def test_csv_reads_credits_and_skips_debits():
    parsed = parse_statement(csv_statement(A, B))
    assert parsed.format == "csv"
    assert parsed.debits == 1
    assert [(line.bank_transaction_id, line.amount, line.currency) for line in parsed.lines] == [
        ("CSV-0001", Decimal("125.50"), "USD"),
        ("CSV-0003", Decimal("19.99"), "USD"),
        ("CSV-0004", Decimal("7.00"), "USD"),
    ]
    assert parsed.lines[0].remittance == f"Top-up {reference_display(41)}, thanks"
    assert parsed.lines[0].payer_name == "Bäckerei Schmidt GmbH"
    assert parsed.lines[0].where == "row 2"


def test_csv_with_semicolons_a_bom_and_description_column():
    data = (
        "\ufeffTransaction_ID;Date;Amount;Currency;Description\r\nT1;2026-12-01;10.00;USD;hello\r\n"
    ).encode()
    (line,) = parse_csv(data).lines
    assert (line.bank_transaction_id, line.remittance) == ("T1", "hello")


HEADER = "date,amount,currency,reference,transaction_id,payer\n"


@pytest.mark.parametrize(
    "rows, message",
    [
        ('2026-12-01,12.50,USD,x,T1,p\n2026-12-01,"1,250.00",USD,x,T2,p\n', "Row 3: amount"),
        ("01/12/2026,12.50,USD,x,T1,p\n", "Row 2: date “01/12/2026” is not a date as YYYY-MM-DD"),
        ("2026-12-01,12.50,US,x,T1,p\n", "Row 2: currency “US”"),
        ("2026-12-01,12.50,USD,x,,p\n", "Row 2: the transaction id is empty"),
        ("2026-12-01,12.505,USD,x,T1,p\n", "Row 2: amount “12.505”"),
    ],
)
def test_csv_errors_name_the_row(rows, message):
    with pytest.raises(StatementError, match=message):
        parse_csv((HEADER + rows).encode())


def test_csv_without_the_required_columns_is_refused():
    with pytest.raises(StatementError, match="Row 1 \\(header\\): missing columns amount, "):
        parse_csv(b"date,total,currency,reference,id\n2026-12-01,1,USD,x,y\n")


def test_csv_not_in_utf8_names_the_line():
    data = (HEADER + "2026-12-01,1.00,USD,Café,T1,p\n").encode("latin-1")
    with pytest.raises(StatementError, match="Line 2: the file is not UTF-8"):
        parse_statement(data)


def test_the_sample_files_are_in_the_test_data_folder():
    assert (DATA / "camt053_sample.xml").exists() and (DATA / "statement_sample.csv").exists()
