"""The demo seed creates the requirements and links them to the matching demo blocks, once."""

import pytest
from django.core.management import call_command

from compliance.models import Requirement, RequirementVersion
from inventory.models import NumberBlock

pytestmark = pytest.mark.django_db


def test_seed_demo_links_requirements_to_their_blocks_idempotently():
    call_command("seed_demo")
    gb = Requirement.objects.get(country="GB")
    de = Requirement.objects.get(country="DE")
    gb_local = NumberBlock.objects.filter(country="GB", number_type="local")
    assert gb_local.count() >= 4
    assert set(gb_local.values_list("requirement", flat=True)) == {gb.pk}
    assert set(
        NumberBlock.objects.filter(country="DE", number_type="local").values_list(
            "requirement", flat=True
        )
    ) == {de.pk}
    # Mobile numbers are not geographic: no requirement.
    assert not NumberBlock.objects.filter(number_type="mobile", requirement__isnull=False).exists()
    # The link is recorded in the block's history, signed by the demo admin.
    change = gb_local.first().history.first()
    assert change.history_user.email == "admin@didportal.test"
    assert gb.versions.get().version == 1

    snapshot = (
        Requirement.objects.count(),
        RequirementVersion.objects.count(),
        list(NumberBlock.objects.order_by("pk").values_list("requirement", flat=True)),
        NumberBlock.history.count(),
    )
    call_command("seed_demo")
    assert snapshot == (
        Requirement.objects.count(),
        RequirementVersion.objects.count(),
        list(NumberBlock.objects.order_by("pk").values_list("requirement", flat=True)),
        NumberBlock.history.count(),
    )
    assert Requirement.objects.filter(version=1).count() == Requirement.objects.count() == 3


@pytest.fixture
def private_documents(monkeypatch, tmp_path):
    """The demo's documents go to a throwaway private folder (the field's storage is made
    once, when the model is defined)."""
    from django.core.files.storage import FileSystemStorage

    from compliance.models import Document

    location = tmp_path / "compliance"
    field = Document._meta.get_field("file")
    monkeypatch.setattr(field, "storage", FileSystemStorage(location=location, base_url=None))
    return location


def _registration_counts():
    from compliance.models import (
        Address,
        Document,
        Identity,
        NumberRegistration,
        Submission,
        SubmissionEvent,
    )

    return [
        model.objects.count()
        for model in (
            Identity,
            Address,
            Document,
            Submission,
            SubmissionEvent,
            NumberRegistration,
        )
    ]


def test_seed_demo_has_an_approved_and_a_rejected_registration(private_documents):
    import hashlib
    from io import BytesIO

    from pypdf import PdfReader

    from accounts.demo import DEMO_PASSWORD
    from accounts.models import User
    from billing.models import Invoice, Subscription
    from compliance.models import NumberRegistration, Submission

    call_command("seed_demo")
    snapshot = _registration_counts()

    officer = User.objects.get(email="compliance@didportal.test")
    assert officer.role == "platform_compliance" and officer.check_password(DEMO_PASSWORD)
    needs = {r.country.code: r.needs_registration for r in Requirement.objects.all()}
    assert needs == {"FR": True, "DE": True, "GB": False}
    france = Requirement.objects.get(country="FR")
    assert (france.identity_proofs, france.address_proofs, france.address_scope) == (
        1,
        1,
        "country",
    )
    assert Requirement.objects.get(country="DE").address_scope == "area"

    # Acme: approved by the officer; its Paris number live, billed from the approval.
    acme = User.objects.get(email="customer@didportal.test").account
    approved = Submission.objects.get(account=acme)
    assert (approved.status, approved.decided_by) == ("approved", officer)
    assert approved.identity.company_name == "Acme Call Center France SAS"
    assert approved.address.city == "Paris" and approved.documents.count() == 2
    paris = NumberRegistration.objects.get(account=acme)
    assert (paris.status, paris.submission) == ("activated", approved)
    assert paris.did.status == "active" and paris.did.number.startswith("+331")
    assert Subscription.objects.get(did=paris.did).status == "active"
    assert Invoice.objects.filter(account=acme, source="registration").count() == 1
    for document in approved.documents.all():
        content = document.file.open("rb").read()
        assert hashlib.sha256(content).hexdigest() == document.sha256
        assert len(content) == document.size and content.startswith(b"%PDF-")
        assert "demo document" in PdfReader(BytesIO(content), strict=True).pages[0].extract_text()
        assert str(private_documents) in document.file.path

    # Bäckerei Schmidt: rejected with reasons and a comment; its Berlin number still waits.
    schmidt = User.objects.get(email="resold@didportal.test").account
    rejected = Submission.objects.get(account=schmidt)
    assert rejected.status == "rejected" and rejected.decided_by == officer
    assert rejected.rejection_reasons == ["unreadable", "missing_page"]
    assert "Upload both pages" in rejected.comment
    assert [e.to_status for e in rejected.events.order_by("pk")] == ["submitted", "rejected"]
    berlin = NumberRegistration.objects.get(account=schmidt)
    assert (berlin.status, berlin.did.status) == ("awaiting", "awaiting_registration")
    assert berlin.did.number.startswith("+4930")
    assert Subscription.objects.get(did=berlin.did).status == "pending"

    call_command("seed_demo")
    assert _registration_counts() == snapshot
    assert Invoice.objects.filter(account=acme, source="registration").count() == 1
