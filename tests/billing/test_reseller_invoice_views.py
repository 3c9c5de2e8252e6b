"""Reseller invoicing on the pages (issue 11): who sees which invoice (reseller A, reseller B,
their customers, a direct customer, platform finance), the bank details a reseller's
customer is told to pay, the platform's wholesale revenue per reseller, the reseller's
margin report (figures, CSV, chart, period form), and that a customer never sees wholesale."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pypdf
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Invoice
from billing.services.invoices import invoice_for_charges, invoices_issue_daily
from tests.billing.factories import fund
from tests.billing.resellers import customer_of, reseller_with_brand, resold, user_of
from tests.billing.test_subscriptions_helpers import held_did, start
from tests.factories import AccountFactory, platform

pytestmark = pytest.mark.django_db

D = Decimal
JAN = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
FEB = datetime(2026, 2, 10, 10, 0, tzinfo=UTC)
MAR = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def pdf_text(response):
    reader = pypdf.PdfReader(io.BytesIO(b"".join(response.streaming_content)))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def order_invoice(subscription, key):
    return invoice_for_charges(
        account=subscription.account,
        charges=[subscription.charges.get(side="sale")],
        source=Invoice.Source.ORDER,
        idempotency_key=key,
        job="tests",
    )


class World:
    """Reseller A (Voxel) and B (Orbit), a customer of each, a direct customer, their users
    and one invoice of every kind; the wholesale figures are odd enough to search for."""

    def __init__(self):
        with time_machine.travel(JAN, tick=False):
            self.a = reseller_with_brand("Voxel", bank="IBAN NL91 VOXL 0417 1643 00")
            self.b = reseller_with_brand("Orbit", bank="IBAN NL02 ORBT 0123 4567 89")
            self.a1 = customer_of(self.a, "Kunde A1")
            self.b1 = customer_of(self.b, "Kunde B1")
            self.direct = AccountFactory(kind="customer", parent=platform(), name="Direct Ltd")
            sub_a1 = resold(self.a1, retail="10.00", wholesale="6.17")
            sub_b1 = resold(self.b1, retail="9.00", wholesale="4.00")
            fund(self.direct, "50.00")
            sub_d = start(self.direct, price="5.00")
            self.inv_a1 = order_invoice(sub_a1, "order:a1")
            self.inv_b1 = order_invoice(sub_b1, "order:b1")
            self.inv_direct = order_invoice(sub_d, "order:d")
        with time_machine.travel(FEB, tick=False):
            assert invoices_issue_daily() == 2  # the wholesale charges, one per reseller
        self.inv_to_a = Invoice.objects.get(account=self.a)
        self.inv_to_b = Invoice.objects.get(account=self.b)
        self.users = {
            "a_admin": user_of(self.a, "reseller_admin"),
            "a_finance": user_of(self.a, "reseller_finance"),
            "a_support": user_of(self.a, "reseller_support"),
            "b_admin": user_of(self.b, "reseller_admin"),
            "a1_admin": user_of(self.a1, "customer_admin"),
            "a1_billing": user_of(self.a1, "customer_billing"),
            "b1_admin": user_of(self.b1, "customer_admin"),
            "direct_admin": user_of(self.direct, "customer_admin"),
            "finance": user_of(platform(), "platform_finance"),
        }

    def invoices(self):
        return {
            "inv_a1": self.inv_a1,
            "inv_b1": self.inv_b1,
            "inv_direct": self.inv_direct,
            "inv_to_a": self.inv_to_a,
            "inv_to_b": self.inv_to_b,
        }


@pytest.fixture
def world(db):
    return World()


VISIBLE = {
    "a_admin": {"inv_a1", "inv_to_a"},
    "a_finance": {"inv_a1", "inv_to_a"},
    "b_admin": {"inv_b1", "inv_to_b"},
    "a1_admin": {"inv_a1"},
    "a1_billing": {"inv_a1"},
    "b1_admin": {"inv_b1"},
    "direct_admin": {"inv_direct"},
    "finance": {"inv_a1", "inv_b1", "inv_direct", "inv_to_a", "inv_to_b"},
}


def test_invoice_pages_answer_each_persona_with_its_own_invoices_only(client, world):
    for persona, visible in VISIBLE.items():
        client.force_login(world.users[persona])
        for name, invoice in world.invoices().items():
            for page in ("billing:invoice", "billing:invoice_pdf"):
                status = client.get(reverse(page, args=[invoice.pk])).status_code
                expected = 200 if name in visible else 404
                assert status == expected, (persona, name, page, status)


def test_reseller_support_sees_no_invoices(client, world):
    client.force_login(world.users["a_support"])
    for page, args in (("billing:invoices", []), ("billing:invoice", [world.inv_a1.pk])):
        assert client.get(reverse(page, args=args)).status_code == 403


def test_a_reseller_lists_what_it_issued_and_what_it_received(client, world):
    client.force_login(world.users["a_finance"])
    issued = body(client.get(reverse("billing:invoices")))
    received = body(client.get(reverse("billing:invoices") + "?direction=received"))
    assert world.inv_a1.number in issued and "Kunde A1" in issued
    assert world.inv_to_a.number not in issued
    assert world.inv_to_a.number in received and world.inv_a1.number not in received
    for other in (world.inv_b1, world.inv_direct, world.inv_to_b):
        assert other.number not in issued + received
    # A made-up direction is the default one, not an error.
    assert client.get(reverse("billing:invoices") + "?direction=x").status_code == 200


def test_a_customer_of_a_reseller_lists_only_the_resellers_invoices_to_it(client, world):
    client.force_login(world.users["a1_admin"])
    page = body(client.get(reverse("billing:invoices")))
    assert world.inv_a1.number in page
    assert f"INV-R{world.a.pk}-" in page
    assert world.inv_to_a.number not in page and world.inv_direct.number not in page


def test_the_customer_never_sees_wholesale(client, world):
    """Retail 10.00 (+19 % DE = 11.90); wholesale 6.17 (+21 % NL = 1.30, 7.47)."""
    client.force_login(world.users["a1_admin"])
    pages = [
        body(client.get(reverse("billing:invoices"))),
        body(client.get(reverse("billing:invoice", args=[world.inv_a1.pk]))),
        body(client.get(reverse("billing:balance"))),
        pdf_text(client.get(reverse("billing:invoice_pdf", args=[world.inv_a1.pk]))),
    ]
    assert "11.90" in pages[1] and "11.90" in pages[3]
    for text in pages:
        for wholesale in ("6.17", "7.47", "1.30", "Wholesale", "wholesale"):
            assert wholesale not in text, wholesale
    assert client.get(reverse("billing:margin_report")).status_code == 403


def test_the_customer_of_a_reseller_is_told_to_pay_the_reseller(client, world, settings):
    settings.BILLING_BANK_DETAILS = "IBAN NL00 PLAT 0000 0000 00"
    client.force_login(world.users["a1_billing"])
    page = body(client.get(reverse("billing:balance")))
    assert "IBAN NL91 VOXL 0417 1643 00" in page and "Voxel Voice" in page
    assert "PLAT" not in page
    client.force_login(world.users["direct_admin"])
    assert "IBAN NL00 PLAT 0000 0000 00" in body(client.get(reverse("billing:balance")))


def test_a_reseller_without_bank_details_never_shows_the_platforms(client, world, settings):
    settings.BILLING_BANK_DETAILS = "IBAN NL00 PLAT 0000 0000 00"
    world.a.brand.bank_details = ""
    world.a.brand.save()
    client.force_login(world.users["a1_admin"])
    page = body(client.get(reverse("billing:balance")))
    assert "PLAT" not in page and "Ask Voxel Voice" in page


def test_a_reseller_voids_its_own_invoice_not_the_platforms(client, world):
    client.force_login(world.users["a_finance"])
    refused = client.post(
        reverse("billing:invoice_void", args=[world.inv_to_a.pk]), {"reason": "No"}
    )
    assert refused.status_code == 403
    client.post(reverse("billing:invoice_void", args=[world.inv_a1.pk]), {"reason": "Typo"})
    world.inv_a1.refresh_from_db()
    assert world.inv_a1.status == "void"
    assert world.inv_a1.credit_note.number.startswith(f"CN-R{world.a.pk}-")
    client.force_login(world.users["b_admin"])
    other = client.post(reverse("billing:invoice_void", args=[world.inv_a1.pk]), {"reason": "x"})
    assert other.status_code == 404
    client.force_login(world.users["a1_admin"])
    credit_note = reverse("billing:credit_note_pdf", args=[world.inv_a1.credit_note.pk])
    assert client.get(credit_note).status_code == 200
    client.force_login(world.users["b1_admin"])
    assert client.get(credit_note).status_code == 404


def test_list_pages_cost_the_same_queries_for_more_invoices(client, world):
    def count(user, url):
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    url = reverse("billing:invoices")
    before = count(world.users["a_admin"], url)
    for i in range(5):
        buyer = customer_of(world.a, f"More {i}")
        order_invoice(resold(buyer), f"order:more:{i}")
    assert count(world.users["a_admin"], url) == before


# --- Reports --------------------------------------------------------------------------------


@pytest.fixture
def sales(db):
    """Voxel's sales in January and February 2026 (figures in the tests, by hand):

    Jan: A1, a German number, retail 10.00 / wholesale 6.00;
         A2, a Dutch number, retail 20.00 + setup 5.00 / wholesale 15.00 + setup 2.00.
    Feb: A1, a Dutch number, retail 8.00 / wholesale 8.50 (sold at a loss).
    And what must stay out: Orbit's customer (retail 50.00 / wholesale 1.00), Voxel's own
    number (it pays the platform 3.00, no sale of its own), a direct customer.
    """
    voxel = reseller_with_brand("Voxel")
    orbit = reseller_with_brand("Orbit")
    a1, a2 = customer_of(voxel, "A1 GmbH"), customer_of(voxel, "=A2 cmd|' /C calc'!A0")
    b1 = customer_of(orbit, "B1")
    with time_machine.travel(JAN, tick=False):
        resold(a1, retail="10.00", wholesale="6.00", did=held_did(a1, block__country="DE"))
        resold(a2, retail="20.00", setup="5.00", wholesale="15.00", wholesale_setup="2.00")
        resold(b1, retail="50.00", wholesale="1.00")
        fund(voxel, "10.00")
        start(voxel, price="3.00")
    with time_machine.travel(FEB, tick=False):
        resold(a1, retail="8.00", wholesale="8.50")
    return {"voxel": voxel, "orbit": orbit, "a1": a1, "a2": a2, "b1": b1}


MARGIN_URL = "?date_from=2026-01-01&date_to=2026-02-28"


def read_csv(response):
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(body(response))))


@time_machine.travel(MAR, tick=False)
def test_margin_report_figures(client, sales):
    client.force_login(user_of(sales["voxel"], "reseller_finance"))
    response = client.get(reverse("billing:margin_report") + MARGIN_URL)
    assert response.status_code == 200
    context = response.context
    totals = context["totals"]
    # Retail 10 + 25 + 8 = 43.00; wholesale 6 + 17 + 8.50 = 31.50; margin 11.50 = 26.7 %.
    assert (totals["retail"], totals["wholesale"], totals["margin"]) == (
        D("43.00"),
        D("31.50"),
        D("11.50"),
    )
    assert totals["margin_percent"] == D("26.7")
    months = {m["month"].month: m for m in context["months"]}
    assert (months[1]["retail"], months[1]["wholesale"], months[1]["margin"]) == (
        D("35.00"),
        D("23.00"),
        D("12.00"),
    )
    assert months[1]["margin_percent"] == D("34.3")
    assert (months[2]["margin"], months[2]["margin_percent"]) == (D("-0.50"), D("-6.3"))
    customers = {c["customer"]: c for c in context["customers"]}
    assert set(customers) == {"A1 GmbH", "=A2 cmd|' /C calc'!A0"}
    assert (customers["A1 GmbH"]["retail"], customers["A1 GmbH"]["margin"]) == (
        D("18.00"),
        D("3.50"),
    )
    assert customers["A1 GmbH"]["margin_percent"] == D("19.4")
    countries = {c["country"]: c for c in context["countries"]}
    assert (countries["DE"]["margin"], countries["DE"]["margin_percent"]) == (D("4.00"), D("40.0"))
    assert (countries["NL"]["retail"], countries["NL"]["margin"]) == (D("33.00"), D("7.50"))
    assert countries["NL"]["margin_percent"] == D("22.7")
    page = body(response)
    assert "B1" not in context["customers"].__repr__() and "50.00" not in page
    # The platform's own buy cost of the numbers (the blocks' 0.80) is nowhere.
    export = body(client.get(reverse("billing:margin_export") + MARGIN_URL))
    assert "0.80" not in page and "0.80" not in export


@time_machine.travel(MAR, tick=False)
def test_margin_chart_is_inline_svg_without_style_attributes(client, sales):
    client.force_login(user_of(sales["voxel"], "reseller_admin"))
    page = body(client.get(reverse("billing:margin_report") + MARGIN_URL))
    start_at, end_at = page.index("<svg"), page.index("</svg>")
    svg = page[start_at:end_at]
    assert "style=" not in svg and "<script" not in svg
    assert svg.count("<rect") >= 3 + 3  # legend + January's two segments + February's
    assert 'fill="#dc3545"' in svg  # February's loss


@time_machine.travel(MAR, tick=False)
def test_margin_csv_is_safe_and_matches(client, sales):
    client.force_login(user_of(sales["voxel"], "reseller_admin"))
    rows = read_csv(client.get(reverse("billing:margin_export") + MARGIN_URL))
    assert rows[0][:4] == ["month", "customer_id", "customer", "country"]
    data = rows[1:]
    assert len(data) == 3  # (Jan, A1, DE), (Jan, A2, NL), (Feb, A1, NL)
    assert sum(D(r[5]) for r in data) == D("43.00")
    assert sum(D(r[6]) for r in data) == D("31.50")
    dangerous = [r for r in data if "A2" in r[2]]
    assert dangerous[0][2] == "'=A2 cmd|' /C calc'!A0"  # neutralised
    loss = [r for r in data if r[0] == "2026-02"][0]
    assert (loss[7], loss[8]) == ("-0.50", "-6.3")  # a signed number stays a number


@time_machine.travel(MAR, tick=False)
def test_margin_period_errors_are_messages_not_500(client, sales):
    client.force_login(user_of(sales["voxel"], "reseller_admin"))
    for query in (
        "?date_from=2026-13-45",
        "?date_from=2026-03-01&date_to=2026-01-01",
        "?date_from=1990-01-01&date_to=2026-01-01",
        "?date_from=%00",
    ):
        response = client.get(reverse("billing:margin_report") + query)
        assert response.status_code == 200, query
        assert "showing the last twelve months" in body(response), query
        assert client.get(reverse("billing:margin_export") + query).status_code == 200


def test_margin_pages_are_for_reseller_admins_and_finance(client, sales):
    for role, status in (
        ("reseller_admin", 200),
        ("reseller_finance", 200),
        ("reseller_support", 403),
    ):
        client.force_login(user_of(sales["voxel"], role))
        assert client.get(reverse("billing:margin_report")).status_code == status, role
    for user in (user_of(sales["a1"], "customer_admin"), user_of(platform(), "platform_finance")):
        client.force_login(user)
        assert client.get(reverse("billing:margin_report")).status_code == 403
        assert client.get(reverse("billing:margin_export")).status_code == 403


@time_machine.travel(MAR, tick=False)
def test_margin_report_queries_do_not_grow_with_sales(client, sales):
    client.force_login(user_of(sales["voxel"], "reseller_admin"))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("billing:margin_report")).status_code == 200
        return len(queries)

    before = count()
    with time_machine.travel(FEB, tick=False):
        for i in range(4):
            resold(customer_of(sales["voxel"], f"Extra {i}"), retail="3.00", wholesale="2.00")
    assert count() == before


@time_machine.travel(MAR, tick=False)
def test_finance_sees_wholesale_revenue_per_reseller(client, sales):
    """Voxel (NL, 21 %): Jan 6.00 (VAT 1.26) + 17.00 (0.42 + 3.15) = 23.00, VAT 4.83;
    Feb 8.50, VAT 1.79 (1.785 half up). Orbit: Jan 1.00, VAT 0.21."""
    client.force_login(user_of(platform(), "platform_finance"))
    response = client.get(reverse("billing:reports"))
    rows = {(r["reseller"], r["month"].month): r for r in response.context["wholesale"]}
    assert set(rows) == {("Voxel", 1), ("Voxel", 2), ("Orbit", 1)}
    jan = rows[("Voxel", 1)]
    assert (jan["count"], jan["net"], jan["vat"], jan["gross"]) == (
        2,
        D("23.00"),
        D("4.83"),
        D("27.83"),
    )
    assert (rows[("Voxel", 2)]["vat"], rows[("Voxel", 2)]["gross"]) == (D("1.79"), D("10.29"))
    assert (rows[("Orbit", 1)]["net"], rows[("Orbit", 1)]["gross"]) == (D("1.00"), D("1.21"))
    per_reseller = {r["reseller"]: r for r in response.context["wholesale_resellers"]}
    assert (per_reseller["Voxel"]["count"], per_reseller["Voxel"]["net"]) == (3, D("31.50"))
    page = body(response)
    assert "Wholesale revenue per reseller" in page and "31.50" in page

    data = read_csv(client.get(reverse("billing:wholesale_export") + "?year=2026"))
    assert data[0] == ["month", "reseller_id", "reseller", "charges", "net", "vat", "gross"]
    assert ["2026-01", str(sales["voxel"].pk), "Voxel", "2", "23.00", "4.83", "27.83"] in data
    assert len(data) == 4


@time_machine.travel(MAR, tick=False)
def test_wholesale_revenue_is_for_platform_finance_only(client, sales):
    for user in (
        user_of(sales["voxel"], "reseller_admin"),
        user_of(sales["a1"], "customer_admin"),
    ):
        client.force_login(user)
        assert client.get(reverse("billing:reports")).status_code == 403
        assert client.get(reverse("billing:wholesale_export")).status_code == 403


@time_machine.travel(MAR, tick=False)
def test_the_reports_page_queries_do_not_grow_with_resellers(client, sales):
    client.force_login(user_of(platform(), "platform_finance"))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("billing:reports")).status_code == 200
        return len(queries)

    before = count()
    with time_machine.travel(FEB, tick=False):
        for i in range(3):
            resold(customer_of(reseller_with_brand(f"R{i}")), retail="3.00", wholesale="2.00")
    assert count() == before


@time_machine.travel(MAR, tick=False)
def test_platform_revenue_leaves_out_resellers_invoices(client, sales):
    for subscription in sales["a1"].subscriptions.all():
        order_invoice(subscription, f"order:{subscription.pk}")
    client.force_login(user_of(platform(), "platform_finance"))
    response = client.get(reverse("billing:reports") + "?year=2026")
    assert response.context["totals"]["count"] == 0  # Voxel's invoices are Voxel's revenue


def test_finance_lists_every_invoice_and_tells_the_sellers_apart(client, world):
    client.force_login(world.users["finance"])
    url = reverse("billing:invoice_list")
    everything = body(client.get(url))
    assert all(invoice.number in everything for invoice in world.invoices().values())
    assert "invoiced by Voxel" in everything
    resellers = body(client.get(url + "?seller=resellers"))
    assert world.inv_a1.number in resellers and world.inv_b1.number in resellers
    assert world.inv_direct.number not in resellers and world.inv_to_a.number not in resellers
    own = body(client.get(url + "?seller=platform"))
    assert world.inv_to_a.number in own and world.inv_a1.number not in own
    rows = list(csv.reader(io.StringIO(body(client.get(reverse("billing:invoice_export"))))))
    sellers = {row[0]: row[2] for row in rows[1:]}
    assert sellers[world.inv_a1.number] == "Voxel"
    assert sellers[world.inv_to_a.number] == platform().name


def test_an_empty_margin_chart_draws_no_bars():
    from datetime import date  # noqa: PLC0415

    from billing.charts import margin_chart  # noqa: PLC0415

    chart = margin_chart([{"month": date(2026, 1, 1), "retail": D("0"), "wholesale": D("0")}])
    assert chart.bars[0].segments == [] and chart.gridlines[-1]["label"] == "1"
