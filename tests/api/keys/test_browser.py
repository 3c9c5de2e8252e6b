"""An account admin creates a full-access key in Chromium (agreeing to the requirement text
in force), copies the secret with the Copy button, uses it, then revokes it — at desktop and
phone width."""

import tempfile
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from api.models import ApiKey
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(tempfile.gettempdir())


def sign_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def balance_status(live_server, secret):
    return requests.get(
        f"{live_server.url}/v3/balance",
        headers={"Api-Key": secret, "Accept": "application/vnd.api+json"},
        timeout=10,
    ).status_code


@pytest.mark.parametrize("width", [1280, 390])
def test_create_copy_use_and_revoke_a_key(page, live_server, width, customer_admin, regulated):
    phone = width < 576
    page.set_viewport_size({"width": width, "height": 900})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    sign_in(page, customer_admin)
    if phone:
        page.get_by_role("button", name="Toggle navigation").click()
    navigation = page.get_by_role("navigation", name="Main navigation")
    navigation.locator(".dropdown-toggle").click()  # the account menu
    navigation.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    assert fits(page)

    page.get_by_role("link", name="Create the first key").click()
    page.get_by_label("Name").fill("Billing system")
    expect(page.get_by_text(regulated.text)).to_be_hidden()  # read-only: nothing to agree to
    page.get_by_label("Full access", exact=False).check()
    expect(page.get_by_text(regulated.text)).to_be_visible()
    assert fits(page)
    # Without agreeing, a full-access key is refused and the box says why.
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_text("tick “I agree” for “French geographic numbers”")).to_be_visible()
    assert not ApiKey.objects.exists()
    page.get_by_label("Full access", exact=False).check()
    page.get_by_label("I agree to “French geographic numbers” (version 1)").check()
    page.get_by_role("button", name="Create key").click()

    expect(page.get_by_text("you will not see it again")).to_be_visible()
    assert fits(page)
    page.screenshot(path=SHOTS / f"api-key-created-{width}.png", full_page=True)
    field = page.get_by_label("Your API key (full access)")
    secret = field.input_value()
    assert secret.startswith("dpk_")
    page.wait_for_load_state()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    assert balance_status(live_server, secret) == 200

    page.get_by_role("link", name="I have copied it").click()
    row = page.locator("#api-keys tbody tr").filter(has_text="Billing system")
    expect(row).to_contain_text("Full access")
    expect(row).to_contain_text("127.0.0.1")  # last used from
    assert secret not in page.content()
    assert fits(page)
    page.screenshot(path=SHOTS / f"api-keys-{width}.png", full_page=True)

    row.get_by_role("link", name="Details of Billing system").click()
    expect(page.locator("#key-agreements")).to_contain_text("French geographic numbers v1")
    expect(page.get_by_text("No changes made with this key yet")).to_be_visible()
    assert fits(page)
    page.get_by_role("link", name="API keys", exact=True).last.click()
    row = page.locator("#api-keys tbody tr").filter(has_text="Billing system")
    row.get_by_role("link", name="Revoke Billing system").click()
    expect(page.get_by_role("heading", name="Revoke “Billing system”")).to_be_visible()
    assert fits(page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.wait_for_load_state()
    page.get_by_role("button", name="Revoke key").click()
    expect(page.get_by_text("is revoked: requests with it are refused now")).to_be_visible()
    expect(page.locator("#api-keys tbody tr").filter(has_text="Billing system")).to_contain_text(
        "Revoked"
    )
    assert balance_status(live_server, secret) == 401
    assert problems == []
