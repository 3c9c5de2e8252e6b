"""The SSRF guard: refused at save and at send, whatever the name resolves to."""

import socket

import pytest
from django.core.exceptions import ValidationError

from webhooks import services, ssrf
from webhooks.models import Attempt, Delivery

from .conftest import PUBLIC_IP, make_endpoint

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.5/hook",
        "https://10.255.255.255/",
        "https://172.16.0.1/",
        "https://192.168.1.1/",
        "https://127.0.0.1/hook",
        "https://127.1.2.3:8443/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[fe80::1]/",
        "https://[fc00::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "https://0.0.0.0/",
        "https://100.64.0.1/",  # shared address space
        "https://224.0.0.1/",  # multicast
        "https://240.0.0.1/",  # reserved
        "https://localhost/hook",
    ],
)
def test_private_loopback_link_local_and_reserved_addresses_are_refused(url):
    with pytest.raises(ValidationError) as error:
        ssrf.url_check(url)
    assert "public addresses only" in error.value.messages[0]


def test_a_hostname_resolving_to_loopback_is_refused(resolve_to):
    resolve_to({"hooks.example.com": "127.0.0.1"})
    with pytest.raises(ValidationError, match="127.0.0.1"):
        ssrf.url_check("https://hooks.example.com/x")


def test_a_public_address_is_accepted(resolve_to):
    resolve_to({"hooks.example.com": PUBLIC_IP})
    assert ssrf.url_check(" https://hooks.example.com/x ") == "https://hooks.example.com/x"
    assert ssrf.url_resolve("https://hooks.example.com:8443/x")[1:] == (
        "hooks.example.com",
        8443,
        [PUBLIC_IP],
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://hooks.example.com/x", "https://"),
        ("ftp://hooks.example.com/x", "https://"),
        ("https://user:pw@hooks.example.com/x", "user name"),
        ("https:///x", "no host"),
        ("https://hooks.example.com:99999/", "not a valid URL"),
        ("https://hooks.example.com/a b", "spaces"),
        ("https://hooks.example.com/\x00", "control"),
        ("https://" + "a" * 500 + ".com/", "at most"),
        ("", "Enter a URL"),
        ("https://no-such-host.invalid/", "could not be found"),
    ],
)
def test_urls_we_would_not_call_say_why(url, says, resolve_to):
    resolve_to({"hooks.example.com": PUBLIC_IP})
    with pytest.raises(ValidationError) as error:
        ssrf.url_check(url)
    assert says in error.value.messages[0]


def test_development_allows_local_http(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    assert ssrf.url_check("http://127.0.0.1:8000/hook") == "http://127.0.0.1:8000/hook"


def test_an_endpoint_at_a_private_address_is_refused_at_save(customer_admin):
    with pytest.raises(ValidationError) as error:
        make_endpoint(customer_admin, "https://10.1.2.3/hook")
    assert "url" in error.value.message_dict


def test_dns_rebinding_is_refused_at_send_without_connecting(
    customer_admin, resolve_to, monkeypatch
):
    """Public when saved, 127.0.0.1 when sent: refused, and no socket is opened."""
    resolve_to({"hooks.example.com": PUBLIC_IP})
    make_endpoint(customer_admin, "https://hooks.example.com/hook")
    (delivery,) = services.event_emit(
        account=customer_admin.account, event="order.completed", data={}
    )
    resolve_to({"hooks.example.com": "127.0.0.1"})
    connected = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connected.append(a))
    assert services.delivery_send(delivery_id=delivery.pk) == "retry"
    assert connected == []
    attempt = Attempt.objects.get(delivery=delivery)
    assert "Refused" in attempt.error and "127.0.0.1" in attempt.error
    assert Delivery.objects.get(pk=delivery.pk).status == "pending"


def test_the_connection_goes_to_the_checked_address(customer_admin, resolve_to, monkeypatch):
    """The address checked is the address connected to (no second lookup in between)."""
    resolve_to({"hooks.example.com": PUBLIC_IP})
    make_endpoint(customer_admin, "https://hooks.example.com/hook")
    (delivery,) = services.event_emit(
        account=customer_admin.account, event="order.completed", data={}
    )
    connected = []

    def refuse(address, *args, **kwargs):
        connected.append(address)
        raise ConnectionRefusedError("test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    services.delivery_send(delivery_id=delivery.pk)
    assert connected == [(PUBLIC_IP, 443)]
