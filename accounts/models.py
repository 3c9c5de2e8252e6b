"""Tenants (accounts) and the people who sign in (users)."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from .validators import normalize_vat_number


class Account(models.Model):
    """A tenant: the one platform (the carrier), a reseller, or a customer.

    Accounts form a tree: resellers hang under the platform; customers hang under the
    platform (direct customers) or under a reseller.
    """

    class Kind(models.TextChoices):
        PLATFORM = "platform", "Platform"
        RESELLER = "reseller", "Reseller"
        CUSTOMER = "customer", "Customer"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    class Currency(models.TextChoices):
        USD = "USD", "US dollar"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # Billing identity, printed on invoices.
    legal_name = models.CharField(max_length=200, blank=True)
    country = CountryField(blank=True)
    address = models.TextField(blank=True)
    vat_number = models.CharField("VAT number", max_length=32, blank=True)
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.USD)
    # Resellers share a sign-up link carrying this code; customers who sign up through it
    # are created under the reseller.
    signup_code = models.CharField(max_length=32, unique=True, null=True, blank=True)
    # Resellers only: the percent off the platform's list price the reseller pays
    # (its wholesale price; ``catalog.pricing``).
    wholesale_discount = models.DecimalField(
        "wholesale discount (%)", max_digits=5, decimal_places=2, default=0
    )
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=Q(kind="platform"), name="account_single_platform"
            ),
            models.CheckConstraint(
                condition=Q(kind="platform", parent__isnull=True)
                | (Q(kind__in=["reseller", "customer"]) & Q(parent__isnull=False)),
                name="account_parent_matches_kind",
            ),
            models.CheckConstraint(condition=Q(currency="USD"), name="account_currency_supported"),
            models.CheckConstraint(
                condition=Q(status__in=["active", "suspended"]), name="account_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(wholesale_discount__gte=0, wholesale_discount__lt=100)
                & (Q(kind="reseller") | Q(wholesale_discount=0)),
                name="account_wholesale_discount_resellers_only",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        """The one check of the billing identity, run by every writer (the settings page,
        the Django admin and the services all call ``full_clean``): the VAT number must be
        valid for the country, and is stored in its compact form."""
        try:
            self.vat_number = normalize_vat_number(self.vat_number, self.country.code or "")
        except ValidationError as exc:
            raise ValidationError({"vat_number": exc.messages}) from exc

    @property
    def is_platform(self):
        return self.kind == self.Kind.PLATFORM

    @property
    def is_reseller(self):
        return self.kind == self.Kind.RESELLER

    @property
    def is_customer(self):
        return self.kind == self.Kind.CUSTOMER

    @property
    def reseller(self):
        """The reseller that sells to this customer, or None (a direct customer, a
        reseller or the platform: they buy from the platform)."""
        if self.kind != self.Kind.CUSTOMER or self.parent_id is None:
            return None
        return self.parent if self.parent.is_reseller else None

    @property
    def is_active(self):
        return self.status == self.Status.ACTIVE


class Role(models.TextChoices):
    PLATFORM_ADMIN = "platform_admin", "Platform admin"
    PLATFORM_FINANCE = "platform_finance", "Finance"
    # Reviews customers' registrations (identities, addresses, documents) for numbers.
    PLATFORM_COMPLIANCE = "platform_compliance", "Compliance"
    RESELLER_ADMIN = "reseller_admin", "Reseller admin"
    RESELLER_SUPPORT = "reseller_support", "Reseller support"
    RESELLER_FINANCE = "reseller_finance", "Reseller finance"
    CUSTOMER_ADMIN = "customer_admin", "Customer admin"
    CUSTOMER_MEMBER = "customer_member", "Customer member"
    CUSTOMER_BILLING = "customer_billing", "Billing (accountant)"


ROLES_BY_ACCOUNT_KIND = {
    Account.Kind.PLATFORM: (Role.PLATFORM_ADMIN, Role.PLATFORM_FINANCE, Role.PLATFORM_COMPLIANCE),
    Account.Kind.RESELLER: (Role.RESELLER_ADMIN, Role.RESELLER_SUPPORT, Role.RESELLER_FINANCE),
    Account.Kind.CUSTOMER: (Role.CUSTOMER_ADMIN, Role.CUSTOMER_MEMBER, Role.CUSTOMER_BILLING),
}


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def _create(self, email, password, **fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email, password=None, **fields):
        """Operations-only users: Django admin access, no tenant, no portal role."""
        fields.update(is_staff=True, is_superuser=True, account=None, role="")
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Someone who signs in with an e-mail address; belongs to exactly one account."""

    email = models.EmailField("e-mail address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can sign in to the Django admin (operations only)."
    )
    # A customer member buys numbers (and channels for the numbers assigned to them) only
    # when an admin of the account allows it; admins always may, other roles never.
    may_buy = models.BooleanField(
        "may buy numbers", default=False, help_text="Members only: may spend the balance."
    )
    # When the user proved the address is theirs (None: not yet; such a user cannot buy).
    # Users created by an admin, or by an invitation they answer by e-mail, count as
    # verified; self-service sign-up starts unverified and sends a link.
    email_verified_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            # A portal user has an account and a role; only operations superusers have neither.
            models.CheckConstraint(
                condition=Q(account__isnull=False, role__in=Role.values)
                | Q(account__isnull=True, role="", is_superuser=True),
                name="user_account_and_role",
            ),
        ]

    def __str__(self):
        return self.full_name or self.email

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return (self.full_name or self.email).split(" ")[0]

    @property
    def email_verified(self):
        return self.email_verified_at is not None


Account.tenant_field = "pk"
User.tenant_field = "account"


class Brand(models.Model):
    """How a reseller appears to its customers: name, logo, colour, contacts, and what its
    invoices print (bank details, footer). Shown on its customers' pages, e-mails and
    invoice PDFs, and to anyone visiting one of its ``BrandHost`` names."""

    account = models.OneToOneField(
        Account, on_delete=models.PROTECT, primary_key=True, related_name="brand"
    )
    display_name = models.CharField(max_length=100)
    # Small (size-capped, PNG or JPEG checked from the content): kept in the database so
    # every web replica and the PDF renderer read the same bytes.
    logo = models.BinaryField(null=True, blank=True, editable=False)
    logo_content_type = models.CharField(max_length=20, blank=True, editable=False)
    primary_colour = models.CharField(max_length=7, default="#0d6efd")
    support_email = models.EmailField(blank=True)
    support_phone = models.CharField(max_length=32, blank=True)
    invoice_footer = models.TextField(blank=True)
    bank_details = models.TextField(blank=True, help_text="Printed on invoices: where to pay.")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["logo"])

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(primary_colour__regex=r"^#[0-9a-f]{6}$"),
                name="brand_primary_colour_hex",
            ),
            models.CheckConstraint(
                condition=Q(logo__isnull=True, logo_content_type="")
                | Q(logo__isnull=False, logo_content_type__in=["image/png", "image/jpeg"]),
                name="brand_logo_png_or_jpeg",
            ),
        ]

    def __str__(self):
        return self.display_name


class BrandHost(models.Model):
    """A host name (``voice.voxel.example``) that serves a reseller's brand and prices.
    Stored lower-case, without port; the host middleware refuses hosts it does not know."""

    host = models.CharField(max_length=253, unique=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="brand_hosts")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["host"]
        constraints = [
            models.CheckConstraint(
                condition=Q(host__regex=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$"),
                name="brand_host_lowercase_name",
            )
        ]

    def __str__(self):
        return self.host


Brand.tenant_field = "account"
BrandHost.tenant_field = "account"


class ConfirmationCode(models.Model):
    """A one-time 6-digit code e-mailed to a user to confirm one thing (``purpose``).

    Only a keyed hash of the code is stored (see ``accounts.codes``). A code is live until
    used, replaced by a newer one for the same purpose, out of attempts, or expired; the
    database allows one unused, unreplaced code per user and purpose.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="confirmation_codes")
    purpose = models.CharField(max_length=128)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "purpose", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "purpose"],
                condition=Q(used_at__isnull=True, replaced_at__isnull=True),
                name="confirmation_code_one_live_per_purpose",
            ),
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(replaced_at__isnull=True),
                name="confirmation_code_used_or_replaced",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="confirmation_code_expires_after_creation",
            ),
        ]

    def __str__(self):
        return f"code for {self.user} ({self.purpose})"


class ThrottleHit(models.Model):
    """How often one throttled thing (a sign-up from an IP, reset e-mails to an address, …)
    happened in one fixed time window. ``key`` names the thing, hashed (see
    ``accounts.throttles``); one row per key and window, counted up by one atomic upsert."""

    key = models.CharField(max_length=100)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "window_start"], name="throttle_hit_one_row_per_window"
            )
        ]

    def __str__(self):
        return f"{self.key} since {self.window_start:%Y-%m-%d %H:%M}: {self.hits}"
