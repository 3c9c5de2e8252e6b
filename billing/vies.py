"""Optional confirmation of EU VAT numbers with the EU's VIES service.

Off by default (``VIES_ENABLED``). When on, ``vat_number_confirmed`` asks VIES through
python-stdnum's client (``stdnum.eu.vat.check_vies``, which needs a SOAP library: install
``didportal[vies]``) and caches the answer (``VIES_CACHE_SECONDS``). VIES is often down or
slow: any failure answers "unknown" (None), cached briefly (``VIES_RETRY_SECONDS``) so the
sales after it do not wait on it again, and a sale never waits on more than one
``VIES_TIMEOUT``. The caller decides what unknown means (``billing.tax``: the number's
format is trusted, the decision records that it was not confirmed).
"""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from stdnum.eu import vat as eu_vat

logger = logging.getLogger(__name__)


def check_vies(vat_number, *, timeout):
    """The seam to VIES: ``{"valid": bool, ...}`` for a compact EU VAT number. Tests replace
    it with a local fake; nothing else talks to the network."""
    return eu_vat.check_vies(vat_number, timeout=timeout)


def _cache_key(vat_number):
    return "vies:" + hashlib.sha256(vat_number.encode()).hexdigest()[:32]


def vat_number_confirmed(vat_number) -> bool | None:
    """True: VIES knows the number; False: VIES says it is not valid; None: not asked
    (VIES off, no number) or no answer (VIES down)."""
    if not settings.VIES_ENABLED or not vat_number:
        return None
    key = _cache_key(vat_number)
    cached = cache.get(key)
    if cached is not None:
        return {"valid": True, "invalid": False, "unknown": None}[cached]
    try:
        valid = bool(check_vies(vat_number, timeout=settings.VIES_TIMEOUT)["valid"])
    except Exception:  # noqa: BLE001 (any failure of a remote service is "unknown")
        logger.warning("VIES did not answer for %s", vat_number, exc_info=True)
        cache.set(key, "unknown", settings.VIES_RETRY_SECONDS)
        return None
    cache.set(key, "valid" if valid else "invalid", settings.VIES_CACHE_SECONDS)
    return valid
