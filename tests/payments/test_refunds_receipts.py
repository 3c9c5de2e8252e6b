"""Receipts of top-ups: the PDF's figures and VAT wording, its issuer, who may open it."""

import io
import time
from decimal import Decimal

import pypdf
import pytest

from accounts.models import Brand
from billing.models import LedgerEntry
from billing.services import topup_record
from payments.services import receipts
from tests.billing.factories import fund, spend
from tests.factories import AccountFactory, UserFactory, platform
from tests.payments.refunds_helpers import paid_card

pytestmark = pytest.mark.postgres


def url(entry):
    return f"/payments/receipts/{entry.pk}/pdf/"


def pdf_text(response):
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    content = b"".join(response.streaming_content) if response.streaming else response.content
    reader = pypdf.PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


VAT_SENTENCE = "A prepaid top-up is not an invoice"


def test_card_topup_receipt_shows_the_figures(client, fake_stripe, customer_admin):
    payment = paid_card(fake_stripe, customer_admin, "75.00")
    entry = payment.ledger_entry
    client.force_login(customer_admin)
    text = pdf_text(client.get(url(entry)))
    assert f"RCT-{entry.pk:06d}" in text
    assert "75.00 USD" in text  # amount and, as the first top-up, the balance after
    assert "Card" in text and payment.reference in text
    assert VAT_SENTENCE in text and "VAT is invoiced when charges are made" in text
    assert "Test Carrier" in text  # the platform issues it
    assert customer_admin.account.name in text


def test_bank_topup_recorded_by_finance(client, customer_admin, finance_user):
    fund(customer_admin.account, "10.00")
    entry = topup_record(
        account=customer_admin.account,
        amount=Decimal("1234.5"),
        external_reference="BANK-REF-77",
        actor=finance_user,
    )
    client.force_login(customer_admin)
    text = pdf_text(client.get(url(entry)))
    assert "1,234.50 USD" in text
    assert "1,244.50 USD" in text  # balance after
    assert "Bank transfer" in text and "BANK-REF-77" in text
    assert VAT_SENTENCE in text


def test_reseller_issues_its_customers_receipts_under_its_brand(client, db):
    platform()
    reseller = AccountFactory(kind="reseller", name="Voxel Telecom BV")
    Brand.objects.create(account=reseller, display_name="Voxel Voice", invoice_footer="Thanks!")
    customer = AccountFactory(kind="customer", parent=reseller, name="Bakery")
    reseller_finance = UserFactory(account=reseller, role="reseller_finance")
    entry = topup_record(
        account=customer, amount=Decimal("20"), external_reference="R-1", actor=reseller_finance
    )
    client.force_login(UserFactory(account=customer, role="customer_billing"))
    text = pdf_text(client.get(url(entry)))
    assert "Voxel Voice" in text and "Thanks!" in text
    assert "Test Carrier" not in text
    # The reseller's own top-up (from the platform) is the platform's receipt.
    own = fund(reseller, "30.00")
    client.force_login(reseller_finance)
    text = pdf_text(client.get(url(own)))
    assert "Test Carrier" in text


def test_customer_text_prints_literally(client, customer_admin):
    account = customer_admin.account
    account.name = 'Evil <img src="file:///etc/passwd"> Ltd'
    account.save()
    entry = fund(account, "5.00")
    document = receipts.receipt_document(LedgerEntry.objects.get(pk=entry.pk))
    html = receipts.render_receipt_html(document)
    assert "&lt;img" in html and '<img src="file' not in html


def test_who_may_open_a_receipt(client, customer, customer_admin, stranger, finance_user):
    entry = fund(customer, "40.00")
    charge = spend(customer, "5.00")
    member = UserFactory(account=customer, role="customer_member")
    reseller = AccountFactory(kind="reseller")
    resold = AccountFactory(kind="customer", parent=reseller)
    resold_entry = fund(resold, "9.00")
    support = UserFactory(account=reseller, role="reseller_support")
    reseller_admin = UserFactory(account=reseller, role="reseller_admin")
    other_reseller_admin = UserFactory(
        account=AccountFactory(kind="reseller"), role="reseller_admin"
    )

    cases = [
        (customer_admin, entry, 200),
        (member, entry, 200),  # sees the balance page, so its receipts
        (finance_user, entry, 200),
        (stranger, entry, 404),
        (customer_admin, charge, 404),  # not a top-up
        (finance_user, charge, 404),
        (customer_admin, resold_entry, 404),
        (reseller_admin, resold_entry, 200),
        (support, resold_entry, 404),  # a reseller's support sees no money
        (other_reseller_admin, resold_entry, 404),
        (finance_user, resold_entry, 200),
    ]
    for user, row, expected in cases:
        client.force_login(user)
        got = client.get(url(row)).status_code
        assert got == expected, (user.role, row.kind, got)
    client.logout()
    assert client.get(url(entry)).status_code == 302
    client.force_login(customer_admin)
    assert client.get("/payments/receipts/999999999/pdf/").status_code == 404
    assert client.post(url(entry)).status_code == 405


def test_receipt_renders_fast_and_is_cached(customer):
    entry = LedgerEntry.objects.select_related("account").get(pk=fund(customer, "12.00").pk)
    started = time.perf_counter()
    name, first = receipts.receipt_pdf(entry)
    elapsed = time.perf_counter() - started
    assert name == f"RCT-{entry.pk:06d}.pdf" and first.startswith(b"%PDF")
    assert elapsed < 3  # a cold render (fonts loaded once per process); warm ones are far less
    started = time.perf_counter()
    assert receipts.receipt_pdf(entry)[1] == first
    assert time.perf_counter() - started < 0.3


def test_statement_rows_link_their_receipts(client, customer_admin, finance_user):
    entry = fund(customer_admin.account, "40.00")
    charge = spend(customer_admin.account, "5.00")
    client.force_login(customer_admin)
    page = client.get("/billing/balance/").content.decode()
    assert url(entry) in page and url(charge) not in page
    client.force_login(finance_user)
    page = client.get(f"/billing/balances/{customer_admin.account.pk}/").content.decode()
    assert url(entry) in page
