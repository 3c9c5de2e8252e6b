"""Making and recognising API key secrets. Only ``secret_hash`` of a secret is stored."""

import hashlib
import secrets

SECRET_PREFIX = "dpk_"  # noqa: S105 (a label, not a secret)
PREFIX_LENGTH = 12  # "dpk_" and 8 random characters: shown in lists, unique per key


def secret_new() -> str:
    """A new secret: 256 random bits, URL-safe, recognisable by its prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_prefix(secret: str) -> str:
    return secret[:PREFIX_LENGTH]
