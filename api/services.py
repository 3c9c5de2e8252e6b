"""API keys: create (with the creator's agreement to the requirement texts in force), agree
again when a text changed, revoke, note each use, and record each write made with a key."""

import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account
from compliance.models import Requirement

from .keys import secret_hash, secret_new, secret_prefix
from .models import ApiKey, ApiKeyAgreement, ApiWrite


def keys_per_account() -> int:
    """How many active (not revoked) keys one account may hold (``API_KEYS_PER_ACCOUNT``)."""
    return settings.API_KEYS_PER_ACCOUNT


def networks_clean(text: str) -> str:
    """``text`` (CIDR ranges or addresses, one per line or comma-separated) normalised, one
    per line; ``ValidationError`` names the first line that is not a range."""
    lines = []
    for raw in text.replace(",", "\n").splitlines():
        entry = raw.strip()
        if not entry:
            continue
        try:
            lines.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            raise ValidationError(f"“{entry[:60]}” is not an IP address or range (CIDR).") from None
    if len(lines) > 50:
        raise ValidationError("At most 50 IP ranges per key; use wider ranges.")
    return "\n".join(dict.fromkeys(lines))


def name_clean(name) -> str:
    """A key's name with its spaces collapsed; ``ValidationError`` when nothing is left."""
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationError("Give the key a name, so you can tell it from the others.")
    if len(name) > 100:
        raise ValidationError("Keep the name to 100 characters.")
    return name


def _require_key_holder(user) -> None:
    """Keys act as their creator: an active user of an active customer or reseller account
    (platform staff work in the consoles, never through the API)."""
    account = getattr(user, "account", None)
    if not user.is_active:
        raise ValidationError(f"{user.email} is deactivated: a key acting as them would not work.")
    if account is None or account.kind == Account.Kind.PLATFORM:
        raise ValidationError(
            "API keys are for customer and reseller accounts; platform staff have none."
        )
    if not account.is_active:
        raise ValidationError(f"{account.name} is suspended: its keys would not work.")


def api_key_create(
    *,
    user,
    name,
    read_only=False,
    allowed_networks="",
    agreed=(),
    ip_address=None,
    now=None,
) -> tuple[ApiKey, str]:
    """A new key for ``user``'s account, acting as ``user``. Returns the key and its secret,
    which is not stored and cannot be shown again.

    ``agreed``: requirements (each carrying the ``version`` the user was shown) the user
    agreed to for the key's orders; recorded with ``api_key_agree`` in the same transaction
    (a full-access key only). At most ``keys_per_account()`` active keys per account: the
    account's row is locked while counting, so two creations at once cannot pass the cap.
    """
    name = name_clean(name)
    networks = networks_clean(allowed_networks or "")
    _require_key_holder(user)
    if read_only and agreed:
        raise ValidationError("Read-only keys place no orders: there is nothing to agree to.")
    for _attempt in range(3):
        secret = secret_new()
        try:
            with transaction.atomic():
                Account.objects.select_for_update().only("pk").get(pk=user.account_id)
                active = ApiKey.objects.filter(account_id=user.account_id, revoked_at__isnull=True)
                if active.count() >= keys_per_account():
                    raise ValidationError(
                        f"Your account already has {keys_per_account()} active API keys, the "
                        "most it may have. Revoke one you no longer use first."
                    )
                key = ApiKey.objects.create(
                    account_id=user.account_id,
                    created_by=user,
                    name=name,
                    prefix=secret_prefix(secret),
                    key_hash=secret_hash(secret),
                    read_only=read_only,
                    allowed_networks=networks,
                )
                if agreed:
                    api_key_agree(
                        key=key, user=user, requirements=agreed, ip_address=ip_address, now=now
                    )
            return key, secret
        except IntegrityError:  # a prefix already taken (about 1 in 2^47): draw again
            continue
    raise RuntimeError("Could not draw an unused API key prefix.")


@transaction.atomic
def api_key_agree(*, key, user, requirements, ip_address=None, now=None) -> list[ApiKeyAgreement]:
    """Record that ``user``, the key's creator, agreed to ``requirements`` (each carrying the
    ``version`` shown) for the orders placed with ``key``. Checkout then accepts those
    versions for the key's orders (``selectors.key_agreed_versions``).

    Only the creator agrees (the key orders as them, and checkout records them as the
    buyer who agreed), only for an active full-access key, and only to a requirement's
    current text: a version changed since it was shown, or a requirement no longer
    active, is refused and nothing is recorded. Agreeing twice to a version records it once.
    """
    if key.created_by_id != user.pk:
        raise ValidationError(
            "Only the person who created this key can agree for it: its orders are placed "
            "in their name."
        )
    if not key.is_active or key.read_only:
        raise ValidationError("Only active full-access keys place orders and need agreements.")
    wanted = {}
    for requirement in requirements:
        wanted.setdefault(requirement.pk, int(requirement.version))
    current = Requirement.objects.in_bulk(list(wanted))
    errors = []
    for pk, version in wanted.items():
        requirement = current.get(pk)
        if requirement is None or not requirement.active:
            errors.append(f"Requirement {pk} no longer applies.")
        elif requirement.version != version:
            errors.append(
                f"“{requirement.title}” was updated to version {requirement.version} since "
                "you opened the page. Read it again and agree."
            )
    if errors:
        raise ValidationError(errors)
    now = now or timezone.now()
    ip_address = _ip_or_none(ip_address)
    rows = [
        ApiKeyAgreement(
            key=key,
            requirement_id=pk,
            version=version,
            agreed_by=user,
            agreed_at=now,
            ip_address=ip_address,
        )
        for pk, version in wanted.items()
    ]
    ApiKeyAgreement.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        ApiKeyAgreement.objects.filter(
            key=key, requirement_id__in=list(wanted), version__in=set(wanted.values())
        )
    )


def api_key_revoke(*, key, user, now=None) -> ApiKey:
    """Revoke ``key`` (idempotent: a revoked key stays revoked as it was). ``user`` is one
    of the key's account's users (the pages let its admins; the check here keeps any other
    caller from revoking another account's key)."""
    if user.account_id != key.account_id:
        raise ValidationError("This key belongs to another account.")
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now(), revoked_by=user
    )
    key.refresh_from_db()
    return key


def api_key_used(*, key, ip_address, now=None) -> None:
    """Note the key's last use, at most once a minute (a busy script must not write a row on
    every request)."""
    now = now or timezone.now()
    if key.last_used_at and (now - key.last_used_at).total_seconds() < 60:
        return
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_ip=ip_address)
    key.last_used_at, key.last_used_ip = now, ip_address


def api_write_record(
    *, key, user, method, path, status_code, resource_type="", resource_id="", ip_address=None
) -> ApiWrite:
    """One row of the API's write audit: which key (acting as which user) asked for what,
    from where, and how it was answered. Written whatever the answer (refusals too)."""
    return ApiWrite.objects.create(
        key=key,
        user=user,
        method=method[:8],
        path=path[:255],
        status_code=status_code,
        resource_type=str(resource_type or "")[:64],
        resource_id=str(resource_id or "")[:64],
        ip_address=_ip_or_none(ip_address),
    )


def _ip_or_none(value):
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None
