"""The keys pages: who may open them (owner, member, billing user, stranger, the reseller
of a customer, platform staff), create with the secret shown once, agreements to the
requirement texts, revoke, the cap, and the key's recent writes."""

import re

import pytest
from django.urls import reverse

from api.keys import secret_hash
from api.models import ApiKey, ApiKeyAgreement, ApiWrite
from api.services import api_key_create, api_key_revoke
from tests.api.conftest import jsonapi_client
from tests.api.keys.conftest import text_changed
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("api_keys:list")
CREATE = reverse("api_keys:create")


def signed_in(client, user):
    client.force_login(user)
    return client


def key_urls(key):
    return [
        reverse("api_keys:detail", args=[key.pk]),
        reverse("api_keys:agree", args=[key.pk]),
        reverse("api_keys:revoke", args=[key.pk]),
    ]


@pytest.fixture
def resold_customer_admin(reseller):
    """The admin of a customer of ``reseller``."""
    account = AccountFactory(kind="customer", parent=reseller, name="Resold Ltd")
    return UserFactory(account=account, role="customer_admin")


def test_the_accounts_admins_open_the_pages(client, customer_admin, reseller_admin):
    key, _ = api_key_create(user=customer_admin, name="Billing system")
    signed_in(client, customer_admin)
    for url in [LIST, CREATE, *key_urls(key)]:
        assert client.get(url).status_code == 200, url
    signed_in(client, reseller_admin)
    assert client.get(LIST).status_code == 200
    assert client.get(CREATE).status_code == 200


@pytest.mark.parametrize("role", ["customer_member", "customer_billing"])
def test_members_and_billing_users_are_refused(client, customer, customer_admin, role):
    key, _ = api_key_create(user=customer_admin, name="k")
    user = UserFactory(account=customer, role=role, may_buy=True)
    signed_in(client, user)
    for url in [LIST, CREATE, *key_urls(key)]:
        assert client.get(url).status_code == 403, url
    assert client.post(key_urls(key)[2]).status_code == 403
    assert ApiKey.objects.get(pk=key.pk).is_active


def test_platform_staff_are_refused_and_visitors_sent_to_sign_in(client, platform_admin):
    assert client.get(LIST).status_code == 302
    assert reverse("accounts:login") in client.get(CREATE)["Location"]
    signed_in(client, platform_admin)
    assert client.get(LIST).status_code == 403


def test_another_accounts_keys_are_not_found(
    client, customer_admin, stranger, reseller_admin, resold_customer_admin
):
    key, _ = api_key_create(user=customer_admin, name="Billing system")
    resold, _ = api_key_create(user=resold_customer_admin, name="Resold key")
    for user, other in [(stranger, key), (reseller_admin, resold), (resold_customer_admin, key)]:
        signed_in(client, user)
        listed = client.get(LIST).content.decode()
        assert other.name not in listed and other.prefix not in listed
        for url in key_urls(other):
            assert client.get(url).status_code == 404, url
            assert client.post(url).status_code == 404, url
    assert ApiKey.objects.get(pk=key.pk).is_active and ApiKey.objects.get(pk=resold.pk).is_active


def test_the_list_says_what_each_key_is(client, customer_admin, second_admin):
    used, secret = api_key_create(
        user=customer_admin, name="Billing system", allowed_networks="127.0.0.0/8"
    )
    jsonapi_client().get("/v3/balance", HTTP_API_KEY=secret)
    gone, _ = api_key_create(user=second_admin, name="Old script", read_only=True)
    api_key_revoke(key=gone, user=customer_admin)
    page = signed_in(client, customer_admin).get(LIST).content.decode()
    row = page[page.index("Billing system") :]
    row = row[: row.index("</tr>")]
    for text in [f"{used.prefix}…", "Full access", "127.0.0.0/8", customer_admin.email]:
        assert text in row
    assert "127.0.0.1" in row  # last used from
    row = page[page.index("Old script") :]
    row = row[: row.index("</tr>")]
    for text in ["Read-only", "Any address", "Never", "Revoked", second_admin.email]:
        assert text in row
    assert "Revoke<" not in row
    assert "2 of at most 25" not in page and "1 of at most 25 keys active" in page


def test_the_empty_list_invites_a_first_key(client, customer_admin):
    page = signed_in(client, customer_admin).get(LIST).content.decode()
    assert "No API keys yet" in page and "Create the first key" in page


def test_a_read_only_key_is_created_and_its_secret_shown_once(client, customer_admin):
    signed_in(client, customer_admin)
    response = client.post(
        CREATE,
        {
            "name": "  Reporting  ",
            "access": "read_only",
            "allowed_networks": "127.0.0.1\n10.0.0.0/8",
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "you will not see it again" in page
    secret = re.search(r'id="api-key-secret"[^>]*value="([^"]+)"', page)[1]
    key = ApiKey.objects.get(key_hash=secret_hash(secret))
    assert (key.name, key.read_only, key.created_by) == ("Reporting", True, customer_admin)
    assert key.allowed_networks == "127.0.0.1/32\n10.0.0.0/8"
    assert secret not in client.get(LIST).content.decode()
    assert secret not in client.get(reverse("api_keys:detail", args=[key.pk])).content.decode()
    assert jsonapi_client().get("/v3/balance", HTTP_API_KEY=secret).status_code == 200
    answer = jsonapi_client().post("/v3/balance", {}, HTTP_API_KEY=secret)
    assert answer.status_code == 403


def test_bad_input_says_why_and_creates_nothing(client, customer_admin):
    signed_in(client, customer_admin)
    response = client.post(
        CREATE, {"name": "   ", "access": "full", "allowed_networks": "10.0.0.0/8\nhome"}
    )
    page = response.content.decode()
    assert "Give the key a name" in page
    assert "“home” is not an IP address or range" in page
    assert not ApiKey.objects.exists()


def test_a_full_key_needs_the_requirement_texts_agreed(client, customer_admin, regulated):
    signed_in(client, customer_admin)
    page = client.get(CREATE).content.decode()
    assert "French geographic numbers" in page and regulated.text in page
    refused = client.post(CREATE, {"name": "Orders", "access": "full"}).content.decode()
    assert "tick “I agree” for “French geographic numbers”" in refused
    assert not ApiKey.objects.exists()
    # A read-only key needs none.
    client.post(CREATE, {"name": "Reader", "access": "read_only"})
    assert ApiKey.objects.get().read_only
    client.post(
        CREATE,
        {"name": "Orders", "access": "full", f"agree_{regulated.pk}": "1"},
        REMOTE_ADDR="198.51.100.4",
    )
    key = ApiKey.objects.get(name="Orders")
    agreement = ApiKeyAgreement.objects.get(key=key)
    assert (agreement.version, agreement.agreed_by, agreement.ip_address) == (
        1,
        customer_admin,
        "198.51.100.4",
    )


def test_a_stale_version_is_refused_at_creation(client, customer_admin, platform_admin, regulated):
    signed_in(client, customer_admin)
    text_changed(regulated, platform_admin)  # version 2 while the page showed version 1
    page = client.post(
        CREATE, {"name": "Orders", "access": "full", f"agree_{regulated.pk}": "1"}
    ).content.decode()
    assert "was updated to version 2" in page
    assert not ApiKey.objects.exists()


def test_a_changed_text_is_announced_and_agreed_again_by_the_creator(
    client, customer_admin, second_admin, platform_admin, regulated
):
    key, _ = api_key_create(user=customer_admin, name="Orders", agreed=[regulated])
    signed_in(client, customer_admin)
    assert "agreement-needed" not in client.get(LIST).content.decode()
    changed = text_changed(regulated, platform_admin)
    agree_url = reverse("api_keys:agree", args=[key.pk])

    # Another admin sees it, and who can agree; agreeing is the creator's.
    signed_in(client, second_admin)
    page = client.get(LIST).content.decode()
    assert "A registration requirement changed" in page
    assert f"{customer_admin.email} created it and can agree" in page
    assert "Only " in client.get(agree_url).content.decode()
    client.post(agree_url, {f"agree_{regulated.pk}": "2"})
    assert ApiKeyAgreement.objects.filter(key=key).count() == 1

    signed_in(client, customer_admin)
    page = client.get(LIST).content.decode()
    assert "French geographic numbers v2" in page and agree_url in page
    assert "Needs agreement" in page
    form = client.get(agree_url).content.decode()
    assert changed.text in form
    unticked = client.post(agree_url, {})
    assert "tick “I agree” for “French geographic numbers”" in unticked.content.decode()
    response = client.post(agree_url, {f"agree_{regulated.pk}": "2"}, REMOTE_ADDR="192.0.2.8")
    assert response.status_code == 302
    latest = ApiKeyAgreement.objects.get(key=key, version=2)
    assert latest.ip_address == "192.0.2.8"
    page = client.get(LIST).content.decode()
    assert "agreement-needed" not in page and "Needs agreement" not in page
    detail = client.get(reverse("api_keys:detail", args=[key.pk])).content.decode()
    assert "French geographic numbers v2" in detail and "French geographic numbers v1" in detail


def test_revoking_asks_first_then_refuses_the_key(client, customer_admin, second_admin):
    key, secret = api_key_create(user=customer_admin, name="Old script")
    url = reverse("api_keys:revoke", args=[key.pk])
    signed_in(client, second_admin)
    confirm = client.get(url).content.decode()
    assert "Revoke “Old script”" in confirm and "cannot be undone" in confirm
    assert ApiKey.objects.get(pk=key.pk).is_active
    response = client.post(url, follow=True)
    assert "is revoked" in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_by == second_admin and key.revoked_at is not None
    assert jsonapi_client().get("/v3/balance", HTTP_API_KEY=secret).status_code == 401
    assert "It was revoked on" in client.get(url).content.decode()


def test_at_the_cap_no_more_keys_are_created(settings, client, customer_admin):
    settings.API_KEYS_PER_ACCOUNT = 1
    api_key_create(user=customer_admin, name="only")
    signed_in(client, customer_admin)
    page = client.get(LIST).content.decode()
    assert "the most an account may have" in page and CREATE not in page
    page = client.post(CREATE, {"name": "two", "access": "read_only"}).content.decode()
    assert "already has 1 active API keys" in page
    assert ApiKey.objects.count() == 1


def test_the_key_page_lists_its_recent_writes(client, customer_admin):
    key, _ = api_key_create(user=customer_admin, name="Orders")
    ApiWrite.objects.create(
        key=key,
        user=customer_admin,
        method="POST",
        path="/v3/orders",
        status_code=422,
        resource_type="orders",
        ip_address="203.0.113.9",
    )
    page = signed_in(client, customer_admin).get(reverse("api_keys:detail", args=[key.pk]))
    text = page.content.decode()
    assert "POST /v3/orders" in text and "422" in text and "203.0.113.9" in text


def test_the_navigation_offers_api_keys_to_admins_only(client, customer, customer_admin):
    signed_in(client, customer_admin)
    assert f'href="{LIST}"' in client.get(reverse("cart:my_numbers")).content.decode()
    member = UserFactory(account=customer, role="customer_member", may_buy=True)
    signed_in(client, member)
    assert f'href="{LIST}"' not in client.get(reverse("cart:my_numbers")).content.decode()
