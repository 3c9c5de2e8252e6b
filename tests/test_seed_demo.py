from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD, DEMO_USERS
from accounts.models import User
from billing.selectors import balance_for
from inventory.models import DID, NumberBlock

pytestmark = pytest.mark.django_db


def test_seed_demo_is_complete_and_idempotent():
    call_command("seed_demo")
    snapshot = (User.objects.count(), DID.objects.count(), NumberBlock.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), DID.objects.count(), NumberBlock.objects.count()) == snapshot

    for email, role, _key, _name in DEMO_USERS:
        user = User.objects.get(email=email)
        assert user.role == role and user.check_password(DEMO_PASSWORD)
    direct = User.objects.get(email="customer@didportal.test").account
    # 100.00 topped up, 19.00 spent on the demo orders (invoices to look at); checkout
    # needs 50.00.
    assert balance_for(direct) == Decimal("81.00")
    assert direct.parent.kind == "platform"
    resold = User.objects.get(email="resold@didportal.test").account
    assert resold.parent.kind == "reseller"

    countries = set(NumberBlock.objects.values_list("country", flat=True))
    assert {"US", "GB", "DE", "FR", "NL", "ES"} <= countries
    assert NumberBlock.objects.values("country", "city").distinct().count() >= 20
    assert DID.objects.count() >= 2000


def test_every_periodic_job_is_a_registered_task():
    from didportal.celery import app

    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks
