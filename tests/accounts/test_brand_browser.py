"""In a browser: a reseller sets its brand (logo, colour); a visitor of the reseller's own
host name sees that brand (no platform name), signs up there and becomes its customer."""

import io
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from PIL import Image

from accounts import branding
from accounts.models import User
from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.factories import TEST_PASSWORD, AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOST = "voice.voxel.example"


@pytest.fixture
def host_page(browser, live_server, request):
    """A second Chromium whose resolver sends every *.example name to the live server."""
    port = urlsplit(live_server.url).port
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP *.example 127.0.0.1"],
        headless=True,
    )
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.brand_url = f"http://{HOST}:{port}"
    page.platform_url = live_server.url
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    chromium.close()


def png(tmp_path):
    path = tmp_path / "voxel.png"
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), (250, 230, 200)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_a_resellers_brand_on_its_own_host(host_page, tmp_path, settings):
    cache.clear()
    page = host_page
    voxel = AccountFactory(kind="reseller", name="Voxel Telecom Holding")
    admin = UserFactory(account=voxel, role="reseller_admin")
    violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m))

    # The reseller's admin sets the brand on the platform's host.
    page.goto(page.platform_url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(admin.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main navigation").get_by_text("Brand").click()
    page.get_by_label("Display name").fill("Voxel Voice")
    page.get_by_label("Logo", exact=True).set_input_files(str(png(tmp_path)))
    page.get_by_label("Primary colour").fill("#aa3300")
    page.get_by_label("Support e-mail").fill("help@voxel.example")
    page.get_by_label("Support phone").fill("+31207942000")
    page.get_by_role("button", name="Save brand").click()
    page.get_by_text("Brand saved").wait_for()
    preview = page.locator("#brand-preview img")
    page.wait_for_function("img => img.complete", arg=preview.element_handle())
    assert preview.evaluate("img => img.naturalWidth") == 120

    # The platform registers the reseller's host; a visitor there sees the brand.
    branding.brand_host_add(account=voxel, host=HOST)
    page.context.clear_cookies()
    page.goto(page.brand_url + "/numbers/")
    navbar = page.locator("nav.navbar")
    assert navbar.locator(".navbar-brand").inner_text().strip() == "Voxel Voice"
    assert navbar.locator("img.brand-logo").evaluate("img => img.naturalWidth") == 120
    assert navbar.evaluate("n => getComputedStyle(n).backgroundColor") == "rgb(170, 51, 0)"
    assert "Voxel Voice" in page.title() and settings.SITE_NAME not in page.title()
    footer = page.locator("#site-footer").inner_text()
    assert "help@voxel.example" in footer and "+31 20 794 2000" in footer
    assert settings.SITE_NAME not in page.content()

    # Signing up there makes a customer of the reseller, who keeps seeing its brand.
    page.get_by_role("link", name="Sign up").click()
    page.get_by_text("looked after by Voxel Telecom Holding").wait_for()
    page.get_by_label("Your name").fill("Nina New")
    page.get_by_label("E-mail address").fill("nina@bakery.example")
    page.get_by_label("Company name").fill("Bakery Nina")
    page.get_by_label("Country").select_option("NL")
    page.get_by_label("Password").fill("a-long-unusual-passphrase-42")
    page.get_by_role("button", name="Create account").click()
    page.get_by_text("Welcome!").first.wait_for()
    assert page.locator("nav .navbar-brand").inner_text().strip() == "Voxel Voice"
    assert User.objects.get(email="nina@bakery.example").account.parent == voxel

    page.screenshot(path=str(ARTIFACTS / "brand_on_reseller_host.png"), full_page=True)
    assert violations == []

    # A host name nobody registered is refused with the friendly page.
    response = page.goto(page.brand_url.replace(HOST, "unknown.example") + "/")
    assert response.status == 400
    assert page.get_by_text("This address is not served here").is_visible()
