"""The customer's compliance profile: identities, addresses and documents, reusable across
registrations.

Only the account's own providers write them (``may_provide_registration_for``: its customer
admins and members, or a reseller's admins for the reseller's own account); a reseller never
writes its customers' papers. Every function checks that itself.

**Frozen.** What a reviewer is looking at, or approved, must not change under them: an
identity, address or document used by a submission awaiting review or approved is not
edited (a changed identity is a new one; the old one stays as approved). After a rejection
it may be edited to fix it. Archiving hides a row from the choices and keeps it (the
submissions that used it still show it); a row awaiting review is not archived until the
decision.

Documents are checked by ``compliance.documents`` (type from content, size, parsing, virus
scan) before anything is stored, then written to the private ``compliance`` storage under a
random name; a failed database write removes the stored file again.
"""

import logging
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_countries import countries

from accounts.permissions import may_provide_registration_for

from ..addresses import address_normalize
from ..documents import DocumentRefused, document_check
from ..models import Address, Document, DocumentKind, Identity, Submission

logger = logging.getLogger(__name__)

Status = Submission.Status
LOCKED_STATUSES = (Status.SUBMITTED, Status.APPROVED)

IDENTITY_TEXT_FIELDS = (
    "first_name",
    "last_name",
    "company_name",
    "id_number",
    "company_number",
    "tax_id",
    "description",
)
ADDRESS_FIELDS = ("line1", "line2", "city", "postal_code", "region", "country", "description")


def _check_provider(actor, account):
    if not may_provide_registration_for(actor, account):
        raise PermissionDenied("You may not change this account's compliance profile.")


def _clean(value):
    return " ".join(str(value or "").split())


def _frozen_message(kind_words, obj, status):
    if status == Status.APPROVED:
        return (
            f"{kind_words} “{obj}” is part of an approved registration, so it cannot be "
            f"changed. Add a new one instead."
        )
    return (
        f"{kind_words} “{obj}” is part of a registration awaiting review, so it cannot be "
        f"changed until the review is done."
    )


def _locking_status(submissions):
    """The status that freezes a row used by ``submissions`` (approved first), or None."""
    statuses = set(submissions.filter(status__in=LOCKED_STATUSES).values_list("status", flat=True))
    for status in (Status.APPROVED, Status.SUBMITTED):
        if status in statuses:
            return status
    return None


def _locked_row(model, obj, account):
    """``obj`` re-read under a row lock, from ``account`` only."""
    if obj.account_id != account.pk:
        raise PermissionDenied("This belongs to another account.")
    return model.objects.select_for_update().get(pk=obj.pk, account=account)


def _full_clean(obj, exclude=("account", "created_by")):
    try:
        obj.full_clean(exclude=list(exclude), validate_constraints=False)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from exc


# --- Identities ---------------------------------------------------------------------------------


def _identity_values(fields):
    values = {name: _clean(fields.get(name)) for name in IDENTITY_TEXT_FIELDS}
    values["kind"] = fields.get("kind") or ""
    values["country"] = str(fields.get("country") or "").upper()
    values["birth_date"] = fields.get("birth_date") or None
    errors = {}
    if values["kind"] not in Identity.Kind.values:
        errors["kind"] = "Choose whether this is a person or a business."
    if values["kind"] == Identity.Kind.PERSONAL:
        if not values["first_name"]:
            errors["first_name"] = "Enter the person's first name."
        if not values["last_name"]:
            errors["last_name"] = "Enter the person's last name."
        values["company_name"] = values["company_number"] = ""
    if values["kind"] == Identity.Kind.BUSINESS:
        if not values["company_name"]:
            errors["company_name"] = "Enter the business's registered name."
        values["birth_date"] = None
    if values["country"] not in countries:
        errors["country"] = "Choose a country."
    born = values["birth_date"]
    if born is not None:
        if not isinstance(born, date):
            errors["birth_date"] = "Enter the date of birth as a date."
        elif born > timezone.localdate():
            errors["birth_date"] = "The date of birth is in the future."
        elif born.year < 1900:
            errors["birth_date"] = "Check the date of birth: it is before 1900."
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def identity_save(*, account, actor, identity=None, now=None, **fields):
    """Create an identity for ``account`` (``identity`` None) or change ``identity``.
    ``fields``: ``kind`` (personal/business), names, ``birth_date``, ``id_number``,
    ``company_number``, ``tax_id``, ``country``, ``description``. Raises ``ValidationError``
    by field, or naming why ``identity`` is frozen; saves nothing then."""
    _check_provider(actor, account)
    values = _identity_values(fields)
    now = now or timezone.now()
    if identity is None:
        identity = Identity(account=account, created_by=actor, created_at=now)
    else:
        identity = _locked_row(Identity, identity, account)
        if identity.archived_at:
            raise ValidationError(f"“{identity}” is archived: it cannot be changed.")
        status = _locking_status(identity.submissions.all())
        if status:
            raise ValidationError(_frozen_message("The identity", identity, status))
    for name, value in values.items():
        setattr(identity, name, value)
    identity.updated_at = now
    _full_clean(identity)
    identity.save()
    return identity


@transaction.atomic
def identity_archive(*, identity, actor, now=None):
    """Hide ``identity`` from the choices (the row stays). Refused while a registration
    using it awaits review. Archiving an archived identity changes nothing."""
    _check_provider(actor, identity.account)
    identity = _locked_row(Identity, identity, identity.account)
    if identity.archived_at:
        return identity
    if identity.submissions.filter(status=Status.SUBMITTED).exists():
        raise ValidationError(_frozen_message("The identity", identity, Status.SUBMITTED))
    identity.archived_at = now or timezone.now()
    identity.save(update_fields=["archived_at"])
    return identity


# --- Addresses ----------------------------------------------------------------------------------


@transaction.atomic
def address_save(*, account, actor, address=None, now=None, **fields):
    """Create an address for ``account`` (``address`` None) or change ``address``, checked
    against its country's rules (``compliance.addresses``). ``fields``: ``line1``,
    ``line2``, ``city``, ``postal_code``, ``region``, ``country``, ``description``. Raises
    ``ValidationError`` by field, or naming why ``address`` is frozen; saves nothing then."""
    _check_provider(actor, account)
    values = address_normalize(
        line1=fields.get("line1"),
        line2=fields.get("line2"),
        city=fields.get("city"),
        postal_code=fields.get("postal_code"),
        region=fields.get("region"),
        country=fields.get("country"),
    )
    values["description"] = _clean(fields.get("description"))
    now = now or timezone.now()
    if address is None:
        address = Address(account=account, created_by=actor, created_at=now)
    else:
        address = _locked_row(Address, address, account)
        if address.archived_at:
            raise ValidationError(f"“{address}” is archived: it cannot be changed.")
        status = _locking_status(address.submissions.all())
        if status:
            raise ValidationError(_frozen_message("The address", address, status))
    for name, value in values.items():
        setattr(address, name, value)
    address.updated_at = now
    _full_clean(address)
    address.save()
    return address


@transaction.atomic
def address_archive(*, address, actor, now=None):
    """Hide ``address`` from the choices (the row stays); refused while under review."""
    _check_provider(actor, address.account)
    address = _locked_row(Address, address, address.account)
    if address.archived_at:
        return address
    if address.submissions.filter(status=Status.SUBMITTED).exists():
        raise ValidationError(_frozen_message("The address", address, Status.SUBMITTED))
    address.archived_at = now or timezone.now()
    address.save(update_fields=["archived_at"])
    return address


# --- Documents ----------------------------------------------------------------------------------


def _own_choice(obj, account, field, words):
    if obj is None:
        return None
    if obj.account_id != account.pk or obj.archived_at:
        raise ValidationError({field: f"Choose one of your own {words}, not archived."})
    return obj


def document_upload(*, account, actor, kind, file, identity=None, address=None, now=None):
    """Check ``file`` (an upload: ``compliance.documents.document_check``) and store it as a
    ``kind`` document of ``account``, optionally about one of its ``identity`` or
    ``address``. Raises ``ValidationError`` by field (``file`` with the refusal's reason,
    ``kind``, ``identity``, ``address``); nothing is stored then."""
    _check_provider(actor, account)
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": "Choose what the document proves."})
    identity = _own_choice(identity, account, "identity", "identities")
    address = _own_choice(address, account, "address", "addresses")
    try:
        checked = document_check(file)
    except DocumentRefused as exc:
        raise ValidationError({"file": exc.messages}) from exc
    document = Document(
        account=account,
        kind=kind,
        identity=identity,
        address=address,
        original_name=checked.original_name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        scan=checked.scan,
        uploaded_at=now or timezone.now(),
        uploaded_by=actor,
    )
    try:
        document.file.save(checked.original_name, ContentFile(checked.content), save=False)
    except OSError as exc:
        logger.exception("Compliance document could not be stored")
        raise ValidationError(
            {"file": "The file could not be saved just now. Try again in a moment."}
        ) from exc
    try:
        with transaction.atomic():
            document.save()
    except BaseException:
        document.file.storage.delete(document.file.name)
        raise
    return document


@transaction.atomic
def document_archive(*, document, actor, now=None):
    """Hide ``document`` from the choices (the row and file stay, for the registrations
    that used it); refused while a registration using it awaits review."""
    _check_provider(actor, document.account)
    document = _locked_row(Document, document, document.account)
    if document.archived_at:
        return document
    if document.submissions.filter(status=Status.SUBMITTED).exists():
        raise ValidationError(_frozen_message("The document", document, Status.SUBMITTED))
    document.archived_at = now or timezone.now()
    document.save(update_fields=["archived_at"])
    return document
