"""A customer admin sets up a webhook endpoint in Chromium, at desktop and phone width: adds
it, copies the secret shown once, sends a test event that a real local receiver gets
(through the Celery task, eager), opens the delivery, sends it again, deletes the endpoint."""

import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD
from webhooks import services
from webhooks.models import Delivery, Endpoint

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("allow_private", "eager"),
]


SHOTS = Path(tempfile.gettempdir())


def sign_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", [1280, 390])
def test_add_test_resend_delete(page, width, customer_admin, receiver):
    page.set_viewport_size({"width": width, "height": 900})
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, customer_admin)
    if width < 576:
        page.get_by_role("button", name="Toggle navigation").click()
    navigation = page.get_by_role("navigation", name="Main navigation")
    navigation.locator(".dropdown-toggle").click()  # the account menu
    navigation.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
    expect(page.get_by_text("No endpoints yet.")).to_be_visible()
    assert fits(page)

    page.get_by_role("link", name="Add endpoint").click()
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("Description").fill("Our billing system")
    page.get_by_label("order.completed — An order completed").check()
    page.get_by_label("number.activated — A number became active").check()
    page.get_by_role("button", name="Save endpoint").click()

    secret_box = page.locator("#secret-value")
    expect(secret_box).to_be_visible()
    expect(page.locator("#new-secret")).to_contain_text("you will not see it again")
    secret = secret_box.input_value()
    secret_box.click()  # selects it for copying (static/js/portal.js)
    assert page.evaluate("window.getSelection().toString() || document.activeElement.value")
    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["order.completed", "number.activated"]
    assert fits(page)

    page.get_by_role("button", name="Send test event").click()
    expect(page.get_by_text("Test event queued")).to_be_visible()
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert services.signature_verify(
        secret=secret, header=request["headers"]["x-didportal-signature"], body=request["body"]
    )
    page.reload()
    row = page.locator("#deliveries li").first
    expect(row).to_contain_text("test")
    expect(row).to_contain_text("Delivered")
    expect(row).to_contain_text("HTTP 200")
    assert secret not in page.content()  # shown once
    page.screenshot(path=SHOTS / f"webhook-endpoint-{width}.png", full_page=True)

    row.get_by_role("link", name="test").click()
    expect(page.locator("#payload")).to_contain_text("A test event from your portal")
    expect(page.locator("#attempts")).to_contain_text("HTTP 200")
    assert fits(page)
    page.get_by_role("button", name="Send again").click()
    expect(page.get_by_text("Sending it again now")).to_be_visible()
    expect(page.locator("#attempt-count")).to_have_text("2")
    assert len(receiver.requests) == 2
    page.screenshot(path=SHOTS / f"webhook-delivery-{width}.png", full_page=True)
    assert Delivery.objects.get().status == "delivered"

    page.get_by_role("link", name="Endpoint").click()
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete this endpoint?")).to_be_visible()
    assert fits(page)
    page.get_by_role("button", name="Delete endpoint").click()
    expect(page.get_by_text("No endpoints yet.")).to_be_visible()
    assert not Endpoint.objects.exists()
    assert problems == []
