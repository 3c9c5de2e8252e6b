"""API keys: create, revoke, and note each use. (Agreements and the keys page: see
``api.services_keys`` when it grows.)"""

import ipaddress

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from .keys import secret_hash, secret_new, secret_prefix
from .models import ApiKey


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
    return "\n".join(dict.fromkeys(lines))


def api_key_create(*, user, name, read_only=False, allowed_networks="") -> tuple[ApiKey, str]:
    """A new key for ``user``'s account, acting as ``user``. Returns the key and its secret,
    which is not stored and cannot be shown again."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError("Give the key a name, so you can tell it from the others.")
    networks = networks_clean(allowed_networks or "")
    for _attempt in range(3):
        secret = secret_new()
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    account=user.account,
                    created_by=user,
                    name=name[:100],
                    prefix=secret_prefix(secret),
                    key_hash=secret_hash(secret),
                    read_only=read_only,
                    allowed_networks=networks,
                )
            return key, secret
        except IntegrityError:  # a prefix already taken (about 1 in 2^47): draw again
            continue
    raise RuntimeError("Could not draw an unused API key prefix.")


def api_key_revoke(*, key, user, now=None) -> ApiKey:
    """Revoke ``key`` (idempotent: a revoked key stays revoked as it was)."""
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
