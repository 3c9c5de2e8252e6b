"""The Payments page: what needs the people who collect money, counted for their own
account only."""

from decimal import Decimal

import pytest

from payments.models import BalanceClaim
from payments.services import refunds
from tests.billing.factories import fund
from tests.factories import AccountFactory, UserFactory, platform

pytestmark = pytest.mark.postgres
URL = "/payments/"


def _ask(account, amount="5.00"):
    fund(account, "20.00")
    asker = UserFactory(account=account, role="customer_admin")
    return refunds.payout_request(user=asker, amount=amount)


def test_counts_are_the_viewers_own(client, finance_user):
    direct = AccountFactory(parent=platform(), name="Direct")
    reseller = AccountFactory(kind="reseller", parent=platform(), name="Voxel")
    resold = AccountFactory(parent=reseller, name="Resold")
    _ask(direct)
    _ask(resold)
    BalanceClaim.objects.create(
        account=direct, amount=Decimal("7.50"), reason="refund after spending", key="k1"
    )

    client.force_login(finance_user)
    page = client.get(URL)
    assert page.status_code == 200
    assert page.context["summary"]["payouts_requested"] == 1
    assert page.context["summary"]["claims"]["count"] == 1
    assert b"7.50" in page.content

    client.force_login(UserFactory(account=reseller, role="reseller_finance"))
    page = client.get(URL)
    assert page.context["summary"]["payouts_requested"] == 1
    assert page.context["summary"]["claims"]["count"] == 0
    assert b'id="no-cards"' in page.content  # the reseller has no Stripe keys


@pytest.mark.parametrize("role", ["customer_admin", "customer_billing", "reseller_support"])
def test_refused_to_those_who_do_not_collect(client, db, role):
    kind = role.split("_")[0]
    parent = AccountFactory(kind="reseller", parent=platform()) if kind == "reseller" else None
    account = parent or AccountFactory(parent=platform())
    client.force_login(UserFactory(account=account, role=role))
    assert client.get(URL).status_code == 403


def test_navigation_leads_there(client, finance_user):
    client.force_login(finance_user)
    labels = [item["label"] for item in client.get("/").context["nav_items"]]
    assert "Payments" in labels
    assert client.get(URL + "?page=%00&x=%ff").status_code == 200
