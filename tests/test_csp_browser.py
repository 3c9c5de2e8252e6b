"""Under the Content-Security-Policy, the main pages of every role raise no violation in
Chromium, and htmx, the cart panel and the confirmations still work."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from accounts.demo import DEMO_PASSWORD
from accounts.models import Account
from inventory.models import DID
from tests.browser import ARTIFACTS

# The demo data tops balances up: ledger rows outlive a transactional test on SQLite.
pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SLOW = 15_000  # ms: htmx round trips on a busy 2-core machine

# Every securitypolicyviolation event of the page, kept where the test can read it.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile}:${event.lineNumber} (${event.sample})`
  );
});
"""


def main_pages():
    statement = reverse("billing:statement", args=[Account.objects.get(name="Acme Call Center").pk])
    return {
        None: ["home", "catalog:coverage", ("catalog:country", "NL"), ("catalog:numbers", "NL")],
        "admin@didportal.test": [
            "dashboard",
            "inventory:dids",
            "inventory:blocks",
            "inventory:import",
            "inventory:audit_log",
            "inventory:packages",
            "accounts:customers",
            "cart:orders_admin",
            "compliance:requirements",
        ],
        "finance@didportal.test": [
            "dashboard",
            "billing:balances",
            statement,
            "billing:invoice_list",
            "billing:reports",
            "billing:tax_rates",
        ],
        "reseller@didportal.test": ["dashboard", "accounts:customers", "accounts:team"],
        "customer@didportal.test": [
            "dashboard",
            ("catalog:numbers", "NL"),
            "cart:cart",
            "cart:my_numbers",
            "cart:orders",
            "billing:balance",
            "billing:invoices",
            "compliance:agreements",
            "accounts:settings",
        ],
        "member@didportal.test": ["dashboard", "cart:my_numbers", "billing:invoices"],
    }


def url_of(page_name):
    if isinstance(page_name, tuple):
        return reverse(page_name[0], args=page_name[1:])
    return page_name if page_name.startswith("/") else reverse(page_name)


def signed_in_page(browser, live_server, email):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    console = []
    page.on("console", lambda message: console.append(message.text))
    if email:
        page.goto(reverse("accounts:login"))
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
    return page, console


def violations(page, console):
    found = page.evaluate("window.cspViolations")
    found += [text for text in console if "Content Security Policy" in text]
    return found


def test_main_pages_of_every_role_raise_no_violation(browser, live_server):
    call_command("seed_demo", verbosity=0)
    problems = []
    for email, page_names in main_pages().items():
        page, console = signed_in_page(browser, live_server, email)
        for page_name in page_names:
            url = url_of(page_name)
            response = page.goto(url)
            assert response.status == 200, (email, url, response.status)
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.wait_for_load_state("networkidle")
            problems += [f"{email} {url}: {v}" for v in violations(page, console)]
            console.clear()
        page.context.close()
    assert not problems, "\n".join(problems)


def test_htmx_and_the_scripts_still_work(browser, live_server):
    call_command("seed_demo", verbosity=0)
    page, console = signed_in_page(browser, live_server, "customer@didportal.test")

    # htmx swaps the search results as the buyer types, and fills the cart panel.
    page.goto(reverse("catalog:numbers", args=["NL"]))
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    first = page.locator("#results tbody tr").first.inner_text()
    number = DID.objects.filter(block__country="NL", status="in_stock").order_by("-number")[0]
    with page.expect_response(lambda r: "/search/" in r.url):
        page.locator("#n").fill(number.number)
    expect(page.locator("#results tbody tr")).to_have_count(1, timeout=SLOW)
    expect(page.locator("#results tbody tr").first).not_to_have_text(first, timeout=SLOW)
    page.locator("#n").press("Tab")  # its change event searches once more: let it land
    page.wait_for_load_state("networkidle")
    page.locator("#results input[name=numbers]").first.check()
    page.get_by_role("button", name="Add selected to cart").click()
    expect(page.get_by_role("heading", name="Added to your cart")).to_be_visible(timeout=SLOW)
    # portal.js counts the cart hold down in the swapped-in panel.
    hold = page.locator("#cart-panel [data-hold-until]").first
    expect(hold).to_contain_text(re.compile(r"Held for you · \d+:\d\d left"), timeout=SLOW)
    page.screenshot(path=str(ARTIFACTS / "csp-cart-panel.png"), full_page=True)
    assert not page.locator("style").filter(has_text="htmx-indicator").count()
    assert not violations(page, console)
    page.context.close()

    # A confirmation (data-confirm) still asks, and the chart bars get their heights.
    page, console = signed_in_page(browser, live_server, "finance@didportal.test")
    page.goto(reverse("billing:reports"))
    heights = page.locator(".revenue-chart .bar").evaluate_all(
        "bars => bars.map(bar => bar.style.height)"
    )
    assert heights and all(height.endswith("%") for height in heights)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "csp-reports-phone.png"), full_page=True)
    page.goto(reverse("billing:tax_rates"))
    page.locator("select[name=country]").select_option("NL")
    page.locator("input[name=rate]").fill("21")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Save rate").first.click()
    expect(page.get_by_role("button", name="Save rate").first).to_be_visible()
    assert asked == ["Change this VAT rate? New orders and invoices will use it."]
    assert not violations(page, console)
    page.context.close()
