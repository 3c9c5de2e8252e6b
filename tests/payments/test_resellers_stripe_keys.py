"""A reseller's Stripe keys page: who may use it, what it accepts, what it stores and shows."""

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from payments import stripe_api
from payments.models import StripeKeys
from payments.services import stripe_keys as service
from tests.factories import AccountFactory, UserFactory, platform

pytestmark = pytest.mark.postgres

URL = "/payments/stripe-keys/"
REMOVE_URL = "/payments/stripe-keys/remove/"

PK_TEST = "pk_test_" + "P" * 40
SK_TEST = "sk_test_" + "s" * 40 + "WXYZ"
PK_LIVE = "pk_live_" + "L" * 40
SK_LIVE = "sk_live_" + "q" * 40 + "abcd"
RK_LIVE = "rk_live_" + "r" * 40 + "RRRR"
WHSEC = "whsec_" + "w" * 32 + "wh42"


def _post(client, **fields):
    data = {"publishable_key": PK_TEST, "secret_key": SK_TEST, "webhook_secret": WHSEC}
    data.update(fields)
    return client.post(URL, data)


@pytest.fixture
def admin_client(client, reseller_admin):
    client.force_login(reseller_admin)
    return client


def test_page_without_keys_says_bank_transfer(admin_client):
    page = admin_client.get(URL).content.decode()
    assert "No keys yet" in page
    assert "webhook-url" not in page


def test_brand_page_links_to_the_keys_page(admin_client):
    assert URL in admin_client.get("/accounts/brand/").content.decode()


def test_save_encrypts_and_shows_only_last_four(admin_client, reseller):
    response = _post(admin_client)
    assert response.status_code == 302
    keys = StripeKeys.objects.get(account=reseller)
    assert keys.publishable_key == PK_TEST
    assert SK_TEST not in keys.secret_key_encrypted
    assert WHSEC not in keys.webhook_secret_encrypted
    assert stripe_api.keys_for(reseller) == stripe_api.Keys(SK_TEST, WHSEC, PK_TEST)
    assert len(keys.webhook_token) >= 40

    page = admin_client.get(URL).content.decode()
    assert "sk_test_…WXYZ" in page and "whsec_…wh42" in page
    assert SK_TEST not in page and WHSEC not in page
    assert "test mode" in page
    assert f"http://127.0.0.1:8000/payments/stripe/webhook/{keys.webhook_token}/" in page
    for event in service.WEBHOOK_EVENTS:
        assert event in page


def test_secrets_are_not_in_the_database_in_clear(admin_client, reseller):
    _post(admin_client)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret_key_encrypted, webhook_secret_encrypted FROM payments_stripekeys"
        )
        rows = cursor.fetchall()
        cursor.execute("SELECT * FROM payments_historicalstripekeys")
        history = cursor.fetchall()
    dumped = repr(rows) + repr(history)
    assert rows and SK_TEST not in dumped and WHSEC not in dumped
    assert "s" * 40 not in dumped and "w" * 32 not in dumped


def test_webhook_url_is_on_the_resellers_own_host(admin_client, reseller, settings):
    from accounts.branding import brand_host_add

    settings.SITE_URL = "https://portal.example:8443"
    brand_host_add(account=reseller, host="voice.reseller.example")
    _post(admin_client)
    token = StripeKeys.objects.get(account=reseller).webhook_token
    page = admin_client.get(URL).content.decode()
    assert f"https://voice.reseller.example:8443/payments/stripe/webhook/{token}/" in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"publishable_key": ""}, "publishable_key", "Enter the publishable key."),
        ({"secret_key": ""}, "secret_key", "Enter the secret key."),
        ({"webhook_secret": ""}, "webhook_secret", "Enter the webhook signing secret."),
        ({"publishable_key": "pk_prod_" + "x" * 30}, "publishable_key", "starts with pk_live_"),
        ({"publishable_key": SK_TEST}, "publishable_key", "That is a secret key"),
        ({"secret_key": PK_TEST}, "secret_key", "That is the publishable key"),
        ({"secret_key": "sk_test_short"}, "secret_key", "starts with sk_live_"),
        ({"secret_key": "sk_test_" + "a" * 20 + " b" * 5}, "secret_key", "starts with sk_live_"),
        ({"secret_key": "sk_test_" + "é" * 30}, "secret_key", "starts with sk_live_"),
        ({"webhook_secret": "wh_" + "x" * 30}, "webhook_secret", "starts with whsec_"),
        ({"secret_key": "sk_test_" + "a" * 300}, "secret_key", "308 characters"),
        ({"publishable_key": "pk_test_" + "a" * 1000}, "publishable_key", "at most 1000"),
        ({"secret_key": SK_LIVE}, "secret_key", "publishable key is a test key"),
        ({"publishable_key": PK_LIVE}, "secret_key", "publishable key is a live key"),
        ({"publishable_key": PK_LIVE, "secret_key": "rk_test_" + "r" * 30}, "secret_key", "live"),
    ],
)
def test_bad_keys_are_refused_by_field(admin_client, reseller, fields, field, message):
    response = _post(admin_client, **fields)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not StripeKeys.objects.filter(account=reseller).exists()
    # A secret typed into the form is never echoed back.
    page = response.content.decode()
    assert SK_TEST not in page and WHSEC not in page


def test_surrounding_whitespace_is_trimmed(admin_client, reseller):
    response = _post(
        admin_client,
        publishable_key=f"  {PK_LIVE}\n",
        secret_key=f"\t{RK_LIVE} ",
        webhook_secret=f" {WHSEC}\r\n",
    )
    assert response.status_code == 302
    assert stripe_api.keys_for(reseller) == stripe_api.Keys(RK_LIVE, WHSEC, PK_LIVE)
    assert "rk_live_…RRRR" in admin_client.get(URL).content.decode()


def test_update_keeps_secrets_left_empty_and_the_webhook_token(admin_client, reseller):
    _post(admin_client)
    token = StripeKeys.objects.get(account=reseller).webhook_token
    new_whsec = "whsec_" + "n" * 36
    response = _post(admin_client, secret_key="", webhook_secret=new_whsec)
    assert response.status_code == 302
    keys = StripeKeys.objects.get(account=reseller)
    assert keys.webhook_token == token
    assert stripe_api.keys_for(reseller) == stripe_api.Keys(SK_TEST, new_whsec, PK_TEST)
    # The mode check uses the stored secret key when none is entered.
    response = _post(admin_client, publishable_key=PK_LIVE, secret_key="", webhook_secret="")
    assert response.status_code == 400
    assert "live key" in " ".join(response.context["form"].errors["secret_key"])


def test_every_change_is_in_the_history_with_who(admin_client, reseller, reseller_admin):
    _post(admin_client)
    _post(admin_client, secret_key="sk_test_" + "z" * 30, webhook_secret="")
    admin_client.post(REMOVE_URL)
    history = list(
        StripeKeys.history.filter(account_id=reseller.pk).order_by("history_date", "history_id")
    )
    assert [(h.history_type, h.history_change_reason) for h in history] == [
        ("+", "keys added"),
        ("~", "replaced: secret key"),
        ("-", "keys removed"),
    ]
    assert {h.history_user_id for h in history} == {reseller_admin.pk}
    assert not hasattr(history[0], "secret_key_encrypted")
    page = admin_client.get(URL).content.decode()
    assert "keys removed" in page and reseller_admin.email in page


def test_remove_asks_first_then_customers_fall_back(admin_client, reseller):
    _post(admin_client)
    page = admin_client.get(REMOVE_URL).content.decode()
    assert "Remove your Stripe keys?" in page
    assert StripeKeys.objects.filter(account=reseller).exists()
    response = admin_client.post(REMOVE_URL)
    assert response.status_code == 302
    assert not StripeKeys.objects.filter(account=reseller).exists()
    customer = AccountFactory(parent=reseller)
    assert not stripe_api.card_payments_enabled_for(customer)
    # Nothing left to remove: back to the page, no error.
    assert admin_client.post(REMOVE_URL).status_code == 302


@pytest.mark.parametrize(
    "role", ["reseller_finance", "reseller_support", "customer_admin", "platform_finance"]
)
def test_other_roles_are_refused(client, reseller, role):
    if role.startswith("reseller"):
        account = reseller
    else:
        account = platform() if role.startswith("platform") else AccountFactory()
    client.force_login(UserFactory(account=account, role=role))
    for url in (URL, REMOVE_URL):
        assert client.get(url).status_code == 403
    assert _post(client).status_code == 403
    assert client.post(REMOVE_URL).status_code == 403
    assert not StripeKeys.objects.exists()


def test_a_customer_of_the_reseller_is_refused(client, reseller):
    client.force_login(UserFactory(account=AccountFactory(parent=reseller), role="customer_admin"))
    assert client.get(URL).status_code == 403
    assert _post(client).status_code == 403


def test_another_reseller_sees_and_changes_only_its_own(client, reseller, reseller_admin):
    client.force_login(reseller_admin)
    _post(client)
    other = UserFactory(account=AccountFactory(kind="reseller"), role="reseller_admin")
    client.force_login(other)
    page = client.get(URL).content.decode()
    assert "No keys yet" in page and PK_TEST not in page and "…WXYZ" not in page
    client.post(REMOVE_URL)
    assert StripeKeys.objects.filter(account=reseller).exists()
    _post(client, publishable_key=PK_LIVE, secret_key=SK_LIVE)
    assert stripe_api.keys_for(reseller).secret_key == SK_TEST
    assert stripe_api.keys_for(other.account).secret_key == SK_LIVE


def test_service_refuses_another_resellers_admin(reseller, reseller_admin):
    from django.core.exceptions import PermissionDenied

    other = UserFactory(account=AccountFactory(kind="reseller"), role="reseller_admin")
    with pytest.raises(PermissionDenied):
        service.stripe_keys_set(
            actor=other,
            account=reseller,
            publishable_key=PK_TEST,
            secret_key=SK_TEST,
            webhook_secret=WHSEC,
        )
    with pytest.raises(PermissionDenied):
        service.stripe_keys_remove(actor=other, account=reseller)


def test_unreadable_keys_hide_card_and_ask_for_them_again(admin_client, reseller, settings, caplog):
    _post(admin_client)
    customer = AccountFactory(parent=reseller)
    assert stripe_api.card_payments_enabled_for(customer)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with caplog.at_level("ERROR"):
        assert not stripe_api.card_payments_enabled_for(customer)
    assert "cannot be decrypted" in caplog.text
    page = admin_client.get(URL)
    assert page.status_code == 200
    assert "can no longer be read" in page.content.decode()
    # Only the publishable key is not enough: the secrets must be entered again.
    response = _post(admin_client, secret_key="", webhook_secret="")
    assert response.status_code == 400
    assert "Enter the secret key." in response.context["form"].errors["secret_key"]
    assert _post(admin_client).status_code == 302
    assert stripe_api.card_payments_enabled_for(customer)


def test_key_rotation_keeps_old_secrets_readable(admin_client, reseller, settings):
    old = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    _post(admin_client)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]
    assert stripe_api.keys_for(reseller).secret_key == SK_TEST
