"""The bank pages through the test client: a real multipart upload, the two-step confirm,
the unmatched queue, and who may open what."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing.models import Balance, LedgerEntry
from payments.models import BankStatement, BankStatementLine
from payments.references import reference_display
from tests.billing.test_invoice_selectors import make_invoice
from tests.billing.test_invoice_views import pdf_text
from tests.factories import AccountFactory, UserFactory, platform
from tests.payments.bank_data import camt053, csv_statement

pytestmark = pytest.mark.postgres

D = Decimal


@pytest.fixture
def direct_a(db):
    return AccountFactory(name="Direct A", parent=platform())


@pytest.fixture
def direct_b(db):
    return AccountFactory(name="Direct B", parent=platform())


@pytest.fixture
def finance(client, finance_user):
    client.force_login(finance_user)
    return client


def post_file(client, data, name="statement.xml"):
    return client.post(
        reverse("payments:bank_statements"), {"file": SimpleUploadedFile(name, data)}
    )


def balance(account):
    row = Balance.objects.filter(account=account).first()
    return row.amount if row else D("0.00")


def test_upload_review_confirm_through_the_pages(finance, direct_a, direct_b):
    response = post_file(finance, camt053(direct_a, direct_b))
    statement = BankStatement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:bank_statement", args=[statement.pk])
    page = finance.get(response["Location"])
    content = page.content.decode()
    assert "6 credit line(s) read: 3 matched to an account, 3 unmatched" in content
    assert "Bäckerei Schmidt GmbH" in content and "Paid in EUR" in content
    assert content.count('name="line"') == 3
    proposed = list(statement.lines.filter(status="proposed").values_list("pk", flat=True))
    # Step one asks: nothing is booked yet.
    confirm_url = reverse("payments:bank_confirm", args=[statement.pk])
    ask = finance.post(confirm_url, {"line": proposed[:2]})
    assert ask.status_code == 200
    assert "Book 2 transfers?" in ask.content.decode()
    assert ask.context["total"] == D("205.51")
    assert not LedgerEntry.objects.filter(kind="topup").exists()
    # Step two books what was shown.
    done = finance.post(confirm_url, {"line": proposed[:2], "confirmed": "1"}, follow=True)
    assert "Booked 2 transfer(s), 205.51 in all" in done.content.decode()
    assert balance(direct_a) == D("125.50") and balance(direct_b) == D("80.01")
    # "All" takes the rest; a repeat books nothing.
    finance.post(confirm_url, {"all": "1", "confirmed": "1"})
    assert balance(direct_b) == D("90.01")
    again = finance.post(confirm_url, {"all": "1", "confirmed": "1"}, follow=True)
    assert "Nothing to book" in again.content.decode()
    assert LedgerEntry.objects.filter(kind="topup").count() == 3


def test_confirm_without_a_choice_says_so(finance, direct_a, direct_b):
    post_file(finance, camt053(direct_a, direct_b))
    statement = BankStatement.objects.get()
    response = finance.post(
        reverse("payments:bank_confirm", args=[statement.pk]), {"line": "x,;"}, follow=True
    )
    assert "Tick the lines to book" in response.content.decode()


def test_a_second_upload_of_the_same_file_is_refused_and_links_the_first(
    finance, direct_a, direct_b
):
    data = csv_statement(direct_a, direct_b)
    post_file(finance, data, "a.csv")
    response = post_file(finance, data, "b.csv")
    assert response.status_code == 400
    content = response.content.decode()
    assert "This file was uploaded already" in content
    assert reverse("payments:bank_statement", args=[BankStatement.objects.get().pk]) in content


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "The submitted file is empty."),
        (b"<Document><BkToCstmrStmt><Stmt><Ntry>", "not well formed at line 1"),
        (b"date,amount,currency,transaction_id\n2026-12-01,1.0.0,USD,T\n", "Row 2: amount"),
    ],
)
def test_a_bad_file_shows_why_and_saves_nothing(finance, data, message):
    response = post_file(finance, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BankStatement.objects.exists()


def test_an_oversized_upload_is_refused_by_the_form(finance, settings, direct_a, direct_b):
    settings.BANK_STATEMENT_MAX_BYTES = 1000
    response = post_file(finance, camt053(direct_a, direct_b))
    assert response.status_code == 400
    assert "the largest statement accepted is 1,000 bytes" in response.content.decode()
    assert not BankStatement.objects.exists()


def test_empty_states(finance):
    assert (
        "No statement uploaded yet"
        in finance.get(reverse("payments:bank_statements")).content.decode()
    )
    assert "Nothing to sort out" in finance.get(reverse("payments:bank_unmatched")).content.decode()


def test_unmatched_queue_search_assign_and_ignore(finance, direct_a, direct_b):
    post_file(finance, camt053(direct_a, direct_b))
    queue = finance.get(reverse("payments:bank_unmatched")).content.decode()
    assert "Someone Unknown" in queue and "No payment reference found." in queue
    line = BankStatementLine.objects.get(bank_transaction_id="BANK-20261201-0005")
    url = reverse("payments:bank_line", args=[line.pk])
    found = finance.get(url, {"q": "direct a"})
    assert [a.pk for a in found.context["found"]] == [direct_a.pk]
    by_reference = finance.get(url, {"q": reference_display(direct_b.pk)})
    assert [a.pk for a in by_reference.context["found"]] == [direct_b.pk]
    assert finance.get(url, {"q": "\x00"}).status_code == 200
    finance.post(
        reverse("payments:bank_line_assign", args=[line.pk]), {"account": direct_a.pk, "book": "1"}
    )
    assert balance(direct_a) == D("40.00")
    other = BankStatementLine.objects.get(bank_transaction_id="BANK-20261201-0006")
    bad = finance.post(reverse("payments:bank_line_assign", args=[other.pk]), {"account": "abc"})
    assert bad.status_code == 200 and "Enter a whole number" in bad.content.decode()
    refused = finance.post(reverse("payments:bank_line_ignore", args=[other.pk]), {"note": ""})
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    finance.post(
        reverse("payments:bank_line_ignore", args=[other.pk]), {"note": "Wrong currency, sent back"}
    )
    other.refresh_from_db()
    assert other.status == "ignored"


def test_pages_of_another_seller_are_404_and_customers_403(
    client, finance_user, reseller, direct_a, direct_b, customer_admin
):
    client.force_login(finance_user)
    post_file(client, camt053(direct_a, direct_b))
    statement = BankStatement.objects.get()
    line = statement.lines.first()
    client.force_login(UserFactory(account=reseller, role="reseller_finance"))
    assert client.get(reverse("payments:bank_statements")).status_code == 200
    for name, pk in [
        ("payments:bank_statement", statement.pk),
        ("payments:bank_line", line.pk),
    ]:
        assert client.get(reverse(name, args=[pk])).status_code == 404
    for name, pk, data in [
        ("payments:bank_confirm", statement.pk, {"all": "1", "confirmed": "1"}),
        ("payments:bank_line_assign", line.pk, {"account": direct_a.pk}),
        ("payments:bank_line_ignore", line.pk, {"note": "x"}),
        ("payments:bank_line_reopen", line.pk, {}),
    ]:
        assert client.post(reverse(name, args=[pk]), data).status_code == 404
    assert not LedgerEntry.objects.filter(kind="topup").exists()
    client.force_login(customer_admin)
    assert client.get(reverse("payments:bank_statements")).status_code == 403
    client.force_login(UserFactory(account=reseller, role="reseller_support"))
    assert client.get(reverse("payments:bank_unmatched")).status_code == 403


def test_reseller_finance_sees_only_its_customers(client, reseller, direct_a):
    resold = AccountFactory(name="Resold C", parent=reseller)
    client.force_login(UserFactory(account=reseller, role="reseller_finance"))
    post_file(client, camt053(resold, direct_a))
    statement = BankStatement.objects.get()
    assert statement.seller == reseller
    page = client.get(
        reverse("payments:bank_line", args=[statement.lines.first().pk]), {"q": "Direct"}
    )
    assert list(page.context["found"]) == []
    client.post(
        reverse("payments:bank_confirm", args=[statement.pk]), {"all": "1", "confirmed": "1"}
    )
    assert balance(resold) == D("125.50") and balance(direct_a) == D("0.00")


def test_paginated_statement_lines(finance, direct_a):
    rows = "".join(f"2026-12-01,1.00,USD,x,T{i},p\n" for i in range(60))
    post_file(
        finance,
        ("date,amount,currency,reference,transaction_id,payer\n" + rows).encode(),
        "many.csv",
    )
    statement = BankStatement.objects.get()
    url = reverse("payments:bank_statement", args=[statement.pk])
    assert len(finance.get(url).context["page"].object_list) == 50
    assert len(finance.get(url, {"page": 2}).context["page"].object_list) == 10
    assert finance.get(url, {"page": "x", "status": "nonsense"}).status_code == 200
    assert list(finance.get(url, {"status": "proposed"}).context["page"].object_list) == []


# --- The reference where customers see it ------------------------------------------------


def test_balance_page_and_invoice_show_the_reference(client, customer_admin, settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    account = customer_admin.account
    reference = reference_display(account.pk)
    client.force_login(customer_admin)
    balance_page = client.get(reverse("billing:balance")).content.decode()
    assert reference in balance_page and "ACCOUNT-" not in balance_page
    invoice = make_invoice(account, date(2026, 3, 2), "12.50", "2.63", "21")
    detail = client.get(reverse("billing:invoice", args=[invoice.pk])).content.decode()
    assert f'quoting <strong class="font-tabular text-nowrap">{reference}</strong>' in detail
    assert settings.BILLING_BANK_DETAILS in detail
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    text = pdf_text(b"".join(response.streaming_content))
    assert f"by bank transfer quoting {reference}" in text


def test_a_resellers_customer_is_told_to_pay_the_reseller(client, reseller):
    from accounts.models import Brand  # noqa: PLC0415

    Brand.objects.create(
        account=reseller, display_name="Voxel Voice", bank_details="IBAN DE00 VOXEL"
    )
    resold = AccountFactory(parent=reseller)
    client.force_login(UserFactory(account=resold, role="customer_admin"))
    content = client.get(reverse("billing:balance")).content.decode()
    assert "Voxel Voice’s bank account" in content and "IBAN DE00 VOXEL" in content
    assert reference_display(resold.pk) in content
