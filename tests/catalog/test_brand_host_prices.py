"""Through the real host middleware: an anonymous visitor of a reseller's host sees that
reseller's brand and retail prices; the platform's host shows the list price."""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts import branding
from tests.factories import MarkupRuleFactory, reseller_account

pytestmark = pytest.mark.django_db
HOST = "voice.voxel.example"


@pytest.fixture
def voxel(db):
    cache.clear()
    reseller = reseller_account(name="Voxel", wholesale_discount=Decimal("10"))
    MarkupRuleFactory(reseller=reseller, recurring_percent=Decimal("20"))
    branding.brand_update(account=reseller, display_name="Voxel Voice")
    branding.brand_host_add(account=reseller, host=HOST)
    yield reseller
    cache.clear()


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_visitor_of_the_host_sees_the_resellers_retail_price(client, stock, voxel, settings):
    # Germany's list price 3.00 / month; wholesale 2.70; +20 % retail 3.24.
    on_host = client.get(reverse("catalog:country", args=["DE"]), HTTP_HOST=HOST)
    page = text(on_host)
    assert "3.24 / month" in page and "3.00 / month" not in page and "2.70" not in page
    assert "Voxel Voice" in page and settings.SITE_NAME not in page
    assert "3.00 / month" in text(client.get(reverse("catalog:country", args=["DE"])))
