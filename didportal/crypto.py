"""Secrets we must read back (a reseller's Stripe keys) are stored encrypted with Fernet.

``FIELD_ENCRYPTION_KEYS`` lists Fernet keys, newest first: the first encrypts, any of them
decrypts, so a key is rotated by putting a new one in front. Without it, a key derived
from ``SECRET_KEY`` is used (fine for development; set your own in production).
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """A stored secret that none of the configured keys opens."""


def _fernet() -> MultiFernet:
    keys = [key for key in settings.FIELD_ENCRYPTION_KEYS if key]
    if not keys:
        digest = hashlib.sha256(f"didportal-fields:{settings.SECRET_KEY}".encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError(
            "A stored secret cannot be decrypted with the configured keys."
        ) from exc
