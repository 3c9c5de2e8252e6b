"""The admin writes a requirement, changes its text (version 2), deactivates it after the
confirmation; the public page shows the current words."""

import pytest
from playwright.sync_api import expect

from compliance.models import Requirement
from tests.factories import TEST_PASSWORD, UserFactory, platform

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_writes_versions_and_deactivates_a_requirement(page):
    admin = UserFactory(account=platform(), role="platform_admin")
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(admin.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Compliance"
    ).click()
    page.get_by_role("link", name="Add the first requirement").click()
    page.get_by_label("Country").select_option("GB")
    page.get_by_label("Number type").select_option("local")
    page.get_by_label("Title").fill("UK service address")
    page.get_by_label("Legal text").fill("Too short")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_text").locator("xpath=..")).to_contain_text("at least 20")

    page.get_by_label("Legal text").fill("UK geographic numbers are for users present in the UK.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("created (version 1)")
    # Saving shows the requirement's own page; back to the list by the breadcrumb.
    page.get_by_label("breadcrumb").get_by_role("link", name="Requirements").click()

    page.get_by_role("link", name="Edit UK service address").click()
    expect(page.get_by_role("note")).to_contain_text("creates version 2")
    page.get_by_label("Legal text").fill("UK geographic numbers need a UK service address.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("saved as version 2")
    page.get_by_label("breadcrumb").get_by_role("link", name="Requirements").click()

    page.get_by_role("link", name="Public page of UK service address").click()
    expect(page.get_by_role("article")).to_contain_text("need a UK service address")
    expect(page.get_by_role("article")).to_contain_text("Version 2")
    page.go_back()

    page.get_by_role("link", name="Deactivate UK service address").click()
    assert Requirement.objects.get().active  # the confirmation page changes nothing
    page.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_role("alert")).to_contain_text("deactivated")
    expect(page.get_by_role("button", name="Reactivate UK service address")).to_be_visible()
    assert not Requirement.objects.get().active
