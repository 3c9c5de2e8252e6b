from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD, DEMO_USERS
from accounts.models import Account, Brand, User
from billing.models import Invoice, LedgerEntry, SubscriptionCharge
from billing.selectors import balance_for
from cart.models import Order
from inventory.models import DID, NumberBlock
from payments.models import BankStatementLine

pytestmark = pytest.mark.django_db


def _counts():
    return (
        User.objects.count(),
        DID.objects.count(),
        NumberBlock.objects.count(),
        Order.objects.count(),
        Invoice.objects.count(),
        LedgerEntry.objects.count(),
        Brand.objects.count(),
        Account.history.count(),
        BankStatementLine.objects.count(),
    )


def test_seed_demo_is_complete_and_idempotent():
    call_command("seed_demo")
    snapshot = _counts()
    call_command("seed_demo")
    assert _counts() == snapshot

    for email, role, _key, _name in DEMO_USERS:
        user = User.objects.get(email=email)
        assert user.role == role and user.check_password(DEMO_PASSWORD)
    direct = User.objects.get(email="customer@didportal.test").account
    # 100.00 topped up, 19.00 spent on the demo orders (invoices to look at) and 8.00 on a
    # Paris number (registration approved); checkout needs 50.00.
    assert balance_for(direct) == Decimal("73.00")
    assert direct.parent.kind == "platform"
    # A demo statement waits for finance: the direct customer's transfer matched, one not.
    assert set(BankStatementLine.objects.values_list("account__name", "status")) >= {
        (direct.name, "proposed"),
        (None, "unmatched"),
    }
    resold = User.objects.get(email="resold@didportal.test").account
    assert resold.parent.kind == "reseller"

    countries = set(NumberBlock.objects.values_list("country", flat=True))
    assert {"US", "GB", "DE", "FR", "NL", "ES"} <= countries
    assert NumberBlock.objects.values("country", "city").distinct().count() >= 20
    assert DID.objects.count() >= 2000


def test_seed_demo_gives_voxel_a_business():
    call_command("seed_demo")
    voxel = Account.objects.get(name="Voxel Telecom", kind="reseller")
    assert voxel.wholesale_discount == Decimal("10.00")
    assert voxel.vat_number == "DE136695976"
    change = voxel.history.filter(wholesale_discount=Decimal("10.00")).earliest("history_date")
    assert change.history_user.email == "admin@didportal.test"
    assert balance_for(voxel) > 0

    brand = voxel.brand
    assert brand.display_name == "Voxel Voice" and brand.primary_colour == "#6f42c1"
    assert brand.support_email and "IBAN" in brand.bank_details
    assert bytes(brand.logo).startswith(b"\x89PNG\r\n\x1a\n")
    assert brand.logo_content_type == "image/png"

    team = dict(voxel.users.values_list("email", "role"))
    assert set(team.values()) == {"reseller_admin", "reseller_support", "reseller_finance"}

    rules = {(r.scope, r.country.code or "") for r in voxel.markup_rules.all()}
    assert rules == {("default", ""), ("country", "DE")}
    resold_order = Order.objects.get(token="demo-order-resold-1")  # a 1.00 a month number
    # Wholesale 0.90 (list 1.00 less 10 %), +30 % = 1.17, up to .x9 = 1.19 (net of VAT).
    assert resold_order.net == Decimal("1.19")

    customers = voxel.children.order_by("name")
    assert [c.name for c in customers] == ["Bäckerei Schmidt", "Studio Lumen"]
    for customer in customers:
        assert customer.orders.filter(status="completed").exists(), customer
        assert customer.dids.exists(), customer
        invoices = customer.invoices.all()
        assert invoices and all(i.issuer_id == voxel.pk for i in invoices), customer
        assert {i.seller_display_name for i in invoices} == {"Voxel Voice"}


def test_seed_demo_invoices_voxel_from_the_platform():
    call_command("seed_demo")
    voxel = Account.objects.get(name="Voxel Telecom", kind="reseller")
    (invoice,) = Invoice.objects.filter(account=voxel, source="daily")
    assert invoice.issuer.kind == "platform" and invoice.gross > 0
    # Three numbers of its customers live, and a Berlin one awaiting registration (charged
    # at wholesale too, invoiced once approved).
    assert SubscriptionCharge.objects.filter(account=voxel, side="wholesale").count() == 4
    call_command("seed_demo")
    assert Invoice.objects.filter(account=voxel).count() == 1


def test_seeded_logo_is_a_png_an_imaging_library_reads():
    from io import BytesIO

    PIL = pytest.importorskip("PIL.Image")  # only to check the bytes; not a dependency
    from accounts.demo import demo_logo_png

    image = PIL.open(BytesIO(demo_logo_png()))
    image.load()
    assert (image.format, image.size, image.mode) == ("PNG", (64, 64), "RGBA")


def test_every_periodic_job_is_a_registered_task():
    from didportal.celery import app

    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks
