import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Account, User
from tests.factories import TEST_PASSWORD, AccountFactory, UserFactory, platform

pytestmark = pytest.mark.django_db


def login(client, email, password=TEST_PASSWORD):
    return client.post(reverse("accounts:login"), {"username": email, "password": password})


def test_sign_in_by_email_in_any_case(client, customer_admin):
    response = login(client, customer_admin.email.upper())
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).context["user"] == customer_admin


def test_wrong_password_shows_an_error(client, customer_admin):
    response = login(client, customer_admin.email, "wrong")
    assert response.status_code == 200
    assert b"Please enter a correct" in response.content


def test_login_is_throttled_after_repeated_failures(client, customer_admin, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, customer_admin.email, "wrong")
    response = login(client, customer_admin.email)  # right password, but locked out now
    assert response.status_code == 429
    assert b"Too many sign-in attempts" in response.content


def test_sign_out_needs_post(client, customer_admin):
    client.force_login(customer_admin)
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("dashboard")).status_code == 302


def test_signup_creates_a_customer_and_signs_in(client):
    platform()
    response = client.post(
        reverse("accounts:signup"),
        {
            "full_name": "Jane Buyer",
            "email": "jane@example.test",
            "company_name": "Jane's Shop",
            "country": "FR",
            "password": "purple-elephant-42",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="jane@example.test")
    assert user.account.parent.kind == Account.Kind.PLATFORM
    assert client.get(reverse("dashboard")).context["user"] == user


def test_signup_through_reseller_link(client):
    platform()
    reseller = AccountFactory(kind="reseller", signup_code="voxel-link-123")
    url = reverse("accounts:signup_reseller", args=["voxel-link-123"])
    assert reseller.name.encode() in client.get(url).content
    client.post(
        url,
        {
            "full_name": "Kurt",
            "email": "kurt@example.test",
            "company_name": "Kurt GmbH",
            "country": "DE",
            "password": "purple-elephant-42",
        },
    )
    assert User.objects.get(email="kurt@example.test").account.parent == reseller


def test_signup_with_taken_email_names_the_field(client, customer_admin):
    response = client.post(
        reverse("accounts:signup"),
        {
            "full_name": "Dup",
            "email": customer_admin.email,
            "company_name": "Dup Co",
            "country": "FR",
            "password": "purple-elephant-42",
        },
    )
    assert response.status_code == 200
    assert "already exists" in str(response.context["form"].errors["email"])
    assert not Account.objects.filter(name="Dup Co").exists()


def test_weak_password_is_refused_on_signup(client):
    platform()
    response = client.post(
        reverse("accounts:signup"),
        {
            "full_name": "Weak",
            "email": "weak@example.test",
            "company_name": "Weak Co",
            "country": "FR",
            "password": "123",
        },
    )
    assert "password" in response.context["form"].errors
    assert not User.objects.filter(email="weak@example.test").exists()


def test_password_reset_by_email(client, customer_admin):
    client.post(reverse("accounts:password_reset"), {"email": customer_admin.email})
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/password-reset/\S+/\S+/", mail.outbox[0].body).group(0)
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0]
    client.post(
        form_url, {"new_password1": "new-secret-pass-9", "new_password2": "new-secret-pass-9"}
    )
    customer_admin.refresh_from_db()
    assert customer_admin.check_password("new-secret-pass-9")


def test_passwords_are_hashed_with_argon2(customer_admin, settings):
    """With production's hashers (the suite uses a fast one), a password set through the
    model is an Argon2 hash."""
    import didportal.settings as production

    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    customer_admin.set_password("a-real-password-2026")
    assert customer_admin.password.startswith("argon2")
    assert customer_admin.check_password("a-real-password-2026")


@pytest.mark.parametrize(
    ("role", "heading"),
    [
        ("platform_admin", "Platform dashboard"),
        ("platform_finance", "Finance dashboard"),
        ("reseller_admin", "Reseller dashboard"),
        ("customer_admin", "Welcome"),
        ("customer_member", "Welcome"),
    ],
)
def test_each_role_has_its_dashboard(client, role, heading):
    kind = role.split("_")[0]
    account = platform() if kind == "platform" else AccountFactory(kind=kind)
    client.force_login(UserFactory(account=account, role=role))
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert heading.encode() in response.content


def test_navigation_is_role_aware(client, customer_admin, platform_admin):
    client.force_login(customer_admin)
    labels = [item["label"] for item in client.get("/").context["nav_items"]]
    assert labels == [
        "Buy numbers",
        "My numbers",
        "Orders",
        "Cart",
        "Registrations",
        "Balance & invoices",
    ]
    client.force_login(platform_admin)
    labels = [item["label"] for item in client.get("/").context["nav_items"]]
    assert labels == [
        "Inventory",
        "Pricing",
        "Customers",
        "Resellers",
        "Orders",
        "Invoices",
        "Payments",
        "Compliance",
        "Review queue",
    ]


def test_the_account_menu_offers_api_keys_and_webhooks_to_admins_only(
    client, customer_admin, customer_member
):
    client.force_login(customer_admin)
    page = client.get("/").content.decode()
    assert 'href="/account/api-keys/">API keys</a>' in page
    assert 'href="/account/webhooks/">Webhooks</a>' in page
    client.force_login(customer_member)
    page = client.get("/").content.decode()
    assert "/account/api-keys/" not in page and "/account/webhooks/" not in page


def test_customers_who_may_not_buy_still_follow_registrations(client, customer_admin):
    accountant = UserFactory(account=customer_admin.account, role="customer_billing")
    client.force_login(accountant)
    labels = [item["label"] for item in client.get("/").context["nav_items"]]
    assert labels == ["My numbers", "Orders", "Registrations", "Balance & invoices"]


def test_customer_cannot_open_staff_pages(client, customer_admin):
    client.force_login(customer_admin)
    assert client.get(reverse("accounts:customers")).status_code == 403


def test_member_cannot_manage_the_team(client, customer_member):
    client.force_login(customer_member)
    assert client.get(reverse("accounts:team")).status_code == 403


def test_anonymous_user_is_sent_to_sign_in(client):
    response = client.get(reverse("accounts:customers"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_reseller_lists_only_its_customers(client, reseller, reseller_admin):
    AccountFactory(parent=reseller, name="Mine")
    AccountFactory(name="Not mine")
    client.force_login(reseller_admin)
    page = client.get(reverse("accounts:customers")).context["page"]
    assert [a.name for a in page.object_list] == ["Mine"]


def test_customer_list_query_count_does_not_grow(
    client, platform_admin, django_assert_max_num_queries
):
    for _ in range(30):
        UserFactory(account=AccountFactory())
    client.force_login(platform_admin)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("accounts:customers"))
    assert len(response.context["page"].object_list) == 25


def test_platform_admin_suspends_a_customer(client, platform_admin, customer):
    client.force_login(platform_admin)
    client.post(
        reverse("accounts:customer_set_status", args=[customer.pk]), {"status": "suspended"}
    )
    customer.refresh_from_db()
    assert customer.status == "suspended"


def test_finance_can_look_but_not_suspend(client, finance_user, customer):
    client.force_login(finance_user)
    assert client.get(reverse("accounts:customer_detail", args=[customer.pk])).status_code == 200
    response = client.post(
        reverse("accounts:customer_set_status", args=[customer.pk]), {"status": "suspended"}
    )
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.status == "active"


def test_suspended_customer_sees_a_notice(client):
    user = UserFactory(account=AccountFactory(status="suspended"))
    client.force_login(user)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 403
    assert b"suspended" in response.content


def test_creating_a_customer_invites_its_admin(
    client, reseller_admin, django_capture_on_commit_callbacks
):
    client.force_login(reseller_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:customer_create"),
            {
                "company_name": "Invited Co",
                "country": "ES",
                "admin_name": "Ines",
                "admin_email": "ines@example.test",
            },
        )
    assert response.status_code == 302
    invited = User.objects.get(email="ines@example.test")
    assert invited.account.parent == reseller_admin.account
    assert not invited.has_usable_password()
    assert len(mail.outbox) == 1 and "/password-reset/" in mail.outbox[0].body


def test_team_admin_adds_a_member(client, customer_admin, django_capture_on_commit_callbacks):
    client.force_login(customer_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("accounts:team_add"),
            {"full_name": "Tim", "email": "tim@example.test", "role": "customer_member"},
        )
    assert User.objects.get(email="tim@example.test").account == customer_admin.account
    assert len(mail.outbox) == 1


def test_team_admin_cannot_give_a_platform_role(client, customer_admin):
    client.force_login(customer_admin)
    response = client.post(
        reverse("accounts:team_add"),
        {"full_name": "Eve", "email": "eve@example.test", "role": "platform_admin"},
    )
    assert "role" in response.context["form"].errors
    assert not User.objects.filter(email="eve@example.test").exists()


def test_billing_details_reject_a_bad_vat_number(client, customer_admin):
    client.force_login(customer_admin)
    response = client.post(
        reverse("accounts:settings"),
        {"name": "Acme", "legal_name": "Acme", "country": "DE", "address": "", "vat_number": "DE1"},
    )
    assert "vat_number" in response.context["form"].errors


def test_member_cannot_change_billing_details(client, customer_member):
    client.force_login(customer_member)
    client.post(
        reverse("accounts:settings"),
        {"name": "Hijack", "legal_name": "H", "country": "DE", "address": "", "vat_number": ""},
    )
    customer_member.account.refresh_from_db()
    assert customer_member.account.name != "Hijack"


def test_unknown_page_is_a_friendly_404(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_healthz_answers_any_host_over_http(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
