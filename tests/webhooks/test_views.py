"""The webhook pages: who reaches them, the secret shown once, edit, delete behind a
confirmation, test event, send again, the callback log; odd input never errors."""

import pytest
from django.urls import reverse

from tests.factories import AccountFactory, UserFactory
from webhooks import services
from webhooks.models import Delivery, Endpoint

from .conftest import PUBLIC_IP, make_endpoint

pytestmark = pytest.mark.django_db
URL = "https://hooks.example.com/didportal"


@pytest.fixture(autouse=True)
def public_dns(resolve_to):
    resolve_to({"hooks.example.com": PUBLIC_IP, "other.example.com": PUBLIC_IP})


def post_endpoint(client, **fields):
    data = {"url": URL, "description": "Billing", "events": ["order.completed"], "enabled": "on"}
    data.update(fields)
    return client.post(reverse("webhooks:endpoint_create"), data)


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(client, customer_admin):
    client.force_login(customer_admin)
    response = post_endpoint(client)
    endpoint = Endpoint.objects.get()
    assert response.url == reverse("webhooks:endpoint", args=[endpoint.pk])
    page = client.get(response.url).content.decode()
    assert "you will not see it again" in page
    secret = page.split('id="secret-value"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert secret.startswith("whsec_")
    from didportal.crypto import decrypt

    assert decrypt(endpoint.secret_encrypted) == secret
    again = client.get(response.url).content.decode()
    assert secret not in again and endpoint.secret_hint in again
    assert (endpoint.account, endpoint.events, endpoint.description) == (
        customer_admin.account,
        ["order.completed"],
        "Billing",
    )


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"url": "http://hooks.example.com/x"}, "must start with https://"),
        ({"url": "https://10.0.0.1/x"}, "public addresses only"),
        ({"url": "https://169.254.169.254/"}, "public addresses only"),
        ({"events": []}, "Choose at least one event"),
        ({"events": ["nope"]}, "Select a valid choice"),
    ],
)
def test_a_bad_endpoint_is_refused_with_the_reason(client, customer_admin, fields, says):
    client.force_login(customer_admin)
    response = post_endpoint(client, **fields)
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize("role", ["customer_member", "customer_billing"])
def test_members_and_billing_users_are_refused(client, customer, role):
    client.force_login(UserFactory(account=customer, role=role))
    assert client.get(reverse("webhooks:list")).status_code == 403
    assert post_endpoint(client).status_code == 403
    assert not Endpoint.objects.exists()


def test_a_reseller_admin_manages_its_own_not_its_customers(client, reseller_admin):
    customer = AccountFactory(parent=reseller_admin.account)
    owner = UserFactory(account=customer, role="customer_admin")
    theirs, _ = make_endpoint(owner, URL)
    client.force_login(reseller_admin)
    assert client.get(reverse("webhooks:list")).status_code == 200
    assert client.get(reverse("webhooks:endpoint", args=[theirs.pk])).status_code == 404
    post_endpoint(client)
    assert Endpoint.objects.get(account=reseller_admin.account)


def test_a_stranger_gets_404_everywhere(client, customer_admin, stranger):
    endpoint, _ = make_endpoint(customer_admin, URL)
    (delivery,) = services.event_emit(
        account=customer_admin.account, event="order.completed", data={}
    )
    client.force_login(stranger)
    for name, pk in [
        ("webhooks:endpoint", endpoint.pk),
        ("webhooks:endpoint_edit", endpoint.pk),
        ("webhooks:endpoint_delete", endpoint.pk),
        ("webhooks:delivery", delivery.pk),
    ]:
        assert client.get(reverse(name, args=[pk])).status_code == 404, name
    for name, pk in [
        ("webhooks:endpoint_edit", endpoint.pk),
        ("webhooks:endpoint_delete", endpoint.pk),
        ("webhooks:endpoint_rotate", endpoint.pk),
        ("webhooks:endpoint_test", endpoint.pk),
        ("webhooks:delivery_resend", delivery.pk),
    ]:
        assert client.post(reverse(name, args=[pk])).status_code == 404, name
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()
    assert Delivery.objects.count() == 1
    assert URL not in client.get(reverse("webhooks:list")).content.decode()


def test_edit_disable_and_enable_again(client, customer_admin):
    endpoint, _ = make_endpoint(customer_admin, URL)
    Endpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=4)
    client.force_login(customer_admin)
    url = reverse("webhooks:endpoint_edit", args=[endpoint.pk])
    form = client.get(url).content.decode()
    assert URL in form
    client.post(url, {"url": "https://other.example.com/x", "events": ["balance.low"]})
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.enabled) == (
        "https://other.example.com/x",
        ["balance.low"],
        False,
    )
    client.post(url, {"url": endpoint.url, "events": ["balance.low"], "enabled": "on"})
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.consecutive_failures == 0


def test_delete_asks_first(client, customer_admin):
    endpoint, _ = make_endpoint(customer_admin, URL)
    client.force_login(customer_admin)
    url = reverse("webhooks:endpoint_delete", args=[endpoint.pk])
    page = client.get(url).content.decode()
    assert "Delete this endpoint?" in page and Endpoint.objects.exists()
    assert client.post(url).url == reverse("webhooks:list")
    assert not Endpoint.objects.exists()


def test_rotate_shows_the_new_secret_once(client, customer_admin):
    endpoint, old = make_endpoint(customer_admin, URL)
    client.force_login(customer_admin)
    assert client.get(reverse("webhooks:endpoint_rotate", args=[endpoint.pk])).status_code == 405
    response = client.post(reverse("webhooks:endpoint_rotate", args=[endpoint.pk]), follow=True)
    page = response.content.decode()
    assert "you will not see it again" in page and old not in page
    endpoint.refresh_from_db()
    assert endpoint.secret_hint in page


def test_send_test_event_and_send_again(
    client, customer_admin, monkeypatch, django_capture_on_commit_callbacks
):
    handed = []
    monkeypatch.setattr(services, "deliveries_enqueue", lambda ids: handed.extend(ids))
    endpoint, _ = make_endpoint(customer_admin, URL)
    client.force_login(customer_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:endpoint_test", args=[endpoint.pk]))
    delivery = Delivery.objects.get()
    assert handed == [delivery.pk]
    assert (delivery.kind, delivery.event) == ("test", "test")
    page = client.get(reverse("webhooks:endpoint", args=[endpoint.pk])).content.decode()
    assert f'data-delivery="{delivery.pk}"' in page
    Delivery.objects.filter(pk=delivery.pk).update(
        status="failed", next_attempt_at=None, attempts=8
    )
    detail = client.get(reverse("webhooks:delivery", args=[delivery.pk])).content.decode()
    assert "Failed" in detail and "A test event from your portal" in detail
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:delivery_resend", args=[delivery.pk]))
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.next_attempt_at is not None
    assert handed == [delivery.pk, delivery.pk]


def test_a_disabled_endpoint_is_sent_no_test(client, customer_admin):
    endpoint, _ = make_endpoint(customer_admin, URL, enabled=False)
    client.force_login(customer_admin)
    response = client.post(reverse("webhooks:endpoint_test", args=[endpoint.pk]), follow=True)
    assert "Enable the endpoint first" in response.content.decode()
    assert not Delivery.objects.exists()


def test_callback_secret_and_log(client, customer_admin):
    client.force_login(customer_admin)
    page = client.get(reverse("webhooks:list")).content.decode()
    assert "No endpoints yet" in page and "none yet" in page
    response = client.post(reverse("webhooks:callback_secret_rotate"), follow=True)
    page = response.content.decode()
    assert "new callback secret" in page
    assert client.get(reverse("webhooks:callbacks")).status_code == 200


def test_the_navigation_shows_webhooks_to_admins_only(client, customer_admin, customer):
    client.force_login(customer_admin)
    assert reverse("webhooks:list") in client.get(reverse("cart:my_numbers")).content.decode()
    # A member allowed to buy shares the admin's navigation group, not its Webhooks entry.
    client.force_login(UserFactory(account=customer, role="customer_member", may_buy=True))
    assert reverse("webhooks:list") not in client.get(reverse("cart:my_numbers")).content.decode()


@pytest.mark.parametrize("value", ["\x00", "-1", "x" * 3000, "99999999999999999999"])
def test_odd_page_numbers_never_error(client, customer_admin, value):
    endpoint, _ = make_endpoint(customer_admin, URL)
    client.force_login(customer_admin)
    for url in (reverse("webhooks:endpoint", args=[endpoint.pk]), reverse("webhooks:callbacks")):
        assert client.get(url, {"page": value}).status_code == 200


def test_an_endpoint_cap_per_account(client, customer_admin, monkeypatch):
    monkeypatch.setattr(services, "MAX_ENDPOINTS_PER_ACCOUNT", 1)
    client.force_login(customer_admin)
    post_endpoint(client)
    response = post_endpoint(client)
    assert response.status_code == 400 and "at most 1 endpoints" in response.content.decode()
