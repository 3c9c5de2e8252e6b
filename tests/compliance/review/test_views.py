"""The staff review queue: who reaches it, what it lists and filters, the review page with
its documents inline, and approving or rejecting through it."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from compliance.models import Submission
from tests.compliance.factories import RequirementFactory
from tests.compliance.review.conftest import NOW, SENT, queued
from tests.factories import AccountFactory, UserFactory, platform

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

QUEUE = reverse("compliance:review_queue")


def review_url(submission, action=""):
    name = f"compliance:review_{action}" if action else "compliance:review"
    return reverse(name, args=[submission.pk])


@pytest.fixture
def reviewer(client, compliance_officer):
    client.force_login(compliance_officer)
    return compliance_officer


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


# --- Who may use it ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["platform_compliance", "platform_admin"])
def test_reviewers_open_the_queue_and_a_submission(client, submitted, role):
    client.force_login(UserFactory(account=platform(), role=role))
    assert client.get(QUEUE).status_code == 200
    page = client.get(review_url(submitted))
    assert page.status_code == 200
    assert "Camille Martin" in page.text


@pytest.mark.parametrize(
    "role",
    ["platform_finance", "customer_admin", "customer_member", "reseller_admin", "reseller_support"],
)
def test_everyone_else_is_refused_every_review_page(client, submitted, role):
    account = platform() if role.startswith("platform") else None
    if role.startswith("customer"):
        account = submitted.account  # even the submission's own account
    user = UserFactory(account=account or AccountFactory(kind="reseller"), role=role)
    client.force_login(user)
    for url in (QUEUE, review_url(submitted)):
        assert client.get(url).status_code == 403, url
    for action in ("approve", "reject"):
        response = client.post(review_url(submitted, action), {"seen": 0, "reasons": "other"})
        assert response.status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


def test_signed_out_visitors_are_sent_to_sign_in(client, submitted):
    response = client.get(review_url(submitted))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_draft_or_unknown_id_is_not_found(client, reviewer, customer_admin, paris_requirement):
    draft = Submission.objects.create(
        account=customer_admin.account,
        requirement=paris_requirement,
        requirement_version=1,
    )
    assert client.get(review_url(draft)).status_code == 404
    assert client.post(review_url(draft, "approve"), {"seen": 0}).status_code == 404
    assert client.get("/staff/compliance/review/999999/").status_code == 404


def test_decisions_are_post_only(client, reviewer, submitted):
    assert client.get(review_url(submitted, "approve")).status_code == 405
    assert client.get(review_url(submitted, "reject")).status_code == 405


# --- The queue --------------------------------------------------------------------------------


def test_the_queue_lists_what_waits_oldest_first_with_its_age(
    client, reviewer, submitted, paris_requirement
):
    older = queued(AccountFactory(name="Older SARL"), paris_requirement, sent=SENT - timedelta(3))
    queued(AccountFactory(name="Done Ltd"), paris_requirement, status="approved")
    Submission.objects.create(
        account=AccountFactory(name="Draft GmbH"),
        requirement=paris_requirement,
        requirement_version=1,
    )
    page = client.get(QUEUE)
    rows = page.context["page"].object_list
    assert [s.pk for s in rows] == [older.pk, submitted.pk]
    assert rows[1].waiting == 2
    html = page.text
    assert html.index("Older SARL") < html.index(submitted.account.name)
    assert "6\xa0days" in html and "3\xa0days" in html  # timesince joins with a no-break space
    assert "Done Ltd" not in html and "Draft GmbH" not in html
    assert "French geographic numbers" in html and "France" in html
    assert "first deadline in 3\xa0weeks" in html  # bought 20 Nov, 30 days


def test_the_queue_lists_in_a_fixed_number_of_queries(
    client, reviewer, paris_requirement, django_assert_max_num_queries
):
    for n in range(3):
        queued(AccountFactory(name=f"Buyer {n}"), paris_requirement)
    with django_assert_max_num_queries(12) as few:
        client.get(QUEUE)
    for n in range(3, 12):
        queued(AccountFactory(name=f"Buyer {n}"), paris_requirement)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(QUEUE).context["page"].paginator.count == 12


def test_filters_by_status_country_and_age(client, reviewer, submitted, paris_requirement):
    berlin = RequirementFactory(country="DE", title="Berlin local")
    german = queued(AccountFactory(name="Berlin GmbH"), berlin, sent=NOW - timedelta(days=10))
    rejected = queued(AccountFactory(name="Rejected AG"), paris_requirement, status="rejected")

    def listed(**query):
        return [s.pk for s in client.get(QUEUE, query).context["page"].object_list]

    assert listed() == [german.pk, submitted.pk]
    assert listed(country="DE") == [german.pk]
    assert listed(country="FR") == [submitted.pk]
    assert listed(older_than="5") == [german.pk]
    assert listed(older_than="2") == [german.pk, submitted.pk]
    assert listed(status="rejected") == [rejected.pk]
    assert set(listed(status="all")) == {german.pk, submitted.pk, rejected.pk}
    assert listed(status="approved") == []
    tabs = client.get(QUEUE).context["tabs"]
    assert tabs == [
        ("submitted", "Awaiting review", 2),
        ("rejected", "Rejected: waiting for the customer", 1),
        ("approved", "Approved", 0),
        ("all", "All sent for review", 3),
    ]


@pytest.mark.parametrize(
    "query",
    [
        {"older_than": "abc"},
        {"older_than": "-4"},
        {"older_than": "99999999999999999999"},
        {"older_than": "3.5"},
        {"country": "ZZ"},
        {"country": "fr\x00"},
        {"status": "<script>alert(1)</script>"},
        {"status": "draft"},
        {"page": "999"},
        {"page": "x"},
        {"status": ["draft", "submitted"], "country": ["ZZ", ""]},  # the last one counts
    ],
)
def test_odd_filters_fall_back_to_no_filter(client, reviewer, submitted, query):
    page = client.get(QUEUE, query)
    assert page.status_code == 200
    assert [s.pk for s in page.context["page"].object_list] == [submitted.pk]
    assert "<script>alert(1)</script>" not in page.text


def test_the_queue_pages_25_at_a_time(client, reviewer, paris_requirement):
    for n in range(30):
        queued(AccountFactory(name=f"Buyer {n:02}"), paris_requirement, sent=SENT + timedelta(n))
    first = client.get(QUEUE)
    assert len(first.context["page"].object_list) == 25
    assert "Page 1 of 2" in first.text
    second = client.get(QUEUE, {"page": 2, "status": "submitted"})
    assert [s.account.name for s in second.context["page"].object_list] == [
        f"Buyer {n:02}" for n in range(25, 30)
    ]


def test_empty_queue_and_empty_filter_say_so(client, reviewer):
    assert "Nothing to review" in client.get(QUEUE).text
    assert "Nothing here matches these filters" in client.get(QUEUE, {"country": "DE"}).text


def test_the_console_tabs_lead_to_the_queue(client, reviewer):
    html = client.get(QUEUE).text
    nav = re.search(r'<nav aria-label="Compliance console".*?</nav>', html, re.S).group(0)
    assert f'href="{QUEUE}"' in nav and 'aria-current="page"' in nav


# --- The review page --------------------------------------------------------------------------


def test_the_review_page_shows_everything_sent(client, reviewer, submitted, customer_admin):
    page = client.get(review_url(submitted))
    html = page.text
    for text in (
        "Camille Martin",
        "X1234567",  # the ID number the requirement asks for
        "8 rue de Rivoli",
        "75004 Paris",
        "passport.pdf",
        "electricity-bill.png",
        "+33155500000",
        "+33155500001",
        "20 Dec",  # their deadline
        customer_admin.email,  # who sent it
        "Submitted for review",
    ):
        assert text in html, text
    pdf, png = page.context["documents"]  # identity papers first, as the requirement lists them
    pdf_url = reverse("compliance:document_file", args=[pdf.pk]) + r"\?inline=1"
    png_url = reverse("compliance:document_file", args=[png.pk]) + r"\?inline=1"
    assert re.search(rf'<iframe[^>]+src="{pdf_url}"', html)
    assert re.search(rf'<img[^>]+src="{png_url}"', html)
    assert 'id="approve-form"' in html and "data-confirm=" in html
    assert page.context["problems"] == {}


def test_the_review_page_reads_in_a_fixed_number_of_queries(
    client, reviewer, submitted, django_assert_max_num_queries
):
    with django_assert_max_num_queries(30) as counted:
        client.get(review_url(submitted))
    before = len(counted.captured_queries)
    from tests.compliance.factories import DocumentFactory

    submitted.documents.add(*(DocumentFactory(account=submitted.account) for _ in range(3)))
    with django_assert_max_num_queries(before):
        assert len(client.get(review_url(submitted)).context["documents"]) == 5


def test_the_page_warns_when_what_was_sent_no_longer_meets_the_requirement(
    client, reviewer, submitted
):
    submitted.documents.filter(kind="address").update(archived_at=NOW)
    html = client.get(review_url(submitted)).text
    assert "does not meet the requirement" in html
    assert "A document is not available" in html


def test_the_page_shows_a_csp_that_lets_the_documents_display(client, reviewer, submitted):
    policy = client.get(review_url(submitted))["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    frames = directives.get("frame-src", directives.get("child-src", directives["default-src"]))
    assert "'self'" in frames
    assert "'self'" in directives["img-src"]


def test_a_document_is_served_inline_to_reviewers(client, reviewer, submitted):
    """The review page frames the profile's download view (``compliance:document_file``)."""
    png = submitted.documents.get(kind="address")
    url = reverse("compliance:document_file", args=[png.pk])
    response = client.get(f"{url}?inline=1")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    assert "sandbox" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    pdf = submitted.documents.get(kind="identity")
    response = client.get(reverse("compliance:document_file", args=[pdf.pk]) + "?inline=1")
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert response["Content-Type"] == "application/pdf"
