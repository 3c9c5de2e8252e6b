"""The e-mails of a review: received, approved and rejected (each reason in words with a
link straight to the part of the page that fixes it)."""

import pytest
import time_machine

from compliance.services.registrations import submission_approve, submission_reject
from outbox.models import OutgoingEmail
from tests.compliance.review.conftest import NOW, send_for_review

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def mail(prefix, submission):
    return OutgoingEmail.objects.filter(key__startswith=f"{prefix}:{submission.pk}").latest("pk")


def test_received_lists_the_numbers_waiting_and_their_deadline(submitted, customer_admin):
    received = mail("registration-submitted", submitted)
    assert received.subject.endswith("Registration received: French geographic numbers")
    assert customer_admin.email in received.to
    assert "+33155500000 (deadline 20 Dec 2026)" in received.text
    assert "not routed until the registration is approved" in received.text
    assert f"/compliance/registrations/{submitted.pk}/" in received.text


def test_rejected_says_what_to_fix_with_a_link_to_each_field(submitted, compliance_officer):
    with time_machine.travel(NOW, tick=False):
        submission_reject(
            submission=submitted,
            actor=compliance_officer,
            reasons=["name_mismatch", "address_outside_area", "unreadable", "other"],
            comment="The bill shows another name.\nPlease send page 2 too.",
        )
    text = mail("registration-rejected", submitted).text
    url = f"/compliance/registrations/{submitted.pk}/"
    assert "Name does not match: The name on the documents does not match" in text
    assert f"{url}#identity" in text
    assert "Address outside the number's area:" in text and f"{url}#address" in text
    assert "Unreadable: A document could not be read" in text and f"{url}#documents" in text
    assert "Other: See the reviewer's comment." in text
    assert "  The bill shows another name.\n  Please send page 2 too.\n" in text
    assert "stay yours until 20 Dec 2026" in text and "refunded in full" in text
    assert mail("registration-rejected", submitted).subject.startswith("[")
    assert "Action needed: registration for French geographic numbers" in (
        mail("registration-rejected", submitted).subject
    )


def test_sent_again_and_approved(submitted, compliance_officer, customer_admin):
    with time_machine.travel(NOW, tick=False):
        submission_reject(submission=submitted, actor=compliance_officer, reasons=["expired"])
        again = send_for_review(customer_admin, submitted.requirement, at=NOW)
        assert "your corrected registration" in mail("registration-submitted", again).text
        submission_approve(submission=again, actor=compliance_officer, comment="Thanks, all clear.")
    approved = mail("registration-approved", again)
    assert "+33155500000\n  +33155500001\n" in approved.text
    assert "first billing period starts today" in approved.text
    assert "Thanks, all clear." in approved.text
    assert "go live at once" in approved.text
    assert "/compliance/registrations/" in approved.text
