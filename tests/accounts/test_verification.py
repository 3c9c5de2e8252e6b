"""Item 22: self-service sign-up confirms the e-mail address (a link through the outbox)
before the account can buy; a banner says so and resends the link (throttled)."""

import importlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from cart.models import Order
from cart.orders import order_place
from cart.services import cart_add_any
from outbox.models import OutgoingEmail
from tests.billing.factories import fund
from tests.factories import UserFactory, platform
from tests.inventory.factories import DIDFactory

pytestmark = pytest.mark.django_db


def sign_up(client, email="new@example.test"):
    platform()
    response = client.post(
        reverse("accounts:signup"),
        {
            "full_name": "Nina New",
            "email": email,
            "company_name": "New Co",
            "country": "FR",
            "password": "purple-elephant-42",
        },
    )
    assert response.status_code == 302
    return User.objects.get(email=email)


def link_in(email):
    return re.search(r"https?://\S+/accounts/verify-email/\S+/", email.text).group(0)


def path_of(link):
    return "/" + link.split("/", 3)[3]


def test_signup_starts_unverified_and_queues_the_link(client):
    user = sign_up(client)
    assert user.email_verified_at is None
    email = OutgoingEmail.objects.get(to=[user.email])
    assert "Confirm your e-mail address" in email.subject
    assert link_in(email)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'id="verify-email-banner"' in page and user.email in page


def test_an_unverified_user_cannot_buy_until_the_link_is_opened(client):
    """A newcomer may fill a cart (picks made before sign-up land there), but the checkout
    refuses until the address is confirmed, and says how."""
    user = sign_up(client)
    fund(user.account, "100.00")
    block = DIDFactory().block
    assert cart_add_any(user=user, block=block, quantity=1).items
    with pytest.raises(ValidationError, match="Confirm your e-mail address"):
        order_place(user=user, token="before-confirming")
    # Through the page: the checkout says why, and nothing is bought.
    token = client.get(reverse("cart:checkout")).context["token"]
    response = client.post(reverse("cart:checkout"), {"token": token})
    assert "Confirm your e-mail address" in response.content.decode()
    assert not Order.objects.exists()

    response = client.get(path_of(link_in(OutgoingEmail.objects.get())), follow=True)
    assert "is confirmed" in response.content.decode()
    assert 'id="verify-email-banner"' not in response.content.decode()
    user.refresh_from_db()
    assert user.email_verified_at is not None
    assert order_place(user=user, token="after-confirming").items.exists()


def test_the_link_works_signed_out_and_twice(client):
    user = sign_up(client)
    link = path_of(link_in(OutgoingEmail.objects.get()))
    client.logout()
    assert client.get(link)["Location"] == reverse("accounts:login")
    assert client.get(link).status_code == 302
    user.refresh_from_db()
    assert user.email_verified_at is not None


def test_an_expired_or_forged_link_is_refused(client, settings):
    user = sign_up(client)
    link = path_of(link_in(OutgoingEmail.objects.get()))
    later = timezone.now() + timedelta(days=settings.EMAIL_VERIFICATION_DAYS, minutes=1)
    with time_machine.travel(later, tick=False):
        response = client.get(link, follow=True)
    assert "expired" in response.content.decode()
    forged = link.replace(link.rstrip("/").rsplit(":", 1)[-1], "forged")
    assert "not valid" in client.get(forged, follow=True).content.decode()
    user.refresh_from_db()
    assert user.email_verified_at is None


def test_resend_from_the_banner_is_throttled(client, settings):
    settings.EMAIL_VERIFICATION_SENDS_PER_HOUR = 3
    user = sign_up(client)  # the first e-mail counts
    resend = reverse("accounts:verify_email_resend")
    for _ in range(2):
        response = client.post(resend, {"next": "/cart/"}, follow=True)
        assert "We sent a new confirmation link" in response.content.decode()
    response = client.post(resend, {"next": "https://evil.example/"})
    assert response["Location"] == reverse("dashboard")
    page = client.get(reverse("dashboard")).content.decode()
    assert "several confirmation e-mails" in page
    assert OutgoingEmail.objects.filter(to=[user.email]).count() == 3


def test_users_made_by_admins_and_demo_users_count_as_verified(client, customer_admin):
    client.force_login(customer_admin)
    client.post(
        reverse("accounts:team_add"),
        {"full_name": "Ted", "email": "ted@example.test", "role": "customer_member"},
    )
    assert User.objects.get(email="ted@example.test").email_verified_at is not None
    assert UserFactory().email_verified_at is not None
    page = client.get(reverse("dashboard")).content.decode()
    assert 'id="verify-email-banner"' not in page


def test_the_migration_counts_existing_users_as_verified():
    migration = importlib.import_module(
        "accounts.migrations.0004_user_may_buy_billing_role_email_verified"
    ).Migration
    added = {
        op.name: op.field for op in migration.operations if op.__class__.__name__ == "AddField"
    }
    field = added["email_verified_at"]
    assert field.null and field.default is timezone.now  # existing rows: verified at migration
