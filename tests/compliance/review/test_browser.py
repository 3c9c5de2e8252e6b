"""A compliance officer works the review queue in Chromium, at desktop and phone width:
opens a registration, sees its documents inline, rejects it with reasons (the form says what
is missing first), then approves it once the customer sent it again."""

import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from compliance.models import Submission
from inventory.choices import DIDStatus
from inventory.models import DID
from tests.compliance.review.conftest import send_for_review
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


SHOTS = Path(tempfile.gettempdir())


def sign_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def open_queue(page, phone):
    if phone:
        page.get_by_role("button", name="Toggle navigation").click()
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Review queue"
    ).click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()


def press(button):
    """Submit with the keyboard (focus, Enter), as keyboard users do. At 390 px the buttons
    sit below the inline PDF, whose viewer is still starting when the page is scrolled to
    them; a mouse click there was lost three times in CI on a loaded machine (the page never
    posted), which Enter on the focused button cannot be."""
    button.press("Enter")


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_reviewer_rejects_with_reasons_then_approves(
    page, width, submitted, compliance_officer, customer_admin
):
    phone = width < 576
    page.set_viewport_size({"width": width, "height": 900})
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    sign_in(page, compliance_officer)
    open_queue(page, phone)
    account = customer_admin.account.name
    row = page.locator("#review-queue tbody tr").filter(has_text=account)
    expect(row).to_contain_text("French geographic numbers")
    expect(row).to_contain_text("France")
    assert fits(page)
    page.screenshot(path=SHOTS / f"review-queue-{width}.png", full_page=True)

    row.get_by_role("link", name=f"Review {account}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(account)
    image = page.get_by_role("img", name="Proof of address: electricity-bill.png")
    expect(image).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    pdf = page.locator("iframe[title='Identity document: passport.pdf']")
    expect(pdf).to_be_attached()
    if phone:  # phones' browsers draw no PDF in a frame: the link opens it
        expect(pdf).to_be_hidden()
        expect(page.get_by_role("link", name="Open in a new tab (passport.pdf)")).to_be_visible()
    else:
        expect(pdf).to_be_visible()
    expect(page.locator("#waiting")).to_contain_text("+33 1 55 50 00 01")
    assert fits(page)
    page.screenshot(path=SHOTS / f"review-detail-{width}.png", full_page=True)

    # Reject: nothing ticked, then "Other" without a comment; each refusal says why.
    page.on("dialog", lambda dialog: dialog.accept())
    page.wait_for_load_state()
    reject = page.locator("#reject-form")
    press(reject.get_by_role("button", name="Reject"))
    expect(reject).to_contain_text("Pick at least one reason")
    # A person clicks what has finished loading; a click while the answer is still
    # streaming in (scripts not yet run) was lost twice in CI on a loaded machine.
    page.wait_for_load_state()
    reject.get_by_label("Name does not match").check()
    reject.get_by_label("Other").check()
    press(reject.get_by_role("button", name="Reject"))
    expect(reject).to_contain_text("the comment is required")
    page.wait_for_load_state()
    assert Submission.objects.get().status == "submitted"
    reject.get_by_label("Name does not match").check()
    reject.get_by_label("Other").check()
    reject.get_by_label("Comment to the customer").fill("The bill is in another name.")
    press(reject.get_by_role("button", name="Reject"))
    expect(page.get_by_role("alert")).to_contain_text("the customer is e-mailed the reasons")
    expect(page.locator(".empty-state")).to_contain_text("Nothing to review")
    submission = Submission.objects.get()
    assert submission.status == "rejected"
    assert submission.rejection_reasons == ["name_mismatch", "other"]

    # The customer fixes it and sends it again: back in the queue, the same registration.
    send_for_review(customer_admin, submission.requirement, at=None)
    page.reload()
    page.locator("#review-queue").get_by_role("link", name=f"Review {account}").click()
    history = page.locator("#history")
    expect(history).to_contain_text("Name does not match")
    expect(history).to_contain_text("The bill is in another name.")
    expect(history).to_contain_text("Submitted again after a fix")
    page.screenshot(path=SHOTS / f"review-again-{width}.png", full_page=True)
    press(page.locator("#approve-form").get_by_role("button", name="Approve"))
    expect(page.get_by_role("alert")).to_contain_text("2 numbers live now")
    assert Submission.objects.get().status == "approved"
    statuses = set(
        DID.objects.filter(owner=customer_admin.account).values_list("status", flat=True)
    )
    assert statuses == {DIDStatus.ACTIVE}
    assert not [p for p in problems if "Content Security Policy" in p], problems
