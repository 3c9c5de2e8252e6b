"""Coverage and number search as a buyer sees them: on a phone, and typing digits as people
do (issue 10, item 23)."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
OVERFLOWING = """() => [document.documentElement, ...document.querySelectorAll('.table-responsive')]
  .filter(element => element.scrollWidth > element.clientWidth + 1)
  .map(element => element.className || element.tagName)"""


def assert_fully_on_screen(locator):
    """Visible, inside the 390px viewport and not clipped by a scrolling table."""
    locator.scroll_into_view_if_needed()
    expect(locator).to_be_visible()
    expect(locator).to_be_in_viewport(ratio=1)
    box = locator.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box


@pytest.mark.parametrize(
    ("url", "row", "prices"),
    [
        ("/numbers/", "Germany", ["5.00 USD", "3.00 USD"]),
        ("/numbers/DE/", "München", ["5.00", "3.00 / month", "0.90 / week", "0.0060"]),
        ("/numbers/DE/search/?n=19&match=ends", "+49 89 555019", ["5.00", "3.00", "0.0060"]),
    ],
    ids=["coverage", "country", "search"],  # the names of the screenshots
)
def test_prices_show_on_a_phone_without_sideways_scrolling(page, stock, url, row, prices):
    page.set_viewport_size(PHONE)
    page.goto(url)
    assert page.evaluate(OVERFLOWING) == []
    line = page.locator("#results tbody tr").filter(has_text=row)
    for price in prices:
        assert_fully_on_screen(line.get_by_text(price, exact=True).first)


def test_search_with_national_digits_and_a_notice_for_letters(page, stock):
    page.goto("/numbers/NL/search/")
    results = page.locator("#results")
    page.get_by_label("Digits").fill("020 555 0012")  # national, with the trunk prefix
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results).to_contain_text("+31 20 555 0012")

    page.get_by_label("Digits").fill("31205550013")  # international, without +
    expect(results).to_contain_text("+31 20 555 0013")
    expect(results.locator("tbody tr")).to_have_count(1)

    page.get_by_label("Number", exact=True).select_option("ends")
    page.get_by_label("Digits").fill("ends 0014")
    expect(page.get_by_role("status")).to_have_text("Letters are ignored: searching for 0014.")
    expect(results).to_contain_text("+31 20 555 0014")
    expect(results.locator("tbody tr")).to_have_count(1)
