"""Bank statements reconciled: upload → match → confirm, once, for the right seller only."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from billing.models import Balance, LedgerEntry
from billing.services import topup_record
from payments.models import BankStatement, BankStatementLine
from payments.references import reference_display, reference_for
from payments.services import bank
from payments.statements import StatementError
from tests.concurrency import run_in_threads
from tests.factories import AccountFactory, UserFactory, platform
from tests.payments.bank_data import camt053, csv_statement

pytestmark = pytest.mark.postgres

Status = BankStatementLine.Status
D = Decimal


@pytest.fixture
def direct_a(db):
    return AccountFactory(name="Direct A", parent=platform())


@pytest.fixture
def direct_b(db):
    return AccountFactory(name="Direct B", parent=platform())


@pytest.fixture
def resold(reseller):
    return AccountFactory(name="Resold C", parent=reseller)


@pytest.fixture
def reseller_finance(reseller):
    return UserFactory(account=reseller, role="reseller_finance")


def balance(account):
    row = Balance.objects.filter(account=account).first()
    return row.amount if row else D("0.00")


def upload(user, data, filename="statement.xml"):
    return bank.statement_upload(user=user, filename=filename, data=data)


def confirm_all(user, statement):
    return bank.lines_confirm(
        user=user, line_ids=bank.proposed_ids(user=user, statement_id=statement.pk)
    )


def test_upload_matches_by_reference_and_books_nothing(db, finance_user, direct_a, direct_b):
    result = upload(finance_user, camt053(direct_a, direct_b))
    assert (result.read, result.new, result.known) == (6, 6, 0)
    assert (result.proposed, result.unmatched, result.debits, result.not_booked) == (3, 3, 1, 1)
    lines = {line.bank_transaction_id: line for line in result.statement.lines.all()}
    assert lines["BANK-20261201-0001"].account == direct_a
    assert lines["BANK-20261201-0001"].reference == reference_for(direct_a.pk)
    assert lines["BANK-20261201-0002"].account == direct_b
    assert lines["BANK-20261201-0007/B1"].account == direct_b
    assert lines["BANK-20261201-0005"].status == Status.UNMATCHED
    eur = lines["BANK-20261201-0006"]
    assert eur.status == Status.UNMATCHED and eur.account is None
    assert "Paid in EUR" in eur.note
    assert not LedgerEntry.objects.filter(kind="topup").exists()
    assert result.statement.seller == platform()


def test_confirm_credits_the_balances_to_the_cent_once(db, finance_user, direct_a, direct_b):
    statement = upload(finance_user, camt053(direct_a, direct_b)).statement
    booking = confirm_all(finance_user, statement)
    assert len(booking.booked) == 3 and booking.total == D("215.51")
    assert balance(direct_a) == D("125.50")
    assert balance(direct_b) == D("90.01")
    entry = LedgerEntry.objects.get(external_reference="BANK-20261201-0002")
    assert (entry.method, entry.kind, entry.account) == ("bank_transfer", "topup", direct_b)
    assert entry.created_by == finance_user
    line = BankStatementLine.objects.get(bank_transaction_id="BANK-20261201-0002")
    assert line.status == Status.BOOKED and line.ledger_entry == entry
    # A second confirm books nothing.
    again = bank.lines_confirm(user=finance_user, line_ids=[line.pk for line in booking.booked])
    assert again.booked == [] and again.refused == []
    assert LedgerEntry.objects.filter(kind="topup").count() == 3
    assert balance(direct_b) == D("90.01")


def test_the_same_file_twice_books_nothing_new(db, finance_user, direct_a, direct_b):
    data = camt053(direct_a, direct_b)
    confirm_all(finance_user, upload(finance_user, data).statement)
    with pytest.raises(bank.AlreadyUploaded, match="uploaded already"):
        upload(finance_user, data)
    assert BankStatement.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="topup").count() == 3


def test_a_line_in_two_statements_is_booked_once(db, finance_user, direct_a, direct_b):
    first = upload(finance_user, camt053(direct_a, direct_b)).statement
    # The next day's statement repeats entry 1 (same bank reference) and adds one.
    data = camt053(direct_a, direct_b).replace(b"STMT-TEST-20261201-1", b"STMT-TEST-20261202-1")
    second = upload(finance_user, data)
    assert (second.read, second.new, second.known) == (6, 0, 6)
    assert second.statement.lines_new == 0
    confirm_all(finance_user, first)
    confirm_all(finance_user, second.statement)
    assert balance(direct_a) == D("125.50")
    csv = csv_statement(direct_a, direct_b)
    result = upload(finance_user, csv, "statement.csv")
    assert (result.new, result.proposed, result.unmatched) == (3, 2, 1)
    confirm_all(finance_user, result.statement)
    assert balance(direct_a) == D("251.00")
    assert balance(direct_b) == D("110.00")
    assert not upload(finance_user, csv.replace(b"\n", b"\r\n"), "again.csv").new


def test_duplicate_ids_in_one_file_count_once(db, finance_user, direct_a):
    row = f"2026-12-01,10.00,USD,{reference_for(direct_a.pk)},T-1,x\n"
    data = ("date,amount,currency,reference,transaction_id,payer\n" + row + row).encode()
    result = upload(finance_user, data, "dup.csv")
    assert (result.read, result.new, result.known) == (2, 1, 1)


@pytest.mark.django_db(transaction=True)
def test_two_confirms_at_once_book_once(finance_user, direct_a, direct_b):
    statement = upload(finance_user, camt053(direct_a, direct_b)).statement
    ids = bank.proposed_ids(user=finance_user, statement_id=statement.pk)

    results = run_in_threads(lambda i: bank.lines_confirm(user=finance_user, line_ids=ids), count=2)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(len(r.booked) for r in results) == [0, 3]
    assert LedgerEntry.objects.filter(kind="topup").count() == 3
    assert balance(direct_a) == D("125.50") and balance(direct_b) == D("90.01")


def test_reseller_finance_matches_only_its_own_customers(
    db, finance_user, reseller_finance, resold, direct_a
):
    data = camt053(resold, direct_a)  # entry 1 quotes Resold C, entry 2 Direct A
    mine = upload(reseller_finance, data).statement
    assert mine.seller == reseller_finance.account
    lines = {line.bank_transaction_id: line for line in mine.lines.all()}
    assert lines["BANK-20261201-0001"].account == resold
    other = lines["BANK-20261201-0002"]
    assert other.status == Status.UNMATCHED and other.account is None
    assert "not the reference of an account you collect for" in other.note
    assert "Direct A" not in other.note
    booking = confirm_all(reseller_finance, mine)
    assert [line.account for line in booking.booked] == [resold]
    assert balance(resold) == D("125.50") and balance(direct_a) == D("0.00")
    # The platform's upload of the same file is its own: Direct A matched, Resold C not.
    platform_side = upload(finance_user, data).statement
    lines = {line.bank_transaction_id: line for line in platform_side.lines.all()}
    assert lines["BANK-20261201-0002"].account == direct_a
    assert lines["BANK-20261201-0001"].status == Status.UNMATCHED
    # Neither seller can confirm, assign or ignore the other's lines.
    theirs = [line.pk for line in mine.lines.all()]
    assert bank.lines_confirm(user=finance_user, line_ids=theirs).booked == []
    with pytest.raises(ValidationError):
        bank.line_ignore(user=finance_user, line_id=theirs[0], note="not ours")


def test_a_reseller_cannot_assign_to_an_account_it_does_not_collect_for(
    db, reseller_finance, resold, direct_a
):
    statement = upload(reseller_finance, camt053(resold, direct_a)).statement
    line = statement.lines.get(bank_transaction_id="BANK-20261201-0005")
    with pytest.raises(ValidationError, match="accounts you collect for"):
        bank.line_assign(user=reseller_finance, line_id=line.pk, account_id=direct_a.pk)
    line.refresh_from_db()
    assert line.status == Status.UNMATCHED


def test_assign_by_hand_then_book(db, finance_user, direct_a, direct_b):
    statement = upload(finance_user, camt053(direct_a, direct_b)).statement
    line = statement.lines.get(bank_transaction_id="BANK-20261201-0005")
    bank.line_assign(user=finance_user, line_id=line.pk, account_id=direct_a.pk)
    line.refresh_from_db()
    assert (line.status, line.account, line.decided_by) == (Status.PROPOSED, direct_a, finance_user)
    bank.lines_confirm(user=finance_user, line_ids=[line.pk])
    assert balance(direct_a) == D("40.00")
    batch = statement.lines.get(bank_transaction_id="BANK-20261201-0007-2")
    bank.line_assign(user=finance_user, line_id=batch.pk, account_id=direct_b.pk, book=True)
    batch.refresh_from_db()
    assert batch.status == Status.BOOKED and balance(direct_b) == D("5.25")
    with pytest.raises(ValidationError, match="settled meanwhile"):
        bank.line_assign(user=finance_user, line_id=batch.pk, account_id=direct_a.pk)


def test_a_payment_in_another_currency_cannot_be_assigned(db, finance_user, direct_a, direct_b):
    statement = upload(finance_user, camt053(direct_a, direct_b)).statement
    eur = statement.lines.get(bank_transaction_id="BANK-20261201-0006")
    with pytest.raises(ValidationError, match="kept in USD; this payment is in EUR"):
        bank.line_assign(user=finance_user, line_id=eur.pk, account_id=direct_a.pk)


def test_ignore_needs_a_note_and_can_be_undone(db, finance_user, direct_a, direct_b):
    statement = upload(finance_user, camt053(direct_a, direct_b)).statement
    line = statement.lines.get(bank_transaction_id="BANK-20261201-0006")
    with pytest.raises(ValidationError, match="Say why"):
        bank.line_ignore(user=finance_user, line_id=line.pk, note="  ")
    bank.line_ignore(user=finance_user, line_id=line.pk, note="Sent back to the payer")
    line.refresh_from_db()
    assert (line.status, line.note) == (Status.IGNORED, "Sent back to the payer")
    bank.line_reopen(user=finance_user, line_id=line.pk)
    line.refresh_from_db()
    assert line.status == Status.UNMATCHED


def test_a_transfer_recorded_by_hand_before_is_linked_not_credited_again(
    db, finance_user, direct_a, direct_b
):
    topup_record(
        account=direct_a,
        amount=D("125.50"),
        external_reference="BANK-20261201-0001",
        actor=finance_user,
    )
    statement = upload(finance_user, camt053(direct_a, direct_b)).statement
    booking = confirm_all(finance_user, statement)
    assert balance(direct_a) == D("125.50")
    line = statement.lines.get(bank_transaction_id="BANK-20261201-0001")
    assert line.status == Status.BOOKED and "Recorded by hand" in line.note
    assert [line.bank_transaction_id for line, _ in booking.refused] == ["BANK-20261201-0001"]


def test_a_reference_already_used_elsewhere_is_not_booked(db, finance_user, direct_a, direct_b):
    topup_record(
        account=direct_b,
        amount=D("1.00"),
        external_reference="BANK-20261201-0001",
        actor=finance_user,
    )
    statement = upload(finance_user, camt053(direct_a, direct_b)).statement
    confirm_all(finance_user, statement)
    line = statement.lines.get(bank_transaction_id="BANK-20261201-0001")
    assert line.status == Status.UNMATCHED and "credited by another top-up" in line.note
    assert balance(direct_a) == D("0.00")


def test_size_cap_no_credit_and_errors_save_nothing(db, finance_user, direct_a, direct_b, settings):
    settings.BANK_STATEMENT_MAX_BYTES = 100
    with pytest.raises(StatementError, match="largest statement accepted is 100 bytes"):
        upload(finance_user, camt053(direct_a, direct_b))
    settings.BANK_STATEMENT_MAX_BYTES = 10_000_000
    with pytest.raises(StatementError, match="No booked credit"):
        upload(finance_user, b"date,amount,currency,transaction_id\n2026-12-01,-5.00,USD,T1\n")
    good = f"2026-12-01,10.00,USD,{reference_display(direct_a.pk)},T1,x\n"
    bad = "2026-12-01,ten,USD,x,T2,x\n"
    with pytest.raises(StatementError, match="Row 3"):
        upload(
            finance_user,
            f"date,amount,currency,reference,transaction_id,payer\n{good}{bad}".encode(),
        )
    assert not BankStatement.objects.exists() and not BankStatementLine.objects.exists()


@pytest.mark.parametrize("role", ["customer_admin", "reseller_support"])
def test_only_finance_reconciles(request, role, reseller, direct_a, direct_b):
    user = (
        request.getfixturevalue("customer_admin")
        if role == "customer_admin"
        else UserFactory(account=reseller, role=role)
    )
    with pytest.raises(PermissionDenied):
        upload(user, camt053(direct_a, direct_b))
