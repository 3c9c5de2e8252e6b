"""Every URL that takes an object id answers 404 to a user of another tenant.

The walker lists every URL pattern with a parameter. Each must either have a scenario here
(an object owned by one tenant, the owner who may open it, and a stranger with the same role
in another tenant) or be listed as public with the reason. New views with ids must add a
scenario, or this test fails.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import AccountFactory, UserFactory, platform

# URL names whose parameter is not a tenant's object id.
NOT_TENANT_OBJECTS = {
    "accounts:password_reset_confirm": "signed one-time token, not an object id",
    "accounts:signup_reseller": "a reseller's public sign-up code",
}

SKIPPED_NAMESPACES = {"admin"}  # Django admin: operations superusers only


def _walk(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            if ns in SKIPPED_NAMESPACES:
                continue
            child = f"{namespace}{ns}:" if ns else namespace
            yield from _walk(entry.url_patterns, child)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}", entry


def _parameterised_url_names():
    names = set()
    for name, pattern in _walk(get_resolver().url_patterns):
        converters = getattr(pattern.pattern, "converters", {})
        if converters or getattr(pattern.pattern, "regex", None).groups:
            names.add(name)
    return names


# --- scenarios: each returns (owner, stranger, kwargs, method) ------------------------------


def _reseller_pair():
    reseller_a = AccountFactory(kind="reseller", name="Reseller A")
    reseller_b = AccountFactory(kind="reseller", name="Reseller B")
    return (
        reseller_a,
        UserFactory(account=reseller_a, role="reseller_admin"),
        UserFactory(account=reseller_b, role="reseller_admin"),
    )


def customer_detail():
    reseller, owner, stranger = _reseller_pair()
    customer = AccountFactory(parent=reseller)
    return owner, stranger, {"pk": customer.pk}, "get"


def customer_set_status():
    reseller, owner, stranger = _reseller_pair()
    customer = AccountFactory(parent=reseller)
    return owner, stranger, {"pk": customer.pk}, "post"


def team_edit():
    owner = UserFactory(role="customer_admin")
    member = UserFactory(account=owner.account, role="customer_member")
    stranger = UserFactory(role="customer_admin")
    return owner, stranger, {"pk": member.pk}, "get"


SCENARIOS = {
    "accounts:customer_detail": customer_detail,
    "accounts:customer_set_status": customer_set_status,
    "accounts:team_edit": team_edit,
}


def test_every_url_with_an_id_has_a_scenario():
    missing = _parameterised_url_names() - SCENARIOS.keys() - NOT_TENANT_OBJECTS.keys()
    assert not missing, f"add a cross-tenant scenario for: {sorted(missing)}"


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", sorted(SCENARIOS))
def test_stranger_gets_404_and_owner_does_not(client, url_name):
    platform()
    owner, stranger, kwargs, method = SCENARIOS[url_name]()
    url = reverse(url_name, kwargs=kwargs)

    client.force_login(owner)
    owner_response = getattr(client, method)(url)
    assert owner_response.status_code in (200, 302), owner_response.status_code

    client.force_login(stranger)
    stranger_response = getattr(client, method)(url)
    assert stranger_response.status_code == 404
