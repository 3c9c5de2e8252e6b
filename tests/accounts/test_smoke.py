import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_landing_page_for_visitors(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert b"Create an account" in response.content


def test_dashboard_for_customer(client, customer_admin):
    client.force_login(customer_admin)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert customer_admin.account.name.encode() in response.content
