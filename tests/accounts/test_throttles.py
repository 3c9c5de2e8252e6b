"""Items 24 and 27: sign-in lockout shared by every spelling of an address plus a limit per
IP; sign-up and password-reset e-mails throttled per address and per IP, under concurrency."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.concurrency import run_in_threads
from tests.factories import TEST_PASSWORD, UserFactory, platform

pytestmark = pytest.mark.django_db

VARIANTS = [
    "victim@example.test",
    "VICTIM@EXAMPLE.TEST",
    " victim@example.test",
    "Victim@Example.Test ",
    "  vIcTiM@example.TEST  ",
]


def sign_in(client, email, password=TEST_PASSWORD, ip="10.1.1.1"):
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password}, REMOTE_ADDR=ip
    )


@pytest.fixture
def victim(customer):
    return UserFactory(account=customer, email="victim@example.test")


# --- Item 24: sign-in ---------------------------------------------------------------------


def test_wrong_guesses_spread_over_spellings_share_one_lock(client, victim, settings):
    settings.AXES_FAILURE_LIMIT = len(VARIANTS)
    for variant in VARIANTS[:-1]:
        assert sign_in(client, variant, "wrong-guess").status_code == 200
    # The last wrong guess reaches the limit: the lock starts with its answer.
    assert sign_in(client, VARIANTS[-1], "wrong-guess").status_code == 429
    # Locked: even the right password, in any spelling, is refused.
    for variant in VARIANTS:
        response = sign_in(client, variant)
        assert response.status_code == 429, variant
        assert b"Too many sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("variant", VARIANTS[1:])
def test_a_locked_user_cannot_sign_in_through_another_spelling(client, victim, settings, variant):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "victim@example.test", "wrong-guess")
    response = sign_in(client, variant)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_address_and_ip_and_ends_on_a_right_password_elsewhere(client, victim):
    for _ in range(5):
        sign_in(client, "VICTIM@example.test", "wrong-guess", ip="10.1.1.1")
    assert sign_in(client, "victim@example.test", ip="10.1.1.1").status_code == 429
    assert sign_in(client, " Victim@example.test", ip="10.2.2.2").status_code == 302


def test_many_addresses_from_one_ip_lock_that_ip(client, customer, settings):
    settings.AXES_IP_FAILURE_LIMIT = 6
    users = [UserFactory(account=customer, email=f"person{i}@example.test") for i in range(7)]
    for user in users[:6]:  # one wrong guess each: far below the per-address limit
        assert sign_in(client, user.email, "wrong-guess", ip="10.9.9.9").status_code in (200, 429)
    response = sign_in(client, users[6].email, ip="10.9.9.9")
    assert response.status_code == 429
    assert b"Too many sign-in attempts" in response.content
    # Another IP is not affected.
    assert sign_in(client, users[6].email, ip="10.8.8.8").status_code == 302


# --- Item 27: sign-up and password-reset e-mails ------------------------------------------


def sign_up(client, email, ip="10.3.3.3", company="Shop"):
    return client.post(
        reverse("accounts:signup"),
        {
            "full_name": "Jane",
            "email": email,
            "company_name": company,
            "country": "FR",
            "password": "purple-elephant-42",
        },
        REMOTE_ADDR=ip,
    )


def test_sign_ups_per_ip_are_limited(client, settings):
    platform()
    settings.SIGNUPS_PER_HOUR_PER_IP = 3
    for i in range(3):
        assert sign_up(client, f"buyer{i}@example.test").status_code == 302
        client.logout()
    response = sign_up(client, "buyer9@example.test")
    assert response.status_code == 429
    assert "Too many sign-ups" in response.content.decode()
    assert not User.objects.filter(email="buyer9@example.test").exists()
    assert sign_up(client, "buyer9@example.test", ip="10.4.4.4").status_code == 302


def test_sign_ups_per_address_count_every_spelling(client, settings):
    platform()
    settings.SIGNUPS_PER_HOUR_PER_ADDRESS = 3
    spellings = ["jane@example.test", " JANE@example.test", "Jane@Example.Test "]
    for i, spelling in enumerate(spellings):  # from three IPs: the address is what counts
        assert sign_up(client, spelling, ip=f"10.5.5.{i}").status_code in (200, 302)
        client.logout()
    response = sign_up(client, "jAnE@EXAMPLE.test", ip="10.5.5.9")
    assert response.status_code == 429
    assert User.objects.filter(email__iexact="jane@example.test").count() == 1


def reset(client, email, ip="10.6.6.6"):
    return client.post(reverse("accounts:password_reset"), {"email": email}, REMOTE_ADDR=ip)


def test_reset_emails_per_address_count_every_spelling(client, victim, settings):
    settings.PASSWORD_RESETS_PER_HOUR_PER_ADDRESS = 2
    assert reset(client, "victim@example.test", ip="10.6.0.1").status_code == 302
    assert reset(client, " VICTIM@example.test ", ip="10.6.0.2").status_code == 302
    response = reset(client, "Victim@Example.Test", ip="10.6.0.3")
    assert response.status_code == 429
    assert "Too many password-reset e-mails" in response.content.decode()
    assert len(mail.outbox) == 2


def test_reset_emails_per_ip_are_limited_whether_or_not_the_address_exists(client, settings):
    settings.PASSWORD_RESETS_PER_HOUR_PER_IP = 3
    for i in range(3):
        assert reset(client, f"nobody{i}@example.test").status_code == 302
    assert reset(client, "nobody9@example.test").status_code == 429
    assert reset(client, "nobody9@example.test", ip="10.7.7.7").status_code == 302


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reset_requests_send_at_most_the_limit(settings):
    from django.test import Client

    UserFactory(account=platform(), role="platform_admin", email="victim@example.test")
    settings.PASSWORD_RESETS_PER_HOUR_PER_ADDRESS = 3
    statuses = run_in_threads(
        lambda i: reset(Client(), VARIANTS[i % len(VARIANTS)], ip=f"10.20.0.{i}").status_code,
        count=12,
    )
    assert sorted(statuses) == [302] * 3 + [429] * 9
    assert len(mail.outbox) == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sign_ups_from_one_ip_create_at_most_the_limit(settings):
    from django.test import Client

    platform()
    settings.SIGNUPS_PER_HOUR_PER_IP = 4
    statuses = run_in_threads(
        lambda i: sign_up(Client(), f"racer{i}@example.test", ip="10.30.0.1").status_code,
        count=12,
    )
    assert sorted(statuses) == [302] * 4 + [429] * 8
    assert User.objects.filter(email__startswith="racer").count() == 4
