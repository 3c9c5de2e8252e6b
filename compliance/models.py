"""Registration requirements per country and number type, and the buyers' recorded agreements.

A ``Requirement`` is what a carrier asks of a buyer before numbers of a block are activated:
a legal text to agree to and, when it ``needs_registration``, who the end user is (an
``Identity``), where (an ``Address``) and proofs (``Document``), sent for review as a
``Submission``. A block names its requirement explicitly
(``inventory.NumberBlock.requirement``); that link is the only rule deciding which numbers a
requirement applies to (see ``selectors.requirements_for_blocks``).

A number sold before its buyer's registration is approved awaits it: ``NumberRegistration``
tracks it (deadline, the submission that covers it, activated or cancelled). An approved
submission covers every later number of the same requirement for that account.

Every text a buyer may agree to is kept: ``RequirementVersion`` holds the title and text of
each version, and ``RequirementAgreement`` records who agreed to which version, for which order,
when and from where. Agreements are append-only by convention: no service updates them.
"""

import hashlib
import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_countries.fields import CountryField

from didportal.status_history import StatusChange
from inventory.choices import NumberType


def text_sha256(text: str) -> str:
    """The fingerprint of a legal text, kept with each agreement."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class IdentityType(models.TextChoices):
    NONE = "", "Not needed"
    ANY = "any", "Personal or business"
    PERSONAL = "personal", "Personal"
    BUSINESS = "business", "Business"


class AddressScope(models.TextChoices):
    NONE = "", "Not needed"
    ANYWHERE = "anywhere", "Anywhere"
    COUNTRY = "country", "In the number's country"
    AREA = "area", "In the number's city or area"


class IdentityField(models.TextChoices):
    """Identity details a requirement may make mandatory (besides names and country)."""

    BIRTH_DATE = "birth_date", "Date of birth"
    ID_NUMBER = "id_number", "ID or passport number"
    COMPANY_NUMBER = "company_number", "Company registration number"
    TAX_ID = "tax_id", "Tax ID / VAT number"


class DocumentKind(models.TextChoices):
    IDENTITY = "identity", "Identity document"
    ADDRESS = "address", "Proof of address"
    COMPANY = "company", "Company registration"
    OTHER = "other", "Other document"


class Requirement(models.Model):
    """What a buyer must accept and provide before numbers of a block are activated.

    ``country`` and ``number_type`` (blank: every type) describe what the requirement is
    about; blocks point to it explicitly. Changing ``title`` or ``text`` through
    ``services.requirement_save`` raises ``version`` by one, so agreements recorded against
    the old text keep the version they accepted.
    """

    country = CountryField()
    number_type = models.CharField(
        max_length=16, choices=NumberType.choices, blank=True, help_text="Blank: all types."
    )
    area = models.CharField(
        max_length=100, blank=True, help_text="City or area it is for; blank: the whole country."
    )
    title = models.CharField(max_length=200)
    text = models.TextField(help_text="Legal text and notes shown to the buyer.")
    # What a registration must contain. Nothing (the defaults): agreeing is enough and the
    # numbers go live at once, as before registrations existed.
    identity_type = models.CharField(
        max_length=16, choices=IdentityType.choices, blank=True, default=IdentityType.NONE
    )
    identity_fields = models.JSONField(
        default=list, blank=True, help_text="Mandatory identity details (IdentityField values)."
    )
    address_scope = models.CharField(
        max_length=16, choices=AddressScope.choices, blank=True, default=AddressScope.NONE
    )
    identity_proofs = models.PositiveSmallIntegerField(default=0)
    address_proofs = models.PositiveSmallIntegerField(default=0)
    company_proofs = models.PositiveSmallIntegerField(default=0)
    other_proofs = models.PositiveSmallIntegerField(default=0)
    deadline_days = models.PositiveSmallIntegerField(
        default=30, help_text="Days after purchase to provide the registration."
    )
    internal_notes = models.TextField(
        blank=True, help_text="For platform staff only; never shown to buyers. Not versioned."
    )
    version = models.PositiveIntegerField(default=1)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["country", "number_type", "title", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "number_type", "title"],
                name="requirement_unique_title",
                violation_error_message=(
                    "A requirement with this title already exists for this country and number type."
                ),
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="requirement_version_gte_1"),
            models.CheckConstraint(
                condition=Q(identity_type__in=IdentityType.values),
                name="requirement_identity_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(address_scope__in=AddressScope.values),
                name="requirement_address_scope_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    identity_proofs__lte=5,
                    address_proofs__lte=5,
                    company_proofs__lte=5,
                    other_proofs__lte=5,
                ),
                name="requirement_proofs_at_most_5",
            ),
            models.CheckConstraint(
                condition=Q(deadline_days__gte=1, deadline_days__lte=365),
                name="requirement_deadline_days_range",
            ),
        ]

    def __str__(self):
        kind = self.get_number_type_display() if self.number_type else "all types"
        return f"{self.title} ({self.country.code}, {kind}, v{self.version})"

    @property
    def needs_registration(self) -> bool:
        """Does a number of this requirement wait for an approved registration?"""
        return bool(self.identity_type or self.address_scope or any(self.proofs_needed.values()))

    @property
    def proofs_needed(self) -> dict:
        """``{DocumentKind: how many}`` for the kinds asked for (at least one)."""
        counts = {
            DocumentKind.IDENTITY: self.identity_proofs,
            DocumentKind.ADDRESS: self.address_proofs,
            DocumentKind.COMPANY: self.company_proofs,
            DocumentKind.OTHER: self.other_proofs,
        }
        return {kind: n for kind, n in counts.items() if n}

    @property
    def applies_to(self):
        """E.g. "Germany · Local numbers" or "United Kingdom · all types"."""
        kind = f"{self.get_number_type_display()} numbers" if self.number_type else "all types"
        where = f"{self.country.name} ({self.area})" if self.area else self.country.name
        return f"{where} · {kind}"


class RequirementVersion(models.Model):
    """The title and text of one version of a requirement, as buyers saw it."""

    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    text = models.TextField()
    text_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["requirement", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["requirement", "version"], name="requirement_version_once"
            ),
        ]

    def __str__(self):
        return f"{self.title} v{self.version}"


class RequirementAgreement(models.Model):
    """A buyer's "I agree" to one version of a requirement, for one order.

    ``order_id`` is the id of a ``cart.Order`` (a higher app, so no foreign key): checkout's
    ``order_place`` records agreements inside its own transaction. One agreement per
    (account, requirement, version, order): a retried checkout records nothing new.
    Rows are never updated; the title and text fingerprint are copies taken when agreeing.
    """

    tenant_field = "account"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="requirement_agreements"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requirement_agreements"
    )
    requirement = models.ForeignKey(
        Requirement, on_delete=models.PROTECT, related_name="agreements"
    )
    requirement_version = models.PositiveIntegerField()
    title = models.CharField(max_length=200, help_text="The requirement's title as agreed.")
    text_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the text as agreed.")
    order_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    agreed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-agreed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "requirement", "requirement_version", "order_id"],
                name="agreement_once_per_order",
            ),
            models.CheckConstraint(
                condition=Q(requirement_version__gte=1), name="agreement_version_gte_1"
            ),
        ]
        indexes = [models.Index(fields=["account", "-agreed_at"], name="agreement_account_date")]

    def __str__(self):
        return (
            f"{self.title} v{self.requirement_version} — {self.account} ({self.agreed_at:%Y-%m-%d})"
        )


# --- The customer's compliance profile --------------------------------------------------------


class Identity(models.Model):
    """Who the end user of a number is: a person or a business, reusable across orders.

    Frozen while a submission using it is under review or approved (the reviewer approved
    these words): ``services`` refuses edits then; a changed identity is a new one."""

    class Kind(models.TextChoices):
        PERSONAL = "personal", "Personal"
        BUSINESS = "business", "Business"

    tenant_field = "account"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="identities"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    id_number = models.CharField("ID or passport number", max_length=64, blank=True)
    company_number = models.CharField("Company registration number", max_length=64, blank=True)
    tax_id = models.CharField("Tax ID / VAT number", max_length=64, blank=True)
    country = CountryField(help_text="Nationality, or the country the business is registered in.")
    description = models.CharField(max_length=100, blank=True, help_text="Your own label.")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["personal", "business"]), name="identity_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind="personal") & ~Q(first_name="") & ~Q(last_name="")
                | Q(kind="business") & ~Q(company_name=""),
                name="identity_has_name",
            ),
        ]

    def __str__(self):
        if self.kind == self.Kind.BUSINESS:
            return self.company_name
        return f"{self.first_name} {self.last_name}"


class Address(models.Model):
    """A postal address of the end user, validated for its country (``services``)."""

    tenant_field = "account"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="addresses"
    )
    line1 = models.CharField("Street address", max_length=200)
    line2 = models.CharField("Address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20, blank=True)
    region = models.CharField("State / region", max_length=100, blank=True)
    country = CountryField()
    description = models.CharField(max_length=100, blank=True, help_text="Your own label.")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "addresses"

    def __str__(self):
        parts = [self.line1, f"{self.postal_code} {self.city}".strip(), self.country.name]
        return ", ".join(part for part in parts if part)


def compliance_storage():
    return storages["compliance"]


def document_path(document, filename):
    """A random name per file: nothing about the customer or the upload in the path."""
    return f"documents/{document.account_id}/{uuid.uuid4().hex}"


class Document(models.Model):
    """An uploaded proof (PDF, JPEG or PNG; checked by ``compliance.documents``), stored in
    the private ``compliance`` storage and downloaded only through the portal."""

    class ContentType(models.TextChoices):
        PDF = "application/pdf", "PDF"
        JPEG = "image/jpeg", "JPEG"
        PNG = "image/png", "PNG"

    class Scan(models.TextChoices):
        CLEAN = "clean", "Scanned: clean"
        NOT_SCANNED = "not_scanned", "Not scanned (no scanner set up)"

    tenant_field = "account"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(max_length=16, choices=DocumentKind.choices)
    # What it proves about (optional): the identity or address it belongs with.
    identity = models.ForeignKey(
        Identity, on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    address = models.ForeignKey(
        Address, on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    file = models.FileField(storage=compliance_storage, upload_to=document_path, max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=32, choices=ContentType.choices)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    scan = models.CharField(max_length=16, choices=Scan.choices)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DocumentKind.values), name="document_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(content_type__in=["application/pdf", "image/jpeg", "image/png"]),
                name="document_content_type_valid",
            ),
            models.CheckConstraint(condition=Q(size__gt=0), name="document_not_empty"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.original_name}"


# --- Submissions and their review ------------------------------------------------------------


class RejectionReason(models.TextChoices):
    UNREADABLE = "unreadable", "Unreadable"
    EXPIRED = "expired", "Expired document"
    NAME_MISMATCH = "name_mismatch", "Name does not match"
    ADDRESS_OUTSIDE_AREA = "address_outside_area", "Address outside the number's area"
    MISSING_PAGE = "missing_page", "Missing page"
    OTHER = "other", "Other"


class Submission(models.Model):
    """An account's registration for one requirement: an identity, an address and documents,
    reviewed by platform compliance staff.

    submitted → approved, or → rejected (with reasons and a comment the customer reads) →
    submitted again after a fix: the same row, so the numbers waiting on it keep waiting on
    it. Approval is final and covers every number of the requirement for that account
    (those waiting now and those bought later). ``SubmissionEvent`` keeps every step."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Not submitted yet"
        SUBMITTED = "submitted", "Awaiting review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    tenant_field = "account"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="submissions"
    )
    requirement = models.ForeignKey(
        Requirement, on_delete=models.PROTECT, related_name="submissions"
    )
    requirement_version = models.PositiveIntegerField()
    identity = models.ForeignKey(
        Identity, on_delete=models.PROTECT, null=True, blank=True, related_name="submissions"
    )
    address = models.ForeignKey(
        Address, on_delete=models.PROTECT, null=True, blank=True, related_name="submissions"
    )
    documents = models.ManyToManyField(Document, blank=True, related_name="submissions")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The latest decision (each one is also a SubmissionEvent).
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rejection_reasons = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True, help_text="What the reviewer tells the customer.")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["submitted_at", "id"],
                condition=Q(status="submitted"),
                name="submission_queue",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "submitted", "approved", "rejected"]),
                name="submission_status_valid",
            ),
            # One registration per account and requirement: a second would split the numbers
            # waiting between two reviews, and an approved one covers all of them.
            models.UniqueConstraint(
                fields=["account", "requirement"], name="submission_one_per_requirement"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="submission_submitted_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "rejected"]) | Q(decided_at__isnull=False),
                name="submission_decision_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reasons=[]),
                name="submission_rejection_has_reason",
            ),
        ]

    def __str__(self):
        return f"Registration {self.pk}: {self.requirement.title} ({self.get_status_display()})"


class SubmissionEvent(StatusChange):
    """One step of a submission: submitted, approved, rejected (with its reasons and
    comment). Written by ``services`` only: the audit trail of who decided what, when, why."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, choices=Submission.Status.choices)
    rejection_reasons = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)

    tenant_field = "submission__account"

    class Meta(StatusChange.Meta):
        ordering = ["submission", "pk"]

    def __str__(self):
        return f"{self.submission_id}: {self.from_status or 'start'} → {self.to_status}"


class NumberRegistration(models.Model):
    """A number sold under a requirement that needs registration, and where it stands.

    ``awaiting``: sold, charged, not routed (the DID is ``awaiting_registration``) until an
    approved submission covers it, or ``deadline_at`` passes and it is cancelled and refunded
    in full. A number sold to an account already approved for the requirement is recorded
    ``activated`` at once, with the submission that covered it."""

    class Status(models.TextChoices):
        AWAITING = "awaiting", "Awaiting registration"
        ACTIVATED = "activated", "Registered"
        CANCELLED = "cancelled", "Cancelled: registration not completed"

    tenant_field = "account"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="number_registrations"
    )
    did = models.ForeignKey("inventory.DID", on_delete=models.PROTECT, related_name="registrations")
    requirement = models.ForeignKey(
        Requirement, on_delete=models.PROTECT, related_name="number_registrations"
    )
    submission = models.ForeignKey(
        Submission,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="number_registrations",
    )
    # The cart.Order and position it was sold in (cart is a higher app: no foreign key).
    order_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    order_item_position = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    deadline_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=255, blank=True)
    refunded = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["deadline_at", "pk"]
        indexes = [
            models.Index(
                fields=["deadline_at", "id"],
                condition=Q(status="awaiting"),
                name="number_registration_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["awaiting", "activated", "cancelled"]),
                name="number_registration_status_valid",
            ),
            # One sale of a number waits at a time.
            models.UniqueConstraint(
                fields=["did"],
                condition=Q(status="awaiting"),
                name="number_registration_one_awaiting_per_did",
            ),
            models.CheckConstraint(
                condition=~Q(status="activated")
                | Q(activated_at__isnull=False, submission__isnull=False),
                name="number_registration_activated_has_submission",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                name="number_registration_cancelled_has_date",
            ),
            models.CheckConstraint(
                condition=Q(refunded__gte=0), name="number_registration_refund_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.did} ({self.get_status_display()})"
