"""E-mails to a reseller's customer's users carry the reseller's brand: From name (on the
platform's address), Reply-To its support address, its name and host in the body; e-mails
to direct customers stay the platform's."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from accounts import branding
from accounts.codes import confirmation_code_send
from accounts.services import customer_create
from billing.notifications import low_balance_email_send
from cart import services as cart_services
from cart.orders import order_place
from outbox.models import OutgoingEmail
from outbox.services import email_send
from tests.billing.factories import fund
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

BRANDED_FROM = "Voxel Voice <noreply@didportal.test>"


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    settings.DEFAULT_FROM_EMAIL = "didportal <noreply@didportal.test>"
    settings.SITE_URL = "https://portal.example.com"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def voxel(db):
    reseller = AccountFactory(kind="reseller", name="Voxel Telecom Holding")
    branding.brand_update(
        account=reseller,
        display_name="Voxel Voice",
        support_email="help@voxel.example",
        primary_colour="#aa3300",
    )
    branding.brand_host_add(account=reseller, host="voice.voxel.example")
    fund(reseller, "500.00")
    return reseller


@pytest.fixture
def voxel_buyer(voxel):
    customer = AccountFactory(kind="customer", parent=voxel, name="Bakery V")
    user = UserFactory(account=customer, role="customer_admin")
    fund(customer, "100.00")
    return user


def sent(email):
    """Send one outbox e-mail and return the message the mail backend got."""
    before = len(mail.outbox)
    assert email_send(email_id=email.pk) == "sent"
    assert len(mail.outbox) == before + 1
    return mail.outbox[-1]


def test_an_order_confirmation_is_from_the_resellers_brand(voxel_buyer, blocks, settings):
    cart_services.cart_add_numbers(user=voxel_buyer, numbers=["+4989555000"])
    order = order_place(user=voxel_buyer, token="b1", ip_address="203.0.113.9")
    email = OutgoingEmail.objects.get(key=f"order-confirmation:{order.pk}")
    assert (email.from_email, email.reply_to) == (BRANDED_FROM, ["help@voxel.example"])
    assert email.subject.startswith("Voxel Voice: order")
    body = email.text + email.html
    assert "https://voice.voxel.example/" in body and "— Voxel Voice" in body
    assert settings.SITE_NAME not in body + email.subject
    assert "portal.example.com" not in body
    message = sent(email)
    assert (message.from_email, message.reply_to) == (BRANDED_FROM, ["help@voxel.example"])


def test_a_direct_customers_confirmation_stays_the_platforms(customer_admin, blocks, settings):
    fund(customer_admin.account, "100.00")
    cart_services.cart_add_numbers(user=customer_admin, numbers=["+4989555001"])
    order = order_place(user=customer_admin, token="d1", ip_address="203.0.113.9")
    email = OutgoingEmail.objects.get(key=f"order-confirmation:{order.pk}")
    assert (email.from_email, email.reply_to) == ("", [])
    assert email.subject.startswith(f"{settings.SITE_NAME}: order")
    assert "https://portal.example.com/" in email.text
    message = sent(email)
    assert (message.from_email, message.reply_to) == (settings.DEFAULT_FROM_EMAIL, [])


def test_the_low_balance_email_of_a_resellers_customer(voxel_buyer, settings):
    low_balance_email_send(
        account_id=voxel_buyer.account_id, balance=Decimal("3.00"), threshold=Decimal("10")
    )
    email = OutgoingEmail.objects.get()
    assert email.subject.startswith("[Voxel Voice] Low balance")
    message = sent(email)
    assert (message.from_email, message.reply_to) == (BRANDED_FROM, ["help@voxel.example"])


def test_a_resellers_own_emails_come_from_the_platform(voxel):
    admin = UserFactory(account=voxel, role="reseller_admin")
    confirmation_code_send(user=admin, purpose="checkout:1")
    email = OutgoingEmail.objects.get()
    assert (email.from_email, email.reply_to) == ("", [])
    assert "Voxel" not in email.subject


def test_the_confirmation_code_of_a_resellers_customer(voxel_buyer):
    confirmation_code_send(user=voxel_buyer, purpose="checkout:1")
    email = OutgoingEmail.objects.get()
    assert email.subject == "[Voxel Voice] Your confirmation code"
    assert email.from_email == BRANDED_FROM and "on Voxel Voice" in email.text


def test_a_brand_without_a_support_address_has_no_reply_to(voxel, voxel_buyer):
    branding.brand_update(account=voxel, support_email="")
    confirmation_code_send(user=voxel_buyer, purpose="checkout:2")
    assert OutgoingEmail.objects.get().reply_to == []


def test_signing_up_on_the_host_sends_a_branded_verification_link(client, voxel):
    data = {
        "full_name": "Nina New",
        "email": "nina@bakery.example",
        "company_name": "Bakery Nina",
        "country": "NL",
        "password": "a-long-unusual-passphrase-42",
    }
    client.post(reverse("accounts:signup"), data, HTTP_HOST="voice.voxel.example")
    email = OutgoingEmail.objects.get(to=["nina@bakery.example"])
    assert email.subject == "[Voxel Voice] Confirm your e-mail address"
    assert "https://voice.voxel.example/accounts/verify-email/" in email.text
    assert (email.from_email, email.reply_to) == (BRANDED_FROM, ["help@voxel.example"])


def test_the_invitation_of_a_resellers_customer(voxel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        customer_create(
            parent=voxel,
            company_name="Florist V",
            country="NL",
            admin_name="Fay",
            admin_email="fay@florist.example",
        )
    message = mail.outbox[-1]
    assert message.subject == "You have been invited to Voxel Voice"
    assert (message.from_email, message.reply_to) == (BRANDED_FROM, ["help@voxel.example"])
    assert "https://voice.voxel.example/accounts/password-reset/" in message.body


def test_the_password_reset_of_a_resellers_customer(client, voxel_buyer):
    client.post(reverse("accounts:password_reset"), {"email": voxel_buyer.email})
    message = mail.outbox[-1]
    assert (message.from_email, message.reply_to) == (BRANDED_FROM, ["help@voxel.example"])
    assert "your Voxel Voice account" in message.body


def test_no_reset_email_on_a_host_the_user_cannot_sign_in_on(client, voxel, customer_admin):
    response = client.post(
        reverse("accounts:password_reset"),
        {"email": customer_admin.email},
        HTTP_HOST="voice.voxel.example",
    )
    assert response.status_code == 302  # the same answer as for any address
    assert mail.outbox == []
    client.post(reverse("accounts:password_reset"), {"email": customer_admin.email})
    assert len(mail.outbox) == 1 and mail.outbox[0].reply_to == []
