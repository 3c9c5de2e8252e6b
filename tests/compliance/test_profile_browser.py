"""A customer fills the compliance profile as a person clicks it, at desktop and phone
width: adds an identity, an address (a wrong postal code first), uploads a PDF (a PNG named
.pdf first), opens it, and archives the address after the confirmation."""

import tempfile

import pytest
from playwright.sync_api import expect

from compliance.models import Address, Document, Identity
from tests.compliance.factories import TINY_PDF, TINY_PNG
from tests.compliance.profile_helpers import document_storage
from tests.factories import TEST_PASSWORD, UserFactory

__all__ = ["document_storage"]

SHOTS = tempfile.gettempdir()  # the lane looks at these PNGs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_customer_fills_the_compliance_profile(page, tmp_path, document_storage, width):
    page.set_viewport_size({"width": width, "height": 900})
    user = UserFactory(role="customer_admin")
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.goto("/compliance/profile/")
    expect(page.get_by_role("heading", name="Compliance profile")).to_be_visible()
    expect(page.get_by_text("No identity yet")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/profile-empty-{width}.png", full_page=True)

    # An identity.
    page.get_by_role("link", name="Add an identity").first.click()
    page.get_by_label("A person").check()
    page.get_by_label("First name").fill("Marie")
    page.get_by_label("Last name").fill("Dupont")
    page.get_by_label("Date of birth").fill("1985-04-12")
    page.get_by_label("ID or passport number").fill("X1234567")
    page.get_by_label("Country").select_option("FR")
    page.screenshot(path=f"{SHOTS}/profile-identity-{width}.png", full_page=True)
    page.get_by_role("button", name="Add the identity").click()
    expect(page.get_by_role("alert")).to_contain_text("Identity “Marie Dupont” added.")
    assert Identity.objects.get().account == user.account

    # An address: the postal code is checked for France.
    page.get_by_role("link", name="Addresses").click()
    page.get_by_role("link", name="Add an address").first.click()
    page.get_by_label("Street address").fill("12 rue de Rivoli")
    page.get_by_label("Postal code").fill("7500")
    page.get_by_label("City").fill("Paris")
    page.get_by_label("Country").select_option("FR")
    page.get_by_role("button", name="Add the address").click()
    expect(page.get_by_text("“7500” is not a postal code used in France")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/profile-address-error-{width}.png", full_page=True)
    page.get_by_label("Postal code").fill("75001")
    page.get_by_role("button", name="Add the address").click()
    expect(page.get_by_role("alert")).to_contain_text("added")
    assert Address.objects.get().postal_code == "75001"

    # A document: a PNG named .pdf is refused with the reason, then the real PDF goes in.
    liar, passport = tmp_path / "scan.pdf", tmp_path / "passport.pdf"
    liar.write_bytes(TINY_PNG)
    passport.write_bytes(TINY_PDF)
    page.get_by_role("link", name="Documents").click()
    page.get_by_role("link", name="Upload a document").first.click()
    page.get_by_label("What it proves").select_option("identity")
    page.get_by_label("Document file").set_input_files(str(liar))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("The file is named .pdf but is a PNG image")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/profile-upload-refused-{width}.png", full_page=True)
    page.get_by_label("Document file").set_input_files(str(passport))
    page.get_by_label("About the identity").select_option(label="Marie Dupont")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("alert")).to_contain_text("“passport.pdf” uploaded.")
    document = Document.objects.get()
    assert (document.kind, document.identity.last_name) == ("identity", "Dupont")

    # Download it through the portal.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download passport.pdf").click()
    assert open(download.value.path(), "rb").read() == TINY_PDF

    # The overview lists all three; archiving the address asks first.
    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("link", name="Open passport.pdf")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/profile-overview-{width}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_role("link", name="Archive 12 rue de Rivoli").click()
    expect(page.get_by_role("heading", name="Archive this address?")).to_be_visible()
    assert Address.objects.get().archived_at is None
    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_role("alert")).to_contain_text("archived")
    assert Address.objects.get().archived_at is not None
