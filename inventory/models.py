"""Number stock: operators, number blocks (with their price plan), DIDs and packages.

Status changes of a DID go through ``inventory.services`` only; the constraints below make
the database refuse the states that transition table never produces.
"""

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from .choices import AFTER_HOLD_STATUSES, OWNED_STATUSES, DIDStatus, NumberType
from .numbers import validate_destination


def money_field(**kwargs):
    """Prices and per-minute rates: 5 decimals, rounded only where a charge is made."""
    return models.DecimalField(max_digits=14, decimal_places=5, **kwargs)


class Operator(models.Model):
    """A range-holder carrier the platform buys numbers from."""

    name = models.CharField(max_length=200, unique=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    notes = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class NumberBlock(models.Model):
    """A range or group of numbers from one operator, and the price plan they are sold on."""

    class BillingType(models.TextChoices):
        ONE_TIME = "one_time", "One-time"
        RECURRING = "recurring", "Recurring"

    BILLING_PERIODS = ("monthly", "weekly", "daily")

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="blocks")
    country = CountryField()
    region = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    area_code = models.CharField(
        max_length=8, blank=True, help_text="Digits after the country code, without trunk 0."
    )
    number_type = models.CharField(
        max_length=16, choices=NumberType.choices, default=NumberType.LOCAL
    )
    voice = models.BooleanField(default=True)
    sms = models.BooleanField(default=False)
    fax = models.BooleanField(default=False)
    requirement = models.ForeignKey(
        "compliance.Requirement",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="blocks",
    )
    tag = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)

    # Price plan. A null period price means that period is not offered.
    billing_type = models.CharField(
        max_length=16, choices=BillingType.choices, default=BillingType.RECURRING
    )
    setup_fee = money_field(default=0)
    monthly_price = money_field(null=True, blank=True)
    weekly_price = money_field(null=True, blank=True)
    daily_price = money_field(null=True, blank=True)

    # Capacity. An extra channel is priced per month; weekly and daily plans pay it spread
    # over the year (catalog.pricing says how).
    channels_included = models.PositiveIntegerField(default=2)
    extra_channel_monthly_price = money_field(
        default=0,
        verbose_name="Extra channel price per month",
        help_text="Per channel above the included ones, per month. Weekly plans pay "
        "monthly × 12 / 52 a week and daily plans monthly × 12 / 365 a day (rounded half-up "
        "to 5 decimals); a one-time block charges it once.",
    )
    max_concurrent_calls = models.PositiveIntegerField(null=True, blank=True)
    call_timeout_seconds = models.PositiveIntegerField(null=True, blank=True)

    # Per-minute rating of incoming calls.
    connection_fee = money_field(default=0)
    rate_per_minute = money_field(default=0)
    grace_seconds = models.PositiveIntegerField(default=0)
    initial_increment_seconds = models.PositiveIntegerField(default=60)
    increment_seconds = models.PositiveIntegerField(default=60)

    # What the platform pays the operator; platform staff only.
    buy_setup_cost = money_field(default=0)
    buy_monthly_cost = money_field(default=0)

    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["country", "city", "number_type", "pk"]
        indexes = [models.Index(fields=["country", "city"], name="block_country_city")]
        constraints = [
            models.CheckConstraint(
                condition=Q(voice=True) | Q(sms=True) | Q(fax=True),
                name="block_has_capability",
            ),
            models.CheckConstraint(
                condition=Q(billing_type__in=["one_time", "recurring"]),
                name="block_billing_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(billing_type="one_time")
                | Q(monthly_price__isnull=False)
                | Q(weekly_price__isnull=False)
                | Q(daily_price__isnull=False),
                name="block_recurring_has_period",
            ),
            models.CheckConstraint(
                condition=Q(
                    setup_fee__gte=0,
                    extra_channel_monthly_price__gte=0,
                    connection_fee__gte=0,
                    rate_per_minute__gte=0,
                    buy_setup_cost__gte=0,
                    buy_monthly_cost__gte=0,
                )
                & (Q(monthly_price__isnull=True) | Q(monthly_price__gte=0))
                & (Q(weekly_price__isnull=True) | Q(weekly_price__gte=0))
                & (Q(daily_price__isnull=True) | Q(daily_price__gte=0)),
                name="block_prices_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(increment_seconds__gt=0), name="block_increment_positive"
            ),
        ]

    def __str__(self):
        place = self.city or self.region or self.country.name
        return f"{place} {self.get_number_type_display()} ({self.operator})"

    @property
    def billing_periods(self):
        """The periods this block can be rented for, e.g. ["monthly", "daily"]."""
        return [p for p in self.BILLING_PERIODS if getattr(self, f"{p}_price") is not None]

    @property
    def margin_monthly(self):
        if self.monthly_price is None:
            return None
        return self.monthly_price - self.buy_monthly_cost


class Package(models.Model):
    """How many numbers a customer may hold (JeraSoft-style package).

    Numbers an admin assigns go under a package and count against ``max_dids``. Numbers the
    customer buys in the catalog count only against packages that say so
    (``limits_self_service``): a package given for a few manual assignments never caps
    self-service buying silently. Assigned numbers are billed at ``number_price`` per month
    when set, else at the number's own (block) price for the customer.
    """

    name = models.CharField(max_length=100, unique=True)
    max_dids = models.PositiveIntegerField()
    active = models.BooleanField(default=True)
    limits_self_service = models.BooleanField(
        default=False,
        help_text="On: numbers the customer buys in the catalog go under this package and "
        "count against its maximum. Off: it covers only numbers you assign.",
    )
    number_price = money_field(
        null=True,
        blank=True,
        help_text="Per assigned number and month, without VAT. Blank: the number's own "
        "price plan (its setup fee and period price). 0: assigned numbers are free.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(number_price__isnull=True) | Q(number_price__gte=0),
                name="package_number_price_not_negative",
            ),
        ]

    def __str__(self):
        return self.name


class ClientPackage(models.Model):
    """A package given to an account; its numbers go on hold while it is inactive."""

    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="assignments")
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="client_packages"
    )
    start_date = models.DateField(default=timezone.localdate)
    active = models.BooleanField(default=True)

    history = HistoricalRecords()

    tenant_field = "account"

    class Meta:
        ordering = ["account", "start_date", "pk"]

    def __str__(self):
        return f"{self.package} for {self.account}"


# A forwarded call rings at least this long and at most this long (seconds).
RING_TIMEOUT_MIN, RING_TIMEOUT_MAX = 5, 300


def release_cart_hold(collector, field, sub_objs, using):
    """``on_delete`` of ``DID.cart_held_by``: a deleted user's cart holds simply end.

    Both hold fields are cleared in one UPDATE (``did_cart_hold_consistent`` wants both or
    neither, and the collector's field updates would clear them one statement at a time).
    """
    sub_objs.using(using).update(cart_held_until=None, cart_held_by=None)


release_cart_hold.lazy_sub_objs = True


class DID(models.Model):
    """One phone number, E.164, and where it stands in its life cycle.

    ``cart_held_until`` / ``cart_held_by``: a customer's cart holds this in-stock number until
    then, so nobody else can put it in a cart or buy it meanwhile. Not a status: the number
    stays ``in_stock``, the hold simply lapses at that time (``cart_holds_release_expired``
    clears the fields). Written only by ``inventory.services.dids_cart_hold`` and friends,
    with conditional UPDATEs and no history rows.
    """

    Status = DIDStatus

    number = models.CharField(max_length=16, unique=True, help_text="E.164, e.g. +31205550000")
    block = models.ForeignKey(NumberBlock, on_delete=models.PROTECT, related_name="dids")
    status = models.CharField(max_length=24, choices=DIDStatus.choices, default=DIDStatus.IN_STOCK)
    after_hold_status = models.CharField(
        max_length=16,
        choices=[(s.value, s.label) for s in AFTER_HOLD_STATUSES],
        default=DIDStatus.IN_STOCK,
    )
    hold_started_at = models.DateTimeField(null=True, blank=True)
    # On hold (also) because a renewal went unpaid: a reactivated package alone does not
    # bring it back; billing clears it when the renewal is paid (inventory.services).
    unpaid = models.BooleanField(default=False)
    # These three foreign keys are blank on every number in stock: their indexes (Meta) are
    # partial, so the stock's NULLs, which no lookup by owner, package or holder reads, are
    # not written into three indexes by every import.
    owner = models.ForeignKey(
        "accounts.Account",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
        related_name="dids",
    )
    client_package = models.ForeignKey(
        ClientPackage,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
        related_name="dids",
    )
    destination = models.CharField(
        max_length=255, blank=True, validators=[validate_destination], help_text="E.164 or sip:"
    )
    channels = models.PositiveIntegerField(null=True, blank=True, help_text="Blank: block default.")
    # The owner's own label for the number (DIDWW's ``description``); cleared when the number
    # leaves its owner, as the destination is. Written by ``inventory.customer`` only.
    description = models.CharField(max_length=100, blank=True)
    # How long a forwarded call rings before it gives up; blank rings until answered.
    ring_timeout = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Seconds (5–300); blank: ring forever."
    )
    # Users of the owner account this number is assigned to. Only ``inventory.customer``
    # writes it (same-account users only); reads keep only users of the current owner, so
    # assignments left behind when the number leaves its account are never shown.
    assigned_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="assigned_dids"
    )
    tag = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)
    # Set the first time the number becomes active; only never-sold numbers may be deleted.
    ever_sold = models.BooleanField(default=False)
    cart_held_until = models.DateTimeField(null=True, blank=True, editable=False)
    cart_held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=release_cart_hold,
        null=True,
        blank=True,
        editable=False,
        db_index=False,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # An imported number's origin: the batch says who added it, when, why and as what. Such a
    # number has no history row of its own until its first later change (see ImportBatch).
    # No index: nothing looks numbers up by batch but an audit, and every import pays for one.
    import_batch = models.ForeignKey(
        "ImportBatch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        db_index=False,
        related_name="dids",
    )

    # A cart hold is a passing claim, not part of the number's story.
    history = HistoricalRecords(excluded_fields=["cart_held_until", "cart_held_by"])

    tenant_field = "owner"

    class Meta:
        verbose_name = "DID"
        ordering = ["number"]
        indexes = [
            # "Any N free numbers of this block" and stock counts per block.
            models.Index(
                fields=["block", "number"],
                condition=Q(status="in_stock"),
                name="did_in_stock_by_block",
            ),
            # The hold-expiry job.
            models.Index(
                fields=["hold_started_at"], condition=Q(status="hold"), name="did_hold_started"
            ),
            # The cart-hold expiry job.
            models.Index(
                fields=["cart_held_until"],
                condition=Q(cart_held_until__isnull=False),
                name="did_cart_held_until",
            ),
            # Foreign keys' lookups (owner_id = …, also the checks of a referenced row's
            # delete): a partial index answers them, as "= …" never matches NULL.
            models.Index(fields=["owner"], condition=Q(owner__isnull=False), name="did_owner_set"),
            models.Index(
                fields=["client_package"],
                condition=Q(client_package__isnull=False),
                name="did_client_package_set",
            ),
            models.Index(
                fields=["cart_held_by"],
                condition=Q(cart_held_by__isnull=False),
                name="did_cart_held_by_set",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DIDStatus.values), name="did_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(after_hold_status__in=[s.value for s in AFTER_HOLD_STATUSES]),
                name="did_after_hold_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=OWNED_STATUSES, owner__isnull=False)
                | (~Q(status__in=OWNED_STATUSES) & Q(owner__isnull=True)),
                name="did_owner_iff_active_or_hold",
            ),
            models.CheckConstraint(
                condition=Q(status="hold", hold_started_at__isnull=False)
                | (~Q(status="hold") & Q(hold_started_at__isnull=True)),
                name="did_hold_started_iff_hold",
            ),
            models.CheckConstraint(
                condition=Q(unpaid=False) | Q(status="hold"), name="did_unpaid_only_on_hold"
            ),
            models.CheckConstraint(
                condition=Q(client_package__isnull=True) | Q(owner__isnull=False),
                name="did_package_needs_owner",
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(ever_sold=True),
                name="did_active_was_sold",
            ),
            models.CheckConstraint(
                condition=Q(ring_timeout__isnull=True)
                | Q(ring_timeout__gte=RING_TIMEOUT_MIN, ring_timeout__lte=RING_TIMEOUT_MAX),
                name="did_ring_timeout_range",
            ),
            # A cart hold has a holder and an end, and only an in-stock number is held.
            models.CheckConstraint(
                condition=Q(cart_held_until__isnull=True, cart_held_by__isnull=True)
                | Q(cart_held_until__isnull=False, cart_held_by__isnull=False, status="in_stock"),
                name="did_cart_hold_consistent",
            ),
        ]

    def __str__(self):
        return self.number


class PrivateStorage(FileSystemStorage):
    """Files under ``settings.PRIVATE_STORAGE_ROOT``, which no URL serves."""

    @property
    def base_location(self):
        return settings.PRIVATE_STORAGE_ROOT

    @property
    def location(self):
        return str(settings.PRIVATE_STORAGE_ROOT)

    @property
    def base_url(self):
        return None


def private_storage():
    return PrivateStorage()


class ImportJob(models.Model):
    """One uploaded DID file: its dry-run check, then (once confirmed) its import.

    Rows are never kept here; the file is read again for each step. ``errors`` holds the
    first ``IMPORT_ERRORS_SHOWN`` bad rows, ``error_count`` counts them all.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to be checked"
        CHECKING = "checking", "Checking"
        READY = "ready", "Checked, ready to import"
        REJECTED = "rejected", "Has errors, nothing imported"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed, nothing imported"

    file = models.FileField(storage=private_storage, upload_to="imports/%Y/%m/", max_length=255)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # Progress: total_rows is an estimate (lines in the file) until the check has finished.
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    processed_rows = models.PositiveIntegerField(default=0)
    file_error = models.TextField(blank=True)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    imported_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "queued",
                        "checking",
                        "ready",
                        "rejected",
                        "importing",
                        "done",
                        "failed",
                    ]
                ),
                name="import_job_status_valid",
            ),
        ]

    def __str__(self):
        return f"Import #{self.pk} {self.original_name}"

    @property
    def in_progress(self):
        return self.status in (self.Status.QUEUED, self.Status.CHECKING, self.Status.IMPORTING)

    @property
    def percent(self):
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


class ImportBatch(models.Model):
    """The audit record of numbers imported together: one per import and group of rows.

    Every number of a batch was added at ``created_at`` by ``created_by`` (a system job when
    blank; ``reason`` names it) to ``block`` with ``status``, ``tag`` and ``notes``, and
    points here (``DID.import_batch``). This replaces a history row per imported number,
    which made up most of an import's time: a number's history rows start at its first later
    change, and ``inventory.selectors`` shows the batch as its "Added" entry and compares
    that first change against it, field by field.
    """

    job = models.ForeignKey(
        ImportJob, on_delete=models.PROTECT, null=True, blank=True, related_name="batches"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    block = models.ForeignKey(NumberBlock, on_delete=models.PROTECT, related_name="import_batches")
    status = models.CharField(max_length=24, choices=DIDStatus.choices)
    after_hold_status = models.CharField(
        max_length=16, choices=[(s.value, s.label) for s in AFTER_HOLD_STATUSES]
    )
    tag = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)
    number_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Import batch #{self.pk}: {self.number_count} numbers"
