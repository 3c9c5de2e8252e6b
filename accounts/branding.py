"""Resellers' brands: how a reseller appears to its customers, and the host names it is
served on.

- ``brand_for_account`` / ``brand_for_request``: the ``BrandView`` (name, logo and CSS URLs,
  support contacts, where links point) for an e-mail recipient or a page. A reseller's
  customers see their reseller's brand wherever they sign in; anyone on a reseller's host
  sees that reseller's brand; everyone else sees the platform (``SITE_NAME``).
- ``email_sender``: the From (brand name, platform address) and Reply-To of an e-mail.
- The host registry (``host_lookup``): every ``BrandHost`` as one cached mapping, read by
  the host middleware on every request, dropped from the cache when a host changes.
- Services: ``brand_update``, ``brand_host_add``, ``brand_host_remove``; the logo check
  (``logo_check``: PNG or JPEG by content, decoded, size- and dimension-capped).
"""

import io
import re
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from urllib.parse import urlsplit

import phonenumbers
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.http.request import split_domain_port, validate_host
from django.urls import reverse

from .models import Account, Brand, BrandHost

HOSTS_CACHE_KEY = "brand:hosts:v1"

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
LOGO_EXTENSIONS = {"image/png": {"png"}, "image/jpeg": {"jpg", "jpeg", "jpe"}}
COLOUR_RE = re.compile(r"^#[0-9a-f]{6}$")
LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def _setting(name, default):
    return getattr(settings, name, default)


# --- What a page or an e-mail shows -------------------------------------------------------


@dataclass(frozen=True)
class BrandView:
    """The brand of one page or e-mail; ``reseller_id`` is None for the platform's own."""

    name: str
    reseller_id: int | None = None
    logo_url: str = ""
    css_url: str = ""
    support_email: str = ""
    support_phone: str = ""
    host: str = ""

    @property
    def site_url(self) -> str:
        """Where links in this brand's e-mails point: the brand's first host (with the
        platform's scheme and port), or the platform's ``SITE_URL``."""
        site = _setting("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
        if not self.host:
            return site
        parts = urlsplit(site)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme or 'https'}://{self.host}{port}"


def platform_brand() -> BrandView:
    return BrandView(name=_setting("SITE_NAME", "didportal"))


def brand_of_reseller(reseller_id) -> BrandView:
    """The brand of reseller ``reseller_id`` (the platform's if that is no reseller), read in
    one query (never the logo's bytes): pages ask for it on every request, so it costs the
    same on the first request as on the next (no cache to warm), one primary-key lookup."""
    if reseller_id is None:
        return platform_brand()
    first_host = BrandHost.objects.filter(account_id=OuterRef("pk")).order_by("host")
    row = (
        Account.objects.filter(pk=reseller_id, kind=Account.Kind.RESELLER)
        .annotate(first_host=Subquery(first_host.values("host")[:1]))
        .values(
            "name",
            "first_host",
            "brand__display_name",
            "brand__logo_content_type",
            "brand__support_email",
            "brand__support_phone",
            "brand__updated_at",
        )
        .first()
    )
    if row is None:
        return platform_brand()
    host = row["first_host"] or ""
    if row["brand__updated_at"] is None:  # a reseller without a brand: its name, defaults
        return BrandView(name=row["name"], reseller_id=reseller_id, host=host)
    version = int(row["brand__updated_at"].timestamp())
    logo_url = ""
    if row["brand__logo_content_type"]:
        logo_url = f"{reverse('brand_logo', args=[reseller_id])}?v={version}"
    return BrandView(
        name=row["brand__display_name"],
        reseller_id=reseller_id,
        logo_url=logo_url,
        css_url=f"{reverse('brand_css', args=[reseller_id])}?v={version}",
        support_email=row["brand__support_email"],
        support_phone=row["brand__support_phone"],
        host=host,
    )


def reseller_id_of(account) -> int | None:
    """The account whose brand ``account``'s users may see: a customer's parent (checked to
    be a reseller by ``brand_of_reseller``); None for everyone else."""
    if account is None or account.kind != Account.Kind.CUSTOMER:
        return None
    return account.parent_id


def brand_for_account(account) -> BrandView:
    """The brand of e-mails to ``account``'s users (and of their pages). Kept on the account
    instance: asking again (the order confirmation's body, then its sender, the second
    while the invoice sequence is locked) costs no query."""
    if account is None:
        return platform_brand()
    key = reseller_id_of(account)
    cached = getattr(account, "_brand_view", None)
    if cached is None or cached[0] != key:
        cached = account._brand_view = (key, brand_of_reseller(key))
    return cached[1]


def brand_for_request(request) -> BrandView:
    """The host's brand on a reseller's host; else the signed-in user's reseller's brand;
    else the platform's."""
    host_reseller_id = getattr(request, "host_reseller_id", None)
    if host_reseller_id is not None:
        return brand_of_reseller(host_reseller_id)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.account_id:
        return brand_for_account(user.account)
    return platform_brand()


def email_sender(account) -> tuple[str, list[str]]:
    """(From, Reply-To) of an e-mail to ``account``'s users: the brand's name on the
    platform's own address (deliverability: SPF/DKIM are the platform's), replies to the
    brand's support address. ``("", [])`` for the platform's own brand (the defaults)."""
    brand = brand_for_account(account)
    if brand.reseller_id is None:
        return "", []
    address = parseaddr(_setting("DEFAULT_FROM_EMAIL", "noreply@didportal.test"))[1]
    reply_to = [brand.support_email] if brand.support_email else []
    return formataddr((brand.name, address)), reply_to


# --- The host registry --------------------------------------------------------------------


def platform_hosts() -> list[str]:
    """The platform's own host patterns: ``ALLOWED_HOSTS`` less its "*" (see settings)."""
    return [host for host in _setting("ALLOWED_HOSTS", []) if host != "*"]


def host_registry() -> dict[str, int]:
    """{host: reseller id} for every registered brand host. Cached in the shared cache
    (Redis in production, so every process sees a change as soon as it is dropped) for at
    most ``BRAND_HOSTS_CACHE_SECONDS``; every change drops it after commit."""
    registry = cache.get(HOSTS_CACHE_KEY)
    if registry is None:
        registry = dict(BrandHost.objects.values_list("host", "account_id"))
        cache.set(HOSTS_CACHE_KEY, registry, _setting("BRAND_HOSTS_CACHE_SECONDS", 60))
    return registry


def _hosts_forget():
    """Drop the cached registry now and again after commit (a reader between the two may
    have cached the old one)."""
    cache.delete(HOSTS_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(HOSTS_CACHE_KEY))


class UnknownHost(Exception):
    pass


def host_lookup(raw_host: str) -> int | None:
    """The reseller id served on ``raw_host`` (a Host header, maybe with a port), None for
    one of the platform's own hosts; ``UnknownHost`` for anything else."""
    domain, _port = split_domain_port(raw_host or "")
    if not domain:
        raise UnknownHost(raw_host)
    if validate_host(domain, platform_hosts()):
        return None
    reseller_id = host_registry().get(domain)
    if reseller_id is None:
        raise UnknownHost(raw_host)
    return reseller_id


def host_normalise(value: str) -> str:
    """``VOICE.Voxel.example:443`` → ``voice.voxel.example``: lower-case, no port, no
    trailing dot, international names in IDNA (ASCII) form. ``ValidationError`` for anything
    that is not a plain DNS name (IP addresses, schemes, paths, wildcards)."""
    raw = (value or "").strip()
    host = raw.lower()
    if not host:
        raise ValidationError("Enter a host name, such as voice.example.com.")
    if "://" in host or "/" in host or "@" in host or "*" in host or host.startswith("["):
        raise ValidationError(
            f"“{raw}” is not a host name: enter only the name, such as voice.example.com."
        )
    if ":" in host:
        host, _, port = host.rpartition(":")
        if not port.isdigit():
            raise ValidationError(f"“{raw}” has an invalid port.")
    host = host.rstrip(".")
    try:
        labels = [label.encode("idna").decode("ascii") for label in host.split(".")]
    except UnicodeError:
        raise ValidationError(f"“{raw}” is not a valid host name.") from None
    host = ".".join(labels).lower()
    if len(labels) < 2 or len(host) > 253 or not all(LABEL_RE.match(x) for x in labels):
        raise ValidationError(
            f"“{raw}” is not a valid host name (letters, digits and hyphens, in at least "
            "two dot-separated parts)."
        )
    if labels[-1].isdigit():
        raise ValidationError(f"“{raw}” is an IP address; enter a host name.")
    return host


def brand_host_add(*, account, host, actor=None) -> BrandHost:
    """Register ``host`` for reseller ``account``. One reseller per host; the platform's own
    hosts cannot be taken."""
    if account.kind != Account.Kind.RESELLER:
        raise ValidationError("Only a reseller's brand can be served on its own host.")
    try:
        host = host_normalise(host)
    except ValidationError as exc:
        raise ValidationError({"host": exc.messages}) from None
    if validate_host(host, platform_hosts()):
        raise ValidationError({"host": f"{host} is one of the platform's own host names."})
    try:
        with transaction.atomic():
            brand_host = BrandHost.objects.create(host=host, account=account)
    except IntegrityError:
        raise ValidationError({"host": f"{host} is registered already."}) from None
    _hosts_forget()
    return brand_host


def brand_host_remove(*, brand_host, actor=None) -> None:
    with transaction.atomic():
        BrandHost.objects.filter(pk=brand_host.pk).delete()
        _hosts_forget()


# --- The brand editor ---------------------------------------------------------------------


def colour_normalise(value: str) -> str:
    colour = (value or "").strip().lower()
    if not COLOUR_RE.match(colour):
        raise ValidationError(f"“{value}” is not a colour: use #rrggbb, such as #0d6efd.")
    return colour


def phone_normalise(value: str, country: str = "") -> str:
    """A phone number in international format (``+31 20 123 4567``), or ValidationError."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, (country or None) if not value.startswith("+") else None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            f"“{value}” is not a valid phone number: write it with its country code, "
            "such as +31 20 123 4567."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def logo_check(data: bytes, *, name: str = "") -> str:
    """The content type (``image/png`` or ``image/jpeg``) of a logo, decided from its bytes
    and confirmed by decoding it; ValidationError naming what is wrong otherwise."""
    max_bytes = _setting("BRAND_LOGO_MAX_BYTES", 200 * 1024)
    max_width, max_height = _setting("BRAND_LOGO_MAX_PIXELS", (1200, 600))
    if not data:
        raise ValidationError("The logo file is empty.")
    if len(data) > max_bytes:
        raise ValidationError(
            f"The logo is {len(data) // 1024} KB; the most is {max_bytes // 1024} KB."
        )
    if data.startswith(PNG_MAGIC):
        content_type, expected = "image/png", "PNG"
    elif data.startswith(JPEG_MAGIC):
        content_type, expected = "image/jpeg", "JPEG"
    else:
        raise ValidationError("The logo must be a PNG or JPEG image.")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension and extension not in LOGO_EXTENSIONS[content_type]:
        raise ValidationError(
            f"The file is called “{name}” but holds a {expected} image: rename it to "
            f".{sorted(LOGO_EXTENSIONS[content_type])[-1]} or upload the image its name says."
        )
    from PIL import Image  # noqa: PLC0415 (Pillow comes with WeasyPrint)

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != expected:
                raise ValidationError("The logo must be a PNG or JPEG image.")
            width, height = image.size
            if width > max_width or height > max_height:
                raise ValidationError(
                    f"The logo is {width}×{height} pixels; the most is {max_width}×{max_height}."
                )
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # decodes every pixel: a truncated or corrupt file fails here
    except ValidationError:
        raise
    except Exception:  # noqa: BLE001 (Pillow raises many kinds for a broken file)
        raise ValidationError(f"The logo could not be read as a {expected} image.") from None
    return content_type


def brand_get(account) -> Brand:
    """The account's Brand, or an unsaved one with its account name and the defaults."""
    brand = Brand.objects.filter(account=account).first()
    return brand or Brand(account=account, display_name=account.name)


BRAND_FIELDS = (
    "display_name",
    "primary_colour",
    "support_email",
    "support_phone",
    "invoice_footer",
    "bank_details",
)


def brand_update(
    *, account, actor=None, logo=None, logo_name="", remove_logo=False, **fields
) -> Brand:
    """Save a reseller's brand (creating it on the first save). ``logo`` is the uploaded
    bytes (None: keep the current logo); ``remove_logo`` drops it. Every change is kept in
    the brand's history with who made it; nothing is saved when a field is wrong."""
    if account.kind != Account.Kind.RESELLER:
        raise ValidationError("Only resellers have a brand.")
    unknown = set(fields) - set(BRAND_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown brand fields: {', '.join(sorted(unknown))}.")
    errors = {}
    cleaned = {key: (value or "").strip() for key, value in fields.items()}
    if "display_name" in cleaned and not cleaned["display_name"]:
        errors["display_name"] = "Enter the name your customers see."
    for key, check in (
        ("primary_colour", colour_normalise),
        ("support_phone", lambda v: phone_normalise(v, str(account.country or ""))),
    ):
        if key in cleaned:
            try:
                cleaned[key] = check(cleaned[key])
            except ValidationError as exc:
                errors[key] = exc.messages
    content_type = None
    if logo is not None and not remove_logo:
        try:
            content_type = logo_check(logo, name=logo_name)
        except ValidationError as exc:
            errors["logo"] = exc.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        brand = Brand.objects.select_for_update().filter(account=account).first()
        if brand is None:
            brand = Brand(account=account, display_name=account.name)
        for key, value in cleaned.items():
            setattr(brand, key, value)
        if remove_logo:
            brand.logo, brand.logo_content_type = None, ""
        elif content_type:
            brand.logo, brand.logo_content_type = logo, content_type
        brand.full_clean(exclude=["account", "logo"])
        if actor is not None:
            brand._history_user = actor
        brand.save()
    return brand
