"""Resellers' brands: the logo check, the editor, the public logo and stylesheet, host
names and the host middleware, sign-up and sign-in on a reseller's host, the brand on
pages."""

import io
import os

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse
from PIL import Image

from accounts import branding
from accounts.models import Account, Brand, BrandHost, User
from tests.factories import TEST_PASSWORD, AccountFactory, UserFactory, platform

pytestmark = pytest.mark.django_db

HOST = "voice.voxel.example"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def image_bytes(fmt="PNG", size=(40, 20)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")
GIF = image_bytes("GIF")
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
def voxel(db):
    return AccountFactory(kind="reseller", name="Voxel Telecom Holding")


@pytest.fixture
def voxel_admin(voxel):
    return UserFactory(account=voxel, role="reseller_admin")


@pytest.fixture
def voxel_customer_admin(voxel):
    customer = AccountFactory(kind="customer", parent=voxel, name="Bakery Voxelcustomer")
    return UserFactory(account=customer, role="customer_admin")


@pytest.fixture
def voxel_brand(voxel):
    brand = branding.brand_update(
        account=voxel,
        display_name="Voxel Voice",
        primary_colour="#AA3300",
        support_email="help@voxel.example",
        support_phone="+31 20 794 2000",
        invoice_footer="",
        bank_details="",
        logo=PNG,
        logo_name="logo.png",
    )
    branding.brand_host_add(account=voxel, host=HOST)
    return brand


# --- The logo check -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [(PNG, "l.png", "image/png"), (JPEG, "l.jpeg", "image/jpeg"), (JPEG, "logo", "image/jpeg")],
)
def test_png_and_jpeg_logos_pass(data, name, kind):
    assert branding.logo_check(data, name=name) == kind


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (GIF, "logo.gif", "PNG or JPEG"),
        (GIF, "logo.png", "PNG or JPEG"),  # the name does not make it a PNG
        (SVG, "logo.svg", "PNG or JPEG"),
        (b"", "logo.png", "empty"),
        (PNG, "logo.jpg", "holds a PNG image"),  # a PNG under a JPEG's name
        (JPEG, "logo.png", "holds a JPEG image"),
        (PNG[:60], "logo.png", "could not be read"),  # truncated
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "logo.png", "could not be read"),
        (image_bytes("PNG", (2000, 100)), "wide.png", "2000×100 pixels"),
    ],
)
def test_other_logos_are_refused_with_the_reason(data, name, words):
    with pytest.raises(ValidationError) as caught:
        branding.logo_check(data, name=name)
    assert words in " ".join(caught.value.messages)


def test_a_logo_above_the_byte_cap_is_refused(settings):
    settings.BRAND_LOGO_MAX_BYTES = 1024
    noisy = io.BytesIO()
    Image.frombytes("RGB", (64, 64), os.urandom(64 * 64 * 3)).save(noisy, format="PNG")
    with pytest.raises(ValidationError, match="the most is 1 KB"):
        branding.logo_check(noisy.getvalue(), name="big.png")


# --- The editor -----------------------------------------------------------------------------


def post_brand(client, **overrides):
    data = {
        "display_name": "Voxel Voice",
        "primary_colour": "#AA3300",
        "support_email": "help@voxel.example",
        "support_phone": "+31 20 794 2000",
        "invoice_footer": "Voxel Telecom B.V., KvK 1234",
        "bank_details": "IBAN NL91 ABNA 0417 1643 00",
        **overrides,
    }
    return client.post(reverse("accounts:brand"), data)


def test_a_reseller_without_a_brand_shows_its_account_name(client, voxel_admin, voxel):
    client.force_login(voxel_admin)
    response = client.get(reverse("accounts:brand"))
    assert response.status_code == 200
    assert response.context["form"].initial["display_name"] == voxel.name
    assert branding.brand_of_reseller(voxel.pk).name == voxel.name
    assert not Brand.objects.exists()


def test_the_reseller_saves_its_brand_with_a_logo_and_it_is_recorded(client, voxel_admin, voxel):
    client.force_login(voxel_admin)
    response = post_brand(client, logo=SimpleUploadedFile("logo.png", PNG, "image/png"))
    assert response.status_code == 302
    brand = Brand.objects.get(account=voxel)
    assert (brand.display_name, brand.primary_colour, brand.logo_content_type) == (
        "Voxel Voice",
        "#aa3300",
        "image/png",
    )
    assert bytes(brand.logo) == PNG
    assert brand.support_phone == "+31 20 794 2000"
    assert brand.history.get().history_user == voxel_admin
    # Saving again without a file keeps the logo; "remove" drops it; both are recorded.
    post_brand(client, display_name="Voxel")
    assert Brand.objects.get(account=voxel).logo_content_type == "image/png"
    post_brand(client, remove_logo="on")
    brand.refresh_from_db()
    assert (brand.logo, brand.logo_content_type) == (None, "")
    assert brand.history.count() == 3


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        (SimpleUploadedFile("logo.png", b"", "image/png"), "The logo file is empty."),
        (SimpleUploadedFile("logo.gif", GIF, "image/gif"), "PNG or JPEG"),
        (SimpleUploadedFile("logo.svg", SVG, "image/svg+xml"), "PNG or JPEG"),
        (SimpleUploadedFile("logo.png", b"x" * 300_000, "image/png"), "the most is 200 KB"),
        (SimpleUploadedFile("logo.jpg", PNG, "image/jpeg"), "holds a PNG image"),
    ],
)
def test_a_bad_logo_names_the_field_and_saves_nothing(client, voxel_admin, upload, words):
    client.force_login(voxel_admin)
    response = post_brand(client, display_name="Changed", logo=upload)
    assert response.status_code == 400
    assert words in " ".join(response.context["form"].errors["logo"])
    assert not Brand.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("primary_colour", "red", "not a colour"),
        ("primary_colour", "#12345", "not a colour"),
        ("support_phone", "12345", "not a valid phone number"),
        ("support_email", "not-an-address", "valid email"),
        ("display_name", "   ", "required"),
    ],
)
def test_bad_fields_are_named_and_nothing_is_saved(client, voxel_admin, field, value, words):
    client.force_login(voxel_admin)
    response = post_brand(client, **{field: value})
    assert response.status_code == 400
    assert words in " ".join(response.context["form"].errors[field]).lower().replace(
        "e-mail", "email"
    ) or words in " ".join(response.context["form"].errors[field])
    assert not Brand.objects.exists()


def test_only_reseller_admins_edit_a_brand(client, customer_admin, platform_admin):
    for user in (customer_admin, platform_admin):
        client.force_login(user)
        assert client.get(reverse("accounts:brand")).status_code == 403
    with pytest.raises(ValidationError):
        branding.brand_update(account=customer_admin.account, display_name="Mine")


def test_the_reseller_navigation_has_a_brand_entry(client, voxel_admin):
    client.force_login(voxel_admin)
    response = client.get(reverse("accounts:brand"))
    labels = [item["label"] for item in response.context["nav_items"]]
    assert "Brand" in labels


# --- The public logo and stylesheet ---------------------------------------------------------


def test_the_logo_is_served_with_its_type_and_caching_headers(client, voxel_brand, voxel):
    response = client.get(reverse("brand_logo", args=[voxel.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "public" in response["Cache-Control"]
    assert response.content == PNG
    etag = response["ETag"]
    again = client.get(reverse("brand_logo", args=[voxel.pk]), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    # A new logo is a new ETag.
    branding.brand_update(account=voxel, logo=JPEG, logo_name="l.jpg")
    changed = client.get(reverse("brand_logo", args=[voxel.pk]), HTTP_IF_NONE_MATCH=etag)
    assert (changed.status_code, changed["Content-Type"]) == (200, "image/jpeg")


def test_the_stylesheet_sets_the_brand_colour(client, voxel_brand, voxel):
    response = client.get(reverse("brand_css", args=[voxel.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b".bg-portal { background: #aa3300; }" in response.content
    assert response.has_header("ETag")


def test_no_brand_no_logo_and_non_resellers_answer_404(client, voxel, customer):
    for url in (
        reverse("brand_logo", args=[voxel.pk]),
        reverse("brand_css", args=[voxel.pk]),
        reverse("brand_css", args=[customer.pk]),
        reverse("brand_logo", args=[999999]),
    ):
        assert client.get(url).status_code == 404
    branding.brand_update(account=voxel, display_name="No logo yet")
    assert client.get(reverse("brand_logo", args=[voxel.pk])).status_code == 404
    assert client.get(reverse("brand_css", args=[voxel.pk])).status_code == 200


# --- Host names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        ("VOICE.Voxel.example:443", "voice.voxel.example"),
        ("  voice.voxel.example.  ", "voice.voxel.example"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("a-b.c0.example", "a-b.c0.example"),
    ],
)
def test_host_names_are_normalised(raw, host):
    assert branding.host_normalise(raw) == host


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "https://voice.voxel.example",
        "voice.voxel.example/path",
        "localhost",
        "10.0.0.7",
        "*.voxel.example",
        "-bad.example",
        "under_score.example",
        "[::1]",
        "voice.voxel.example:http",
        "a" * 64 + ".example",
    ],
)
def test_bad_host_names_are_refused(raw):
    with pytest.raises(ValidationError):
        branding.host_normalise(raw)


def test_platform_admin_adds_and_removes_hosts(client, platform_admin, voxel):
    client.force_login(platform_admin)
    url = reverse("brand_hosts", args=[voxel.pk])
    response = client.post(url, {"host": "VOICE.Voxel.example:443"})
    assert response.status_code == 302
    brand_host = BrandHost.objects.get()
    assert (brand_host.host, brand_host.account) == (HOST, voxel)
    # The same name again (any spelling), a platform host, or junk: refused, named.
    other = AccountFactory(kind="reseller")
    for host, words in (
        ("voice.VOXEL.example", "registered already"),
        ("localhost", "not a valid host name"),
        ("http://x.example", "not a host name"),
    ):
        response = client.post(reverse("brand_hosts", args=[other.pk]), {"host": host})
        assert response.status_code == 400
        assert words in " ".join(response.context["form"].errors["host"])
    assert BrandHost.objects.count() == 1
    response = client.post(reverse("brand_host_remove", args=[voxel.pk, brand_host.pk]))
    assert response.status_code == 302
    assert not BrandHost.objects.exists()


def test_the_platform_hosts_cannot_be_registered(settings, voxel):
    settings.ALLOWED_HOSTS = ["*", "portal.example.com"]
    with pytest.raises(ValidationError, match="platform's own"):
        branding.brand_host_add(account=voxel, host="Portal.Example.com")


def test_only_platform_admins_manage_hosts(client, voxel_admin, finance_user, voxel, customer):
    for user in (voxel_admin, finance_user):
        client.force_login(user)
        assert client.get(reverse("brand_hosts", args=[voxel.pk])).status_code == 403
    bh = BrandHost.objects.create(host=HOST, account=voxel)
    client.force_login(voxel_admin)
    assert client.post(reverse("brand_host_remove", args=[voxel.pk, bh.pk])).status_code == 403
    assert BrandHost.objects.exists()
    client.force_login(UserFactory(account=platform(), role="platform_admin"))
    assert client.get(reverse("brand_hosts", args=[customer.pk])).status_code == 404
    wrong = reverse("brand_host_remove", args=[customer.pk, bh.pk])
    assert client.post(wrong).status_code == 404


# --- The host middleware --------------------------------------------------------------------


def test_a_known_host_sets_the_reseller_in_any_spelling(client, voxel_brand, voxel):
    for host in (HOST, "VOICE.Voxel.example:443", "voice.voxel.example:8000"):
        response = client.get(reverse("catalog:coverage"), HTTP_HOST=host)
        assert response.status_code == 200, host
        assert response.wsgi_request.host_reseller == voxel
        assert response.wsgi_request.host_reseller_id == voxel.pk


def test_the_platform_host_has_no_reseller(client, voxel_brand):
    response = client.get(reverse("catalog:coverage"))
    assert response.status_code == 200
    assert response.wsgi_request.host_reseller is None


@pytest.mark.parametrize("host", ["evil.example", "voice.voxel.example.evil.example", "", "a b"])
def test_an_unknown_host_is_refused_with_the_400_page(client, voxel_brand, host):
    response = client.get(reverse("catalog:coverage"), HTTP_HOST=host)
    assert response.status_code == 400
    assert b"This address is not served here" in response.content
    assert b"Traceback" not in response.content


def test_a_removed_host_is_refused_at_once(client, voxel_brand, voxel):
    assert client.get("/", HTTP_HOST=HOST).status_code == 200
    branding.brand_host_remove(brand_host=BrandHost.objects.get(host=HOST))
    assert client.get("/", HTTP_HOST=HOST).status_code == 400


def test_the_registry_is_cached(client, voxel_brand, django_assert_num_queries):
    client.get("/", HTTP_HOST=HOST)  # fills the caches
    from django.test.client import RequestFactory as Factory  # noqa: PLC0415

    request = Factory().get("/", HTTP_HOST=HOST)
    with django_assert_num_queries(0):
        assert branding.host_lookup(request._get_raw_host()) is not None
    request.host_reseller_id = branding.host_lookup(request._get_raw_host())
    with django_assert_num_queries(1):  # the brand: one query, never the logo's bytes
        assert branding.brand_for_request(request).name == "Voxel Voice"


# --- Sign-up and sign-in on a reseller's host -----------------------------------------------


def signup_data(email="new@bakery.example"):
    return {
        "full_name": "Nina New",
        "email": email,
        "company_name": "Bakery Nina",
        "country": "NL",
        "password": "a-long-unusual-passphrase-42",
    }


def test_signing_up_on_a_resellers_host_makes_its_customer(client, voxel_brand, voxel):
    page = client.get(reverse("accounts:signup"), HTTP_HOST=HOST)
    assert b"looked after by" in page.content
    response = client.post(reverse("accounts:signup"), signup_data(), HTTP_HOST=HOST)
    assert response.status_code == 302
    account = User.objects.get(email="new@bakery.example").account
    assert (account.kind, account.parent) == ("customer", voxel)


def test_signing_up_on_the_platform_host_makes_a_direct_customer(client, voxel_brand):
    client.post(reverse("accounts:signup"), signup_data())
    assert User.objects.get(email="new@bakery.example").account.parent == platform()


def test_another_resellers_signup_link_is_refused_on_a_host(client, voxel_brand):
    other = AccountFactory(kind="reseller")
    url = reverse("accounts:signup_reseller", args=[other.signup_code])
    assert client.get(url, HTTP_HOST=HOST).status_code == 404


def test_sign_in_on_a_host_only_for_its_reseller_and_customers(
    client, voxel_brand, voxel_admin, voxel_customer_admin, customer_admin, platform_admin
):
    login = reverse("accounts:login")
    for user in (voxel_admin, voxel_customer_admin):
        client.logout()
        response = client.post(
            login, {"username": user.email, "password": TEST_PASSWORD}, HTTP_HOST=HOST
        )
        assert response.status_code == 302, user
    for user in (customer_admin, platform_admin):
        client.logout()
        response = client.post(
            login, {"username": user.email, "password": TEST_PASSWORD}, HTTP_HOST=HOST
        )
        assert response.status_code == 200
        assert b"not served on this address" in response.content
        assert "_auth_user_id" not in client.session


def test_a_session_on_someone_elses_host_gets_a_clear_page(client, voxel_brand, customer_admin):
    client.force_login(customer_admin)
    response = client.get(reverse("dashboard"), HTTP_HOST=HOST)
    assert response.status_code == 403
    assert b"not served on this address" in response.content
    # Signing out still works there.
    assert client.post(reverse("accounts:logout"), HTTP_HOST=HOST).status_code == 302


# --- The brand on pages ---------------------------------------------------------------------


def test_a_resellers_customer_sees_the_resellers_brand_anywhere(
    client, voxel_brand, voxel, voxel_customer_admin, settings
):
    client.force_login(voxel_customer_admin)
    response = client.get(reverse("dashboard"))  # on the platform's host
    brand = response.context["brand"]
    assert (brand.name, brand.reseller_id) == ("Voxel Voice", voxel.pk)
    html = response.content.decode()
    assert "<title>" in html and "Voxel Voice" in html.split("</title>")[0]
    assert settings.SITE_NAME not in html
    assert reverse("brand_css", args=[voxel.pk]) in html
    assert reverse("brand_logo", args=[voxel.pk]) in html
    assert "help@voxel.example" in html and "+31 20 794 2000" in html
    assert 'style="' not in html.split("<main")[0]  # no inline style: the CSP forbids it


def test_a_direct_customer_sees_the_platform(client, voxel_brand, customer_admin, settings):
    client.force_login(customer_admin)
    response = client.get(reverse("dashboard"))
    assert response.context["brand"].name == settings.SITE_NAME
    assert response.context["brand"].reseller_id is None
    assert b"/brand/" not in response.content


def test_anonymous_visitors_of_a_host_see_its_brand(client, voxel_brand, settings):
    response = client.get(reverse("catalog:coverage"), HTTP_HOST=HOST)
    html = response.content.decode()
    assert "Voxel Voice" in html and settings.SITE_NAME not in html
    assert client.get(reverse("catalog:coverage")).context["brand"].reseller_id is None


def test_a_reseller_without_a_brand_row_is_shown_by_its_account_name(client, voxel):
    BrandHost.objects.create(host=HOST, account=voxel)
    response = client.get("/", HTTP_HOST=HOST)
    assert response.context["brand"].name == voxel.name
    assert response.context["brand"].css_url == ""


def test_the_brand_of_a_request_without_a_session():
    request = RequestFactory().get("/")
    assert branding.brand_for_request(request).reseller_id is None
    assert Account.objects.count() >= 0


def test_the_system_check_wants_the_host_middleware_first(settings):
    from accounts.checks import brand_host_middleware_guards_hosts  # noqa: PLC0415

    assert brand_host_middleware_guards_hosts() == []
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith(".brand_host")]
    assert [e.id for e in brand_host_middleware_guards_hosts()] == ["accounts.E001"]
    settings.MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "didportal.middleware.brand_host",
    ]
    assert [e.id for e in brand_host_middleware_guards_hosts()] == ["accounts.E002"]
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    assert brand_host_middleware_guards_hosts() == []
