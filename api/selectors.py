"""Reads about keys that other parts of the API need."""

from .models import ApiKeyAgreement


def key_agreed_versions(key) -> dict[int, int]:
    """The requirement versions ``key``'s creator agreed to for it: ``{requirement id:
    version}``, the latest per requirement. API orders pass this to checkout as ``agreed``;
    checkout refuses a requirement whose text changed since (agree again on the keys page)."""
    agreed = {}
    rows = ApiKeyAgreement.objects.filter(key=key).order_by("requirement_id", "version")
    for requirement_id, version in rows.values_list("requirement_id", "version"):
        agreed[requirement_id] = version
    return agreed
