"""The issue's two flows end to end, as people click them (test client, real forms, real
services, PostgreSQL), with time travel:

1. buy → awaiting → profile (identity, address, uploads) → submit → rejected → fix → submit
   again → approved → active, billed from approval, renewed a period later;
2. buy → deadline → cancelled and refunded to the cent.
"""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from billing.models import Invoice, Subscription
from billing.selectors import balance_for, balance_mismatches
from billing.services.invoices import invoices_issue_daily
from billing.tasks import renew_subscriptions
from compliance.models import Address, Document, Identity, NumberRegistration, Submission
from compliance.selectors_review import latest_event_id
from compliance.tasks import registration_deadlines
from inventory.choices import DIDStatus
from inventory.models import DID
from outbox.models import OutgoingEmail
from tests.billing.factories import fund
from tests.compliance.factories import TINY_PDF, TINY_PNG

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

PARIS_1 = "+33155500000"
BOUGHT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# 2.00 setup + 4.00 for the month, the buyer German: 19 % VAT.
PRICE = Decimal("7.14")


def at(moment):
    return time_machine.travel(moment, tick=False)


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture(autouse=True)
def long_sessions(settings):
    """The flows span weeks of travelled time: the sign-ins last that long."""
    settings.SESSION_COOKIE_AGE = 365 * 24 * 3600


@pytest.fixture
def customer_client(customer_admin, paris):
    fund(customer_admin.account, "100.00")
    client = Client()
    client.force_login(customer_admin)
    return client


@pytest.fixture
def reviewer_client(compliance_officer):
    client = Client()
    client.force_login(compliance_officer)
    return client


def check_out(client, number):
    assert client.post(reverse("cart:add"), {"numbers": [number]}).status_code == 302
    page = client.get(reverse("cart:checkout"))
    assert "Sold awaiting registration" in text(page)
    agree = {
        f"agree_{requirement.pk}": str(requirement.version)
        for requirement in page.context["page"].requirements
    }
    response = client.post(reverse("cart:checkout"), {"token": page.context["token"], **agree})
    assert response.status_code == 302, text(response)[:2000]


def open_registration(client):
    """From Registrations, start the one waiting; returns the submission page's URL."""
    page = text(client.get(reverse("compliance:registrations")))
    assert "+33 1 55 50 00 00" in page and "Not started" in page
    requirement = NumberRegistration.objects.get().requirement
    response = client.post(reverse("compliance:registration_start", args=[requirement.pk]))
    assert response.status_code == 302
    return response.url


def fill_profile(client, *, city):
    """Add an identity and an address and upload the two proofs, through the profile pages."""
    response = client.post(
        reverse("compliance:identity_create"),
        {
            "kind": "personal",
            "first_name": "Marie",
            "last_name": "Dupont",
            "country": "FR",
            "birth_date": "1985-04-12",
            "id_number": "X1234567",
        },
    )
    assert response.status_code == 302, text(response)[:2000]
    response = client.post(
        reverse("compliance:address_create"),
        {"line1": "8 rue de Rivoli", "city": city, "postal_code": "75004", "country": "FR"},
    )
    assert response.status_code == 302, text(response)[:2000]
    for kind, name, content in (
        ("identity", "passport.pdf", TINY_PDF),
        ("address", "bill.png", TINY_PNG),
    ):
        upload = SimpleUploadedFile(name, content)
        response = client.post(
            reverse("compliance:document_upload"), {"kind": kind, "file": upload}
        )
        assert response.status_code == 302, text(response)[:2000]


def send(client, url, *, identity, address):
    documents = {
        f"documents_{kind}": list(
            Document.objects.filter(kind=kind, archived_at__isnull=True).values_list(
                "pk", flat=True
            )
        )
        for kind in ("identity", "address")
    }
    return client.post(url, {"identity": identity.pk, "address": address.pk, **documents})


def review(client, submission, action, **data):
    assert client.get(reverse("compliance:review", args=[submission.pk])).status_code == 200
    seen = latest_event_id(submission)  # what the page's form carries
    return client.post(
        reverse(f"compliance:review_{action}", args=[submission.pk]), {"seen": seen, **data}
    )


def test_buy_reject_fix_approve_then_active_billed_and_renewed(customer_client, reviewer_client):
    with at(BOUGHT):
        check_out(customer_client, PARIS_1)
    did = DID.objects.get(number=PARIS_1)
    assert did.status == DIDStatus.AWAITING_REGISTRATION
    assert balance_for(did.owner) == Decimal("100.00") - PRICE
    assert not Invoice.objects.exists()

    with at(BOUGHT + timedelta(days=2)):
        url = open_registration(customer_client)
        fill_profile(customer_client, city="Lyon")  # outside the number's area
        identity, address = Identity.objects.get(), Address.objects.get()
        refused = send(customer_client, url, identity=identity, address=address)
        assert refused.status_code == 400
        assert "The address must be in Paris" in text(refused)
        assert Submission.objects.get().status == "draft"
        response = customer_client.post(
            reverse("compliance:address_edit", args=[address.pk]),
            {"line1": "8 rue de Rivoli", "city": "Paris", "postal_code": "75004", "country": "FR"},
        )
        assert response.status_code == 302
        assert send(customer_client, url, identity=identity, address=address).status_code == 302
    submission = Submission.objects.get()
    assert submission.status == "submitted"

    with at(BOUGHT + timedelta(days=3)):
        queue = text(reviewer_client.get(reverse("compliance:review_queue")))
        assert "French geographic numbers" in queue
        response = review(
            reviewer_client,
            submission,
            "reject",
            reasons=["unreadable"],
            comment="The passport scan is blurred.",
        )
        assert response.status_code == 302
    submission.refresh_from_db()
    assert (submission.status, submission.rejection_reasons) == ("rejected", ["unreadable"])
    mail = OutgoingEmail.objects.get(key__startswith=f"registration-rejected:{submission.pk}")
    assert "blurred" in mail.text and f"/compliance/registrations/{submission.pk}/" in mail.text
    page = text(customer_client.get(url))
    assert "The passport scan is blurred." in page and 'href="#documents"' in page

    with at(BOUGHT + timedelta(days=4)):
        rescan = SimpleUploadedFile("passport-clear.pdf", TINY_PDF)
        response = customer_client.post(
            reverse("compliance:document_upload"), {"kind": "identity", "file": rescan}
        )
        assert response.status_code == 302
        old = Document.objects.filter(kind="identity").order_by("pk").first()
        customer_client.post(reverse("compliance:document_archive", args=[old.pk]))
        assert send(customer_client, url, identity=identity, address=address).status_code == 302
    submission.refresh_from_db()
    assert submission.status == "submitted" and Submission.objects.count() == 1

    approved_at = BOUGHT + timedelta(days=5)
    with at(approved_at):
        assert review(reviewer_client, submission, "approve").status_code == 302
    did.refresh_from_db()
    assert did.status == DIDStatus.ACTIVE
    subscription = Subscription.objects.get(did=did)
    assert subscription.current_period_start == approved_at
    assert subscription.next_renewal_at == datetime(2027, 1, 6, 9, 0, tzinfo=UTC)
    invoice = Invoice.objects.get()
    assert (invoice.source, invoice.gross) == ("registration", PRICE)
    my_numbers = reverse("cart:my_numbers")
    awaiting = text(customer_client.get(my_numbers + "?status=awaiting_registration"))
    assert "+33 1 55 50 00 00" not in awaiting
    assert "+33 1 55 50 00 00" in text(customer_client.get(my_numbers + "?status=active"))

    with at(datetime(2027, 1, 6, 9, 5, tzinfo=UTC)):
        renew_subscriptions.apply().get()
        invoices_issue_daily()
    subscription.refresh_from_db()
    assert subscription.current_period_index == 1
    assert subscription.charges.filter(side="sale").count() == 2
    # The month costs 4.00 + 19 % = 4.76; nothing else was charged or refunded.
    assert balance_for(did.owner) == Decimal("100.00") - PRICE - Decimal("4.76")
    assert list(balance_mismatches()) == []


def test_buy_then_the_deadline_cancels_and_refunds_to_the_cent(customer_client):
    with at(BOUGHT):
        check_out(customer_client, PARIS_1)
    account = DID.objects.get(number=PARIS_1).owner
    assert balance_for(account) == Decimal("92.86")
    with at(BOUGHT + timedelta(days=27, minutes=40)):
        assert registration_deadlines.apply().get() == {"reminded": 1, "cancelled": 0}
    with at(BOUGHT + timedelta(days=30, minutes=40)):
        assert registration_deadlines.apply().get() == {"reminded": 0, "cancelled": 1}
    assert balance_for(account) == Decimal("100.00")
    did = DID.objects.get(number=PARIS_1)
    assert (did.status, did.owner) == (DIDStatus.IN_STOCK, None)
    registration = NumberRegistration.objects.get()
    assert (registration.status, registration.refunded) == ("cancelled", PRICE)
    assert OutgoingEmail.objects.filter(key=f"registration-cancelled:{registration.pk}").exists()
    page = text(customer_client.get(reverse("compliance:registrations")))
    assert "7.14" in page
    assert not Invoice.objects.exists()
    assert list(balance_mismatches()) == []
