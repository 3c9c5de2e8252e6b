"""An unfunded customer ticks four numbers in Chromium: three are held, the panel says why
the fourth is not and links to the top-up (issue 10 #27)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser import ARTIFACTS
from tests.cart.test_checkout_browser import munich, sign_in  # noqa: F401 (munich: a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.usefixtures("munich")
def test_an_unfunded_customer_is_told_why_a_fourth_number_is_not_held(page, customer_admin):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, customer_admin)
    page.goto("/numbers/DE/")
    page.get_by_role("row", name="München").get_by_role("link", name="Numbers").click()
    for number in ("+49 89 555000", "+49 89 555001", "+49 89 555002", "+49 89 555003"):
        page.get_by_label(number).check()
    page.get_by_role("button", name="Add selected to cart").click()

    panel = page.locator("#cart-modal")
    expect(panel.get_by_role("heading", name="Added to your cart")).to_be_visible()
    notice = panel.locator("[data-hold-limit]")
    expect(notice).to_contain_text("Not held: +4989555003")
    expect(notice).to_contain_text("can hold 3 numbers at a time")
    expect(notice.get_by_role("link", name="Top up")).to_be_visible()
    expect(page.locator("#cart-badge")).to_have_text(re.compile(r"^3"))
    page.wait_for_timeout(500)  # the modal's fade-in, for the screenshot
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hold-limit-panel-390.png"))
