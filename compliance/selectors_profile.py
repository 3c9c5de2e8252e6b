"""Reads on the compliance profile, scoped in the query to who may see it.

Identities, addresses and documents are the papers of one account: only its own providers
(``may_provide_registration_for``) list and open them here, and a document's file is opened
by them or by the platform's reviewers (``may_open_document_of``). A reseller reaches its
customers' registration statuses elsewhere, never these rows: ``accounts.scoping.scoped``
would admit it, so these selectors filter on the viewer's own account instead.
"""

from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404

from accounts.permissions import provides_registrations, reviews_registrations

from .models import Address, Document, Identity, Submission

Status = Submission.Status


def _own(model, user):
    if not provides_registrations(user):
        return model.objects.none()
    return model.objects.filter(account_id=user.account_id)


def _with_use(queryset, relation):
    """Annotate ``in_review`` and ``approved``: is the row part of a registration awaiting
    review / approved (then it is frozen)."""
    used = Submission.objects.filter(**{relation: OuterRef("pk")})
    return queryset.annotate(
        in_review=Exists(used.filter(status=Status.SUBMITTED)),
        approved=Exists(used.filter(status=Status.APPROVED)),
    )


def identities_of(user, *, archived=False):
    """The viewer's account's identities (archived ones instead with ``archived``), newest
    first, each with ``in_review`` / ``approved``."""
    rows = _own(Identity, user).filter(archived_at__isnull=not archived)
    return _with_use(rows, "identity")


def addresses_of(user, *, archived=False):
    rows = _own(Address, user).filter(archived_at__isnull=not archived)
    return _with_use(rows, "address")


def documents_of(user, *, archived=False):
    rows = _own(Document, user).filter(archived_at__isnull=not archived)
    return _with_use(rows, "documents").select_related("identity", "address")


def identity_of(user, pk):
    """One of the viewer's account's identities, or 404 (another account's too)."""
    return get_object_or_404(_with_use(_own(Identity, user), "identity"), pk=pk)


def address_of(user, pk):
    return get_object_or_404(_with_use(_own(Address, user), "address"), pk=pk)


def document_of(user, pk):
    return get_object_or_404(
        _with_use(_own(Document, user), "documents").select_related("identity", "address"),
        pk=pk,
    )


def document_to_open(user, pk):
    """A document whose file ``user`` may open (``may_open_document_of``): the platform's
    reviewers any account's, providers their own account's; 404 for everyone else."""
    if reviews_registrations(user):
        documents = Document.objects.all()
    else:
        documents = _own(Document, user)
    return get_object_or_404(documents, pk=pk)


# --- Choices for a registration (the submission page) ------------------------------------------


def identity_choices(account):
    """``account``'s identities a registration may use (not archived)."""
    return Identity.objects.filter(account=account, archived_at__isnull=True)


def address_choices(account):
    return Address.objects.filter(account=account, archived_at__isnull=True)


def document_choices(account, kind=None):
    documents = Document.objects.filter(account=account, archived_at__isnull=True)
    return documents.filter(kind=kind) if kind else documents
