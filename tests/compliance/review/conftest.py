"""Fixtures of the review queue's tests: a customer's registration sent for review, with
two Paris numbers waiting on it and a PDF and a PNG attached."""

from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.base import ContentFile

from compliance.models import Submission
from compliance.services.registrations import submission_get_or_create, submission_submit
from tests.billing.factories import fund
from tests.compliance.conftest import buy
from tests.compliance.factories import (
    TINY_PNG,
    AddressFactory,
    DocumentFactory,
    IdentityFactory,
)

BOUGHT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SENT = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # three days before NOW
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def profile(account, *, city="Paris"):
    identity = IdentityFactory(account=account, first_name="Camille", last_name="Martin")
    address = AddressFactory(
        account=account, line1="8 rue de Rivoli", city=city, country="FR", postal_code="75004"
    )
    documents = [
        DocumentFactory(account=account, kind="identity", original_name="passport.pdf"),
        DocumentFactory(
            account=account,
            kind="address",
            file=ContentFile(TINY_PNG, name="bill.png"),
            original_name="electricity-bill.png",
            content_type="image/png",
            size=len(TINY_PNG),
        ),
    ]
    return {"identity": identity, "address": address, "documents": documents}


def send_for_review(user, requirement, *, at=SENT, parts=None):
    with time_machine.travel(at, tick=False) if at else nullcontext():
        submission = submission_get_or_create(
            account=user.account, requirement=requirement, actor=user
        )
        return submission_submit(
            submission=submission, actor=user, **(parts or profile(user.account))
        )


@pytest.fixture
def submitted(customer_admin, paris, paris_requirement):
    """Camille Martin's registration, sent three days before NOW, two numbers waiting."""
    fund(customer_admin.account, "100.00")
    with time_machine.travel(BOUGHT, tick=False):
        buy(customer_admin, "+33155500000", "+33155500001")
    return send_for_review(customer_admin, paris_requirement)


def queued(account, requirement, *, status="submitted", sent=SENT, decided=None, by=None):
    """A submission row made directly, for the queue's lists and filters."""
    return Submission.objects.create(
        account=account,
        requirement=requirement,
        requirement_version=requirement.version,
        status=status,
        submitted_at=sent,
        decided_at=decided or (sent + timedelta(days=1) if status != "submitted" else None),
        decided_by=by,
        rejection_reasons=["unreadable"] if status == "rejected" else [],
    )
