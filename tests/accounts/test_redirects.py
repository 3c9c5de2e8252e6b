"""Item 26: every ?next= / back target is checked; nothing sends the browser off-site."""

from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from accounts.models import User
from tests.factories import TEST_PASSWORD, platform

pytestmark = pytest.mark.django_db

OFFSITE = [
    "https://evil.example/",
    "http://evil.example/path",
    "//evil.example/",
    "https:evil.example",
    "https:/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https:\\\\evil.example",
    "http:/\\evil.example",
    " //evil.example",
    "javascript:alert(1)",
]


def _signup(client, next_url, email):
    return client.post(
        f"{reverse('accounts:signup')}?{_query(next_url)}",
        {
            "full_name": "Jane",
            "email": email,
            "company_name": "Jane Co",
            "country": "FR",
            "password": "purple-elephant-42",
        },
    )


def _query(next_url):
    from urllib.parse import urlencode

    return urlencode({"next": next_url})


@pytest.mark.parametrize("target", OFFSITE)
def test_signup_never_follows_an_offsite_next(client, target):
    platform()
    response = _signup(client, target, "jane@example.test")
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert User.objects.filter(email="jane@example.test").exists()


def test_signup_follows_a_local_next(client):
    platform()
    response = _signup(client, "/numbers/?country=FR", "local@example.test")
    assert response["Location"] == "/numbers/?country=FR"


@pytest.mark.parametrize("target", OFFSITE)
def test_sign_in_never_follows_an_offsite_next(client, customer_admin, target):
    response = client.post(
        f"{reverse('accounts:login')}?{_query(target)}",
        {"username": customer_admin.email, "password": TEST_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


@pytest.mark.parametrize("target", OFFSITE)
def test_sign_in_page_does_not_pass_an_offsite_next_to_sign_up(client, target):
    response = client.get(f"{reverse('accounts:login')}?{_query(target)}")
    assert "evil.example" not in response.content.decode()
    assert "javascript" not in response.content.decode()
    assert f'href="{reverse("accounts:signup")}"' in response.content.decode()


def test_sign_in_page_passes_a_local_next_to_sign_up(client):
    response = client.get(f"{reverse('accounts:login')}?next=/cart/")
    assert f'href="{reverse("accounts:signup")}?next=/cart/"' in response.content.decode()


@pytest.mark.parametrize("target", OFFSITE)
def test_cart_returns_only_to_this_site(client, customer_admin, target):
    client.force_login(customer_admin)
    # The panel after "Add to cart": its way back comes from the form's next.
    added = client.post(reverse("cart:add"), {"next": target, "numbers": []})
    back = parse_qs(urlparse(added["Location"]).query)["back"]
    assert back == ["/numbers/"]
    # The panel page and its close button.
    page = client.get(reverse("cart:added"), {"back": target})
    assert page.context["back"] == "/numbers/"
    dropped = client.post(reverse("cart:drop"), {"return": "panel", "items": "", "back": target})
    assert dropped["Location"] == "/numbers/"


@pytest.mark.parametrize("target", OFFSITE)
def test_anonymous_add_to_cart_signs_in_and_returns_only_to_this_site(client, target):
    response = client.post(reverse("cart:add"), {"next": target})
    next_url = parse_qs(urlparse(response["Location"]).query)["next"][0]
    # Sign-in leads to the page that adds the picks; their way back is this site's search.
    assert next_url == reverse("cart:add_pending")
    assert client.session["cart_pending_picks"]["back"] == "/numbers/"
