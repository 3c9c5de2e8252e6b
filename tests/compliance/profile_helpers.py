"""Helpers of the compliance profile tests: a throwaway storage for documents, and
submissions in a given state using a row (the review itself is tested elsewhere)."""

import pytest
from django.utils import timezone

from compliance.models import Document, Submission
from compliance.storage import PrivateFileSystemStorage
from tests.compliance.factories import RequirementFactory


@pytest.fixture
def document_storage(tmp_path):
    """Documents stored under ``tmp_path`` for the test (the field's storage is made once,
    when the model loads, so it is swapped here rather than through settings)."""
    field = Document._meta.get_field("file")
    previous = field.storage
    field.storage = PrivateFileSystemStorage(location=str(tmp_path / "compliance"))
    yield field.storage
    field.storage = previous


def stored_files(storage):
    root = storage.path("")
    import os

    return sorted(
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _dirs, names in os.walk(root)
        for name in names
    )


def submission_using(account, status, *, identity=None, address=None, documents=()):
    """A submission of ``account`` in ``status`` using these rows."""
    now = timezone.now()
    submission = Submission.objects.create(
        account=account,
        requirement=RequirementFactory(),
        requirement_version=1,
        identity=identity,
        address=address,
        status=status,
        submitted_at=None if status == "draft" else now,
        decided_at=now if status in ("approved", "rejected") else None,
        rejection_reasons=["unreadable"] if status == "rejected" else [],
    )
    submission.documents.set(documents)
    return submission
