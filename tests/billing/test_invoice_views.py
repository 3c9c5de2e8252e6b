"""Invoice pages: who sees what, the PDF download, the finance list, CSV, void, reports."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pypdf
import pytest
import time_machine
from django.urls import reverse

from billing.models import Invoice
from billing.services import invoices as invoice_services
from tests.billing.test_invoice_selectors import make_invoice, void
from tests.factories import AccountFactory, UserFactory, platform

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"


@pytest.fixture
def invoice(customer):
    return make_invoice(customer, date(2026, 3, 2), "12.50", "2.63", "21")


def pdf_text(content):
    reader = pypdf.PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


# --- Access ---------------------------------------------------------------------------------

CUSTOMER_PAGES = ["billing:invoices", "billing:invoice", "billing:invoice_pdf"]
FINANCE_PAGES = [
    "billing:invoice_list",
    "billing:invoice_export",
    "billing:reports",
    "billing:invoice_void",
]


def url_for(name, invoice):
    needs_pk = name in {"billing:invoice", "billing:invoice_pdf", "billing:invoice_void"}
    return reverse(name, args=[invoice.pk] if needs_pk else [])


@pytest.mark.parametrize("name", CUSTOMER_PAGES + FINANCE_PAGES)
@pytest.mark.parametrize(
    "role, customer_pages, finance_pages",
    [
        ("customer_admin", 200, 403),
        ("customer_member", 200, 403),
        ("stranger", 404, 403),
        ("reseller_admin", 404, 403),  # its own invoices only: this one is another's
        ("finance_user", 200, 200),
        ("platform_admin", 200, 200),
    ],
)
def test_who_may_open_each_page(
    client, request, invoice, name, role, customer_pages, finance_pages
):
    client.force_login(request.getfixturevalue(role))
    expected = customer_pages if name in CUSTOMER_PAGES else finance_pages
    if role in {"stranger", "reseller_admin"} and name == "billing:invoices":
        expected = 200  # their own (empty) list
    if role == "reseller_admin" and name == "billing:invoice_void":
        expected = 404  # may void what its reseller issued: not this one
    response = client.get(url_for(name, invoice))
    if name == "billing:invoices" and role in {"finance_user", "platform_admin"}:
        assert response.status_code == 302
        assert response.url == reverse("billing:invoice_list")
    else:
        assert response.status_code == expected


def test_the_reseller_of_a_customer_opens_the_invoices_it_issued_only(
    client, reseller, reseller_admin
):
    """Issue 11: a reseller invoices its customers. An invoice the platform issued to one of
    them (before the reseller invoiced its own) stays between the platform and the customer."""
    resold = AccountFactory(parent=reseller)
    issued = make_invoice(resold, date(2026, 3, 2))
    assert issued.issuer == reseller
    earlier = make_invoice(resold, date(2026, 3, 3))
    Invoice.objects.filter(pk=earlier.pk).update(issuer=platform())
    client.force_login(reseller_admin)
    for name in CUSTOMER_PAGES[1:]:
        assert client.get(url_for(name, issued)).status_code == 200
        assert client.get(url_for(name, earlier)).status_code == 404
    # Its support looks after numbers, not money: no customer's invoice.
    client.force_login(UserFactory(account=reseller, role="reseller_support"))
    for name in CUSTOMER_PAGES[1:]:
        assert client.get(url_for(name, issued)).status_code == 403
    assert client.get(reverse("billing:invoices")).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, invoice):
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 302 and reverse("accounts:login") in response.url


# --- Customer pages -------------------------------------------------------------------------


def test_customer_list_shows_own_invoices_newest_first(client, customer, customer_member, stranger):
    older = make_invoice(customer, date(2026, 1, 5), "1.00", "0.21")
    newer = make_invoice(customer, date(2026, 2, 5), "2.00", "0.42", source="daily")
    theirs = make_invoice(stranger.account, date(2026, 3, 5), "77.00", "16.17")
    client.force_login(customer_member)
    response = client.get(reverse("billing:invoices"))
    assert list(response.context["page"].object_list) == [newer, older]
    content = body(response)
    assert newer.number in content and "Daily charges" in content and "2.42" in content
    assert theirs.number not in content and "93.17" not in content
    assert reverse("billing:invoice_pdf", args=[newer.pk]) in content


def test_customer_list_is_paginated(client, customer, customer_admin):
    for day in range(1, 28):
        make_invoice(customer, date(2026, 1, day))
    client.force_login(customer_admin)
    page = client.get(reverse("billing:invoices") + "?page=2").context["page"]
    assert (page.number, page.paginator.num_pages, len(page.object_list)) == (2, 2, 2)


def test_customer_list_empty_state(client, customer_admin):
    client.force_login(customer_admin)
    assert "No invoices yet" in body(client.get(reverse("billing:invoices")))


def test_detail_shows_lines_totals_and_no_void_for_customers(client, customer, customer_admin):
    invoice = make_invoice(
        customer, date(2026, 3, 2), "10.00", "2.10", "21", extra_lines=[("1.05", "0.22", "21")]
    )
    client.force_login(customer_admin)
    response = client.get(reverse("billing:invoice", args=[invoice.pk]))
    content = body(response)
    assert "Number +31 20 555 0100: monthly fee" in content and "Setup fee" in content
    for figure in ("10.00", "1.05", "0.22", "11.05", "2.32", "13.37", "21%"):
        assert figure in content, figure
    assert reverse("billing:invoice_pdf", args=[invoice.pk]) in content
    assert reverse("billing:invoice_void", args=[invoice.pk]) not in content


def test_detail_shows_the_reverse_charge_note(client, customer, customer_admin):
    invoice = make_invoice(
        customer, date(2026, 3, 2), "10.00", "0.00", "0", tax_country="FR", reverse_charge=True
    )
    client.force_login(customer_admin)
    content = body(client.get(reverse("billing:invoice", args=[invoice.pk])))
    assert "reverse-charge-note" in content and "Article 196" in content


def test_customer_text_is_escaped_on_the_detail_page(client, customer, customer_admin):
    customer.address = '<script>alert("x")</script>'
    customer.save()
    invoice = make_invoice(customer, date(2026, 3, 2))
    client.force_login(customer_admin)
    content = body(client.get(reverse("billing:invoice", args=[invoice.pk])))
    assert '<script>alert("x")</script>' not in content
    assert "&lt;script&gt;" in content


# --- PDF ------------------------------------------------------------------------------------


def test_pdf_is_rendered_on_demand_and_served_privately(client, invoice, customer_member):
    assert invoice.pdf_path == ""  # the task has not run
    client.force_login(customer_member)
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    content = b"".join(response.streaming_content)
    text = pdf_text(content)
    assert invoice.number in text and "15.13" in text
    invoice.refresh_from_db()
    assert invoice.pdf_path == f"invoices/2026/{invoice.number}.pdf"


def test_a_rendered_pdf_is_served_without_rendering_again(
    client, invoice, customer_admin, monkeypatch
):
    invoice_services.invoice_pdf_render(invoice_id=invoice.pk)

    def refuse(**kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(invoice_services, "invoice_pdf_render", refuse)
    client.force_login(customer_admin)
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_a_pdf_printed_before_void_is_printed_again(client, invoice, finance_user):
    invoice_services.invoice_pdf_render(invoice_id=invoice.pk)
    void(invoice, reason="Wrong buyer")  # the re-render task has not run
    client.force_login(finance_user)
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert "Wrong buyer" in pdf_text(b"".join(response.streaming_content))


@pytest.mark.parametrize("tampered", ["../../../etc/passwd", "/etc/passwd", "invoices/../../x"])
def test_a_tampered_pdf_path_outside_the_root_is_refused(
    client, invoice, customer_admin, tampered, monkeypatch
):
    invoice_services.invoice_pdf_render(invoice_id=invoice.pk)
    Invoice.objects.filter(pk=invoice.pk).update(pdf_path=tampered)
    monkeypatch.setattr(invoice_services, "invoice_pdf_render", lambda **kw: tampered)
    client.force_login(customer_admin)
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 404
    assert b"root:" not in response.content


def test_a_failed_render_is_a_message_not_a_500(client, invoice, customer_admin, monkeypatch):
    def broken(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(invoice_services, "invoice_pdf_render", broken)
    client.force_login(customer_admin)
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("billing:invoice", args=[invoice.pk])
    assert "could not be prepared" in body(response)


def test_a_missing_file_is_rendered_again(client, invoice, customer_admin, settings):
    path = invoice_services.invoice_pdf_render(invoice_id=invoice.pk)
    (settings.PRIVATE_STORAGE_ROOT / path).unlink()
    client.force_login(customer_admin)
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert (settings.PRIVATE_STORAGE_ROOT / path).is_file()


# --- Finance list ---------------------------------------------------------------------------


@pytest.fixture
def book(customer):
    """Invoices over two months and three buyers; one void."""
    fr = AccountFactory(name="Société Exemple", country="FR", vat_number="FR40303265045")
    nasty = AccountFactory(name='=HYPERLINK("http://evil.test","x")', country="US")
    return {
        "feb": make_invoice(customer, date(2026, 2, 10), "10.00", "1.90", "19", tax_country="DE"),
        "mar": make_invoice(customer, date(2026, 3, 2), "20.00", "3.80", "19", tax_country="DE"),
        "mar_rc": make_invoice(
            fr, date(2026, 3, 5), "50.00", "0.00", "0", tax_country="FR", reverse_charge=True
        ),
        "mar_us": make_invoice(nasty, date(2026, 3, 9), "5.25", "0.00", "0", tax_country=""),
        "mar_void": void(make_invoice(customer, date(2026, 3, 20), "30.00", "5.70", "19")),
    }


def test_finance_list_totals_for_the_filtered_set(client, finance_user, book):
    client.force_login(finance_user)
    url = reverse("billing:invoice_list")
    response = client.get(url + "?date_from=2026-03-01&date_to=2026-03-31")
    totals = response.context["totals"]
    assert (totals["count"], totals["void"]) == (4, 1)
    assert (totals["net"], totals["vat"], totals["gross"]) == (D("75.25"), D("3.80"), D("79.05"))
    content = body(response)
    assert book["mar_void"].number in content and book["feb"].number not in content
    assert "79.05" in content and "not in the sums" in content


def test_finance_list_status_filter_lists_the_void_invoice_with_its_sums(
    client, finance_user, book
):
    client.force_login(finance_user)
    response = client.get(reverse("billing:invoice_list") + "?status=void")
    assert list(response.context["page"].object_list) == [book["mar_void"]]
    assert response.context["totals"]["gross"] == D("35.70")
    assert "Void" in body(response)


def test_finance_list_filters_by_account_and_country(client, finance_user, book, customer):
    client.force_login(finance_user)
    url = reverse("billing:invoice_list")
    by_account = client.get(f"{url}?account={customer.pk}")
    assert {i.pk for i in by_account.context["page"].object_list} == {
        book[k].pk for k in ("feb", "mar", "mar_void")
    }
    assert by_account.context["account"] == customer
    assert f"Account: {customer.name}" in body(by_account)
    by_country = client.get(f"{url}?country=FR")
    assert [i.pk for i in by_country.context["page"].object_list] == [book["mar_rc"].pk]


def test_finance_list_quick_period(client, finance_user, book):
    client.force_login(finance_user)
    with time_machine.travel(datetime(2026, 4, 2, 12, 0, tzinfo=UTC), tick=False):
        response = client.get(reverse("billing:invoice_list") + "?period=last_month")
    assert response.context["totals"]["count"] == 4
    assert [p["active"] for p in response.context["quick_periods"]] == [False, True, False]
    assert 'value="2026-03-01"' in body(response)


def test_finance_list_says_which_filter_is_wrong(client, finance_user, book):
    client.force_login(finance_user)
    response = client.get(
        reverse("billing:invoice_list") + "?date_from=2026-04-01&date_to=2026-03-01"
    )
    assert response.status_code == 200
    assert "“To” must be on or after “From”" in body(response)
    assert response.context["totals"]["count"] == 5  # the bad range filters nothing


def test_finance_list_query_count_is_flat(
    client, finance_user, customer, django_assert_max_num_queries
):
    client.force_login(finance_user)
    url = reverse("billing:invoice_list") + f"?account={customer.pk}&q=Customer"
    make_invoice(customer, date(2026, 3, 1))
    client.get(url)  # warm up the session and the site
    with django_assert_max_num_queries(9) as few:
        client.get(url)
    for day in range(2, 28):
        make_invoice(AccountFactory(), date(2026, 3, day))
        make_invoice(customer, date(2026, 3, day))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 25


def test_customer_list_query_count_is_flat(
    client, customer, customer_admin, django_assert_max_num_queries
):
    client.force_login(customer_admin)
    url = reverse("billing:invoices")
    make_invoice(customer, date(2026, 3, 1))
    client.get(url)
    with django_assert_max_num_queries(8) as few:
        client.get(url)
    for day in range(2, 28):
        make_invoice(customer, date(2026, 3, day))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


# --- CSV ------------------------------------------------------------------------------------


def test_csv_export_of_the_filtered_set(client, finance_user, book):
    client.force_login(finance_user)
    response = client.get(reverse("billing:invoice_export") + "?date_from=2026-03-01&country=US")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = body(response).splitlines()
    assert lines[0] == (
        "number,date,seller,account_id,account,country,vat_number,net,vat_rates,vat,gross,currency,"
        "status,source,tax_country,reverse_charge,credit_note"
    )
    assert len(lines) == 2
    invoice = book["mar_us"]
    assert lines[1] == (
        f'{invoice.number},2026-03-09,{invoice.seller_name},{invoice.account_id},"\'=HYPERLINK(""http://evil.test"",'
        '""x"")",US,,5.25,0%,0.00,5.25,USD,Paid,Order,,no,'
    )


def test_csv_export_keeps_the_reverse_charge_and_vat_number(client, finance_user, book):
    client.force_login(finance_user)
    content = body(client.get(reverse("billing:invoice_export") + "?country=FR"))
    assert ",FR,FR40303265045,50.00,0%,0.00,50.00,USD,Paid,Order,FR,yes" in content


# --- Void -----------------------------------------------------------------------------------


def test_finance_voids_an_invoice_with_a_reason(client, finance_user, invoice):
    client.force_login(finance_user)
    detail = body(client.get(reverse("billing:invoice", args=[invoice.pk])))
    url = reverse("billing:invoice_void", args=[invoice.pk])
    assert url in detail
    confirm = client.get(url)
    assert "cannot be undone" in body(confirm)

    missing = client.post(url, {"reason": "   "})
    assert missing.status_code == 200 and missing.context["form"].errors["reason"]
    invoice.refresh_from_db()
    assert invoice.status == "paid"

    done = client.post(url, {"reason": "Duplicate of another invoice"}, follow=True)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.void_reason) == ("void", "Duplicate of another invoice")
    assert done.redirect_chain[-1][0] == reverse("billing:invoice", args=[invoice.pk])
    assert "Duplicate of another invoice" in body(done)
    again = client.post(url, {"reason": "twice"}, follow=True)
    assert "already void" in body(again)
    invoice.refresh_from_db()
    assert invoice.void_reason == "Duplicate of another invoice"


def test_customers_cannot_void(client, customer_admin, invoice):
    client.force_login(customer_admin)
    response = client.post(reverse("billing:invoice_void", args=[invoice.pk]), {"reason": "no"})
    assert response.status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == "paid"


# --- Reports --------------------------------------------------------------------------------


def test_reports_per_month_and_vat_country_for_a_year(client, finance_user, book):
    client.force_login(finance_user)
    response = client.get(reverse("billing:reports") + "?year=2026")
    months = response.context["months"]
    assert len(months) == 12
    feb, mar = months[1], months[2]
    assert (feb["count"], feb["net"], feb["vat"], feb["gross"]) == (
        1,
        D("10.00"),
        D("1.90"),
        D("11.90"),
    )
    assert (mar["count"], mar["net"], mar["vat"], mar["gross"]) == (
        3,
        D("75.25"),
        D("3.80"),
        D("79.05"),
    )
    rows = [(r["label"], r["net"], r["vat"]) for r in response.context["countries"]]
    assert rows == [
        ("Germany (DE)", D("30.00"), D("5.70")),
        ("Reverse charge (FR)", D("50.00"), D("0.00")),
        ("Outside EU", D("5.25"), D("0.00")),
    ]
    totals = response.context["totals"]
    assert (totals["paid"], totals["void"], totals["net"], totals["gross"]) == (
        4,
        1,
        D("85.25"),
        D("90.95"),
    )
    content = body(response)
    assert "Void invoices are excluded" in content and "Reverse charge (FR)" in content
    assert content.count('class="bar"') == 12
    assert 'data-height-percent="100.0"' in content  # March, the best month (set by portal.js)
    assert 'data-height-percent="13.3"' in content  # February: 10.00 / 75.25


def test_reports_default_to_the_last_twelve_months(client, finance_user, book):
    client.force_login(finance_user)
    with time_machine.travel(datetime(2026, 4, 15, 12, 0, tzinfo=UTC), tick=False):
        response = client.get(reverse("billing:reports"))
    months = response.context["months"]
    assert (months[0]["month"], months[-1]["month"], len(months)) == (
        date(2025, 5, 1),
        date(2026, 4, 1),
        12,
    )
    assert body(response).count('class="bar"') == 12
    assert response.context["totals"]["net"] == D("85.25")


def test_reports_ignore_a_bad_year_and_show_an_empty_chart(client, finance_user):
    client.force_login(finance_user)
    response = client.get(reverse("billing:reports") + "?year=1066")
    assert response.status_code == 200
    assert response.context["year"] is None
    assert "No paid invoices in this period" in body(response)
    assert body(response).count('class="bar"') == 12


def test_reports_query_count_is_flat(client, finance_user, book, django_assert_max_num_queries):
    client.force_login(finance_user)
    url = reverse("billing:reports") + "?year=2026"
    client.get(url)
    with django_assert_max_num_queries(9) as few:
        client.get(url)
    for month in range(1, 13):
        make_invoice(AccountFactory(country="IT"), date(2026, month, 1), tax_country="IT")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


# --- Statement and navigation ---------------------------------------------------------------


def test_statement_lists_the_accounts_latest_invoices(client, finance_user, customer, stranger):
    mine = [make_invoice(customer, date(2026, 1, day)) for day in range(1, 13)]
    theirs = make_invoice(stranger.account, date(2026, 1, 20))
    client.force_login(finance_user)
    response = client.get(reverse("billing:statement", args=[customer.pk]))
    assert list(response.context["invoices"]) == mine[::-1][:10]
    content = body(response)
    assert theirs.number not in content and mine[0].number not in content
    assert f"{reverse('billing:invoice_list')}?account={customer.pk}" in content


def test_finance_navigation_links_invoices_and_reports(client, finance_user):
    platform()
    client.force_login(finance_user)
    items = {i["label"]: i for i in client.get("/").context["nav_items"]}
    assert items["Invoices"]["url"] == reverse("billing:invoice_list")
    assert items["Reports"]["url"] == reverse("billing:reports")
    assert items["Invoices"]["available"] and items["Reports"]["available"]


def test_the_balance_page_links_the_customers_invoices(client, customer_admin):
    client.force_login(customer_admin)
    assert reverse("billing:invoices") in body(client.get(reverse("billing:balance")))


def test_a_platform_admin_may_void_too(client, platform_admin, invoice):
    client.force_login(platform_admin)
    client.post(reverse("billing:invoice_void", args=[invoice.pk]), {"reason": "Test order"})
    invoice.refresh_from_db()
    assert invoice.status == "void"


# --- Paid and void PDFs, credit notes (issue 10, item 13) ----------------------------------


def download(client, name, pk):
    response = client.get(reverse(name, args=[pk]))
    assert response.status_code == 200, response
    return pdf_text(b"".join(response.streaming_content))


def test_a_paid_invoice_pdf_says_paid_from_balance_and_asks_for_nothing(
    client, invoice, customer_admin, settings
):
    client.force_login(customer_admin)
    text = download(client, "billing:invoice_pdf", invoice.pk)
    assert "Paid from prepaid balance on 2 Mar 2026" in text
    assert "Amount due 0.00 USD" in text
    assert "Total15.13USD" in text.replace(" ", "")  # pypdf may split "T otal"
    assert "Please pay" not in text and "Total due" not in text
    assert settings.BILLING_BANK_DETAILS not in text
    assert "VOID" not in text


def test_void_prints_a_void_mark_and_issues_a_credit_note_both_can_download(
    client, invoice, finance_user, customer_member, stranger
):
    client.force_login(finance_user)
    done = client.post(
        reverse("billing:invoice_void", args=[invoice.pk]), {"reason": "Wrong buyer"}, follow=True
    )
    export = body(client.get(reverse("billing:invoice_export") + "?status=void"))
    assert export.splitlines()[1].endswith(",Void,Order,NL,no,CN-2026-000001")
    invoice.refresh_from_db()
    credit_note = invoice.credit_note
    assert credit_note.number == "CN-2026-000001"
    assert (credit_note.gross, credit_note.account) == (invoice.gross, invoice.account)
    assert "CN-2026-000001" in body(done)

    text = download(client, "billing:invoice_pdf", invoice.pk)
    assert "VOID" in text and "Wrong buyer" in text
    assert "Cancelled by credit note CN-2026-000001" in text
    assert "Amount due 0.00 USD" in text and "Please pay" not in text

    for user in (finance_user, customer_member):
        client.force_login(user)
        listing = body(client.get(reverse("billing:invoices"), follow=True))
        pdf_url = reverse("billing:credit_note_pdf", args=[credit_note.pk])
        assert pdf_url in body(client.get(reverse("billing:invoice", args=[invoice.pk])))
        if user == customer_member:
            assert pdf_url in listing
        credit = download(client, "billing:credit_note_pdf", credit_note.pk)
        assert "Credit note" in credit and "CN-2026-000001" in credit
        assert f"Credits invoice {invoice.number}" in credit
        assert "Totalcredited-15.13USD" in credit.replace(" ", "")
        assert "Please pay" not in credit

    client.force_login(stranger)
    assert client.get(reverse("billing:credit_note_pdf", args=[credit_note.pk])).status_code == 404
