"""Reads about keys: the keys pages' lists, and what other parts of the API need."""

from django.shortcuts import get_object_or_404

from catalog.selectors import buyable_blocks
from compliance.selectors import requirements_for_blocks

from .models import ApiKey, ApiKeyAgreement, ApiWrite


def key_agreed_versions(key) -> dict[int, int]:
    """The requirement versions ``key``'s creator agreed to for it: ``{requirement id:
    version}``, the latest per requirement. API orders pass this to checkout as ``agreed``;
    checkout refuses a requirement whose text changed since (agree again on the keys page)."""
    agreed = {}
    rows = ApiKeyAgreement.objects.filter(key=key).order_by("requirement_id", "version")
    for requirement_id, version in rows.values_list("requirement_id", "version"):
        agreed[requirement_id] = version
    return agreed


def keys_for(user):
    """The keys of ``user``'s account (active and revoked), newest first. Scoped in the
    query: another account's key is never among them."""
    return ApiKey.objects.filter(account_id=user.account_id).select_related(
        "created_by", "revoked_by"
    )


def key_for(user, pk) -> ApiKey:
    """One key of ``user``'s account, or 404 (another account's key is "not found" too)."""
    return get_object_or_404(keys_for(user), pk=pk)


def requirements_in_force():
    """The active requirements of the blocks anyone can buy now (every account buys from
    the same blocks; prices differ, not availability): what a full-access key's creator
    agrees to. Each carries its current ``version``."""
    return requirements_for_blocks(buyable_blocks().order_by())


def pending_requirements(keys, in_force=None) -> dict[int, list]:
    """``{key id: [requirements in force its creator has not agreed to at their current
    version]}`` for the active full-access keys among ``keys`` (two queries however many)."""
    in_force = requirements_in_force() if in_force is None else in_force
    usable = [key for key in keys if key.is_active and not key.read_only]
    if not usable or not in_force:
        return {key.pk: [] for key in usable}
    agreed = set(
        ApiKeyAgreement.objects.filter(
            key__in=usable, requirement_id__in=[r.pk for r in in_force]
        ).values_list("key_id", "requirement_id", "version")
    )
    return {
        key.pk: [r for r in in_force if (key.pk, r.pk, r.version) not in agreed] for key in usable
    }


def key_agreements(key):
    """What the key's creator agreed to for it, newest first, with the requirement."""
    return ApiKeyAgreement.objects.filter(key=key).select_related("requirement", "agreed_by")


def key_recent_writes(key, limit=50):
    """The key's latest writes through the API (the audit trail), newest first."""
    return ApiWrite.objects.filter(key=key).select_related("user")[:limit]


def active_key_count(account) -> int:
    return ApiKey.objects.filter(account=account, revoked_at__isnull=True).count()
