"""Every /v3/ route, walked with every kind of key: another account's ids are unknown (404),
a read-only key never writes (403), and nothing is written by a refused request.

The walker reads the routes from the URL resolver (so the parts of the API added later are
walked when they merge) and classifies each by the path segment before its id (or, for a
route without one, its last segment):
- ``KIND_BY_SEGMENT``: a tenant's object (``dids/<id>`` a number). ``MAKERS`` makes one for
  the owner; the personas are the owner's full key, the owner's read-only key, a stranger's
  key (another tenant of the same kind) and, when the owner is a reseller's customer, that
  reseller's key. A list of that kind shows the owner its object and nobody else (a
  reseller's lists show its own by default);
- ``SINGLETONS``: the key's account's one resource (``balance``): each key reads its own;
- ``NOT_TENANT``: the same for every key (the catalog), with the reason;
- ``NOT_TENANT_URL_NAMES``: the description of the API and its 404.
Plain Django views under /v3/ (a fallback 404) are not API endpoints and are skipped.
A DRF route that is none of these fails ``test_every_v3_route_is_classified``. The walk itself
returns the problems it found, so the tests below also prove it notices a leaking endpoint,
one that lets a read-only key write, and an unclassified one (``tests/api/examples.py``).
"""

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tests.api.conftest import JsonApiClient, key_for

pytestmark = pytest.mark.django_db

KIND_BY_SEGMENT = {
    "dids": "did",
    "orders": "order",
    "did_reservations": "did_reservation",
    "exports": "export",
    "customers": "customer",
}
SINGLETONS = {"balance": "the key's account's balance"}
NOT_TENANT = {
    segment: "the catalog: the same numbers and groups for every key that may buy them "
    "(prices per caller are the catalog lane's tests)"
    for segment in (
        "countries",
        "regions",
        "cities",
        "did_group_types",
        "did_groups",
        "stock_keeping_units",
        "available_dids",
    )
}
NOT_TENANT_URL_NAMES = {
    "api:openapi": "the public description of the API",
    "api:docs": "the public browsable docs",
    "api:not_found": "any unknown path: a JSON:API 404",
}
# Whose objects a reseller's key reaches by id: its customers' numbers and orders, as its
# admins serve them on the web (accounts.permissions.may_serve_customer). Reservations and
# exports are the key's own account's only.
RESELLER_REACHES = {"did", "order"}
# Who holds an object of each kind (a tenant of _tenants()); the stranger is the tenant of
# the same kind under the other reseller.
OWNER_OF_KIND = {"customer": "reseller A"}
DEFAULT_OWNER = "A's customer"
STRANGER_OF = {"A's customer": "B's customer", "reseller A": "reseller B"}
# Rows any API request may write, refused or not: the key's last use, the write audit.
BOOKKEEPING_TABLES = {"api_apikey", "api_apiwrite"}
WRITES = ("POST", "PUT", "PATCH", "DELETE")


# --- the routes -----------------------------------------------------------------------------


@dataclass
class Route:
    name: str
    route: str  # the pattern text, prefixes included: "v3/^dids/(?P<pk>[^/.]+)$"
    callback: object
    params: tuple

    @property
    def segment(self):
        """The path segment before the first parameter, or the last one."""
        path = self.route.replace("^", "").replace("$", "")
        found = re.search(r"([\w.-]+)/(?:<(?:\w+:)?\w+>|\(\?P<\w+>)", path)
        if found:
            return found.group(1)
        return path.rstrip("/").rsplit("/", 1)[-1] or None

    @property
    def methods(self):
        view = self.callback.cls
        actions = getattr(self.callback, "actions", None)
        if actions:
            # (DRF adds "head" to a viewset's actions once it served a GET)
            return sorted(
                m.upper()
                for m in actions
                if m in view.http_method_names and m not in ("head", "options", "trace")
            )
        return sorted(
            m.upper()
            for m in view.http_method_names
            if m not in ("head", "options", "trace") and hasattr(view, m)
        )

    @property
    def is_drf(self):
        return hasattr(self.callback, "cls")


def v3_routes(urlconf=None):
    """Every route under /v3/ in the URL configuration."""
    found = []

    def walk(patterns, prefix, namespace):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, route, ns)
            elif isinstance(entry, URLPattern) and route.startswith("v3/"):
                params = tuple(entry.pattern.regex.groupindex)
                found.append(Route(f"{namespace}{entry.name}", route, entry.callback, params))

    walk(get_resolver(urlconf).url_patterns, "", "")
    return found


def classification(route):
    """What the walker does with ``route`` (None: nobody said)."""
    if route.name in NOT_TENANT_URL_NAMES:
        return "not a tenant's"
    segment = route.segment
    if segment in NOT_TENANT:
        return "not a tenant's"
    if segment in KIND_BY_SEGMENT:
        return "object" if route.params else "list"
    if segment in SINGLETONS and not route.params:
        return "singleton"
    return None


def unclassified(urlconf=None):
    return sorted(r.route for r in v3_routes(urlconf) if r.is_drf and classification(r) is None)


# --- the tenants, their keys, the objects ---------------------------------------------------


@dataclass
class World:
    tenants: dict
    keys: dict = field(default_factory=dict)

    def key(self, tenant_name, read_only=False):
        """A key of the tenant's admin (made once per kind)."""
        index = (tenant_name, read_only)
        if index not in self.keys:
            self.keys[index] = key_for(self.tenants[tenant_name].admin, read_only=read_only)
        return self.keys[index]

    def client(self, tenant_name, read_only=False):
        return JsonApiClient(self.key(tenant_name, read_only)[1], raise_request_exception=False)


def make_world():
    from tests.test_cross_tenant import _tenants

    return World({tenant.key: tenant for tenant in _tenants()})


def make_did(world, owner):
    from tests.test_cross_tenant import make_did as rented_did

    return rented_did(world.tenants[owner])


def make_order(world, owner):
    from tests.test_cross_tenant import make_order as placed_order

    return placed_order(world.tenants[owner])


def make_did_reservation(world, owner):
    from api.models import DidReservation
    from tests.inventory.factories import DIDFactory

    now = timezone.now()
    return DidReservation.objects.create(
        account=world.tenants[owner].account,
        key=world.key(owner)[0],
        did=DIDFactory(),
        created_at=now,
        expires_at=now + timedelta(minutes=15),
    ).pk


def make_export(world, owner):
    """A completed export with its file (a pending one has no file to fetch: 404 for all)."""
    from api.models import Export
    from api.services_exports import export_write

    export = Export.objects.create(
        account=world.tenants[owner].account, key=world.key(owner)[0], export_type="dids"
    )
    assert export_write(export_id=export.pk).status == Export.Status.COMPLETED
    return export.pk


def make_customer(world, owner):
    """The reseller's customer (its account is the object of ``customers/<id>``)."""
    customer = next(
        t for t in world.tenants.values() if t.account.parent_id == owner_pk(world, owner)
    )
    return customer.account.pk


def owner_pk(world, owner):
    return world.tenants[owner].account.pk


MAKERS = {
    "did": make_did,
    "order": make_order,
    "did_reservation": make_did_reservation,
    "export": make_export,
    "customer": make_customer,
}


# --- the walk -------------------------------------------------------------------------------


def _written_tables(queries):
    tables = set()
    for query in queries:
        found = re.match(r'\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)"?', query["sql"], re.I)
        if found:
            tables.add(found.group(1))
    return tables - BOOKKEEPING_TABLES


def _send(client, method, url, resource_type, object_id=None):
    if method in ("GET", "DELETE"):
        return getattr(client, method.lower())(url)
    data = {"type": resource_type, "attributes": {}}
    if object_id is not None and method in ("PATCH", "PUT"):
        data["id"] = str(object_id)
    return client.generic(method, url, json.dumps({"data": data}))


def _resource_type(route):
    view = route.callback.cls
    name = getattr(view, "resource_name", None)
    if name:
        return name
    serializer = getattr(view, "serializer_class", None)
    meta = getattr(serializer, "Meta", None)
    return getattr(meta, "resource_name", None) or route.segment


def _answered_id(response):
    """The primary data's id of a JSON:API answer (None: another kind of answer, a file)."""
    if not response["Content-Type"].startswith("application/vnd.api+json"):
        return None
    return str(response.json()["data"]["id"])


def _ids(response):
    return {str(item["id"]) for item in response.json().get("data", [])}


def walk(urlconf=None, kinds=None, makers=None, visited=None):
    """Walks every classified /v3/ route; returns the problems found (empty: all good).
    ``visited`` (a list) receives ``"METHOD route persona"`` for each request made."""
    kinds = {**KIND_BY_SEGMENT, **(kinds or {})}
    makers = {**MAKERS, **(makers or {})}
    world = make_world()
    problems = []
    routes = [r for r in v3_routes(urlconf) if r.is_drf]
    for route in routes:
        kind = kinds.get(route.segment)
        if route.segment in SINGLETONS and not route.params:
            problems += _walk_singleton(world, route, visited)
        elif kind and kind in makers and route.params:
            problems += _walk_object(world, route, kind, makers[kind], urlconf, visited)
        elif kind and kind in makers:
            problems += _walk_list(world, route, kind, makers[kind], urlconf, visited)
    return problems


def _walk_singleton(world, route, visited):
    problems = []
    url = "/" + route.route
    for name in ("A's customer", "B's customer", "reseller A", "direct customer"):
        for read_only in (False, True):
            _visit(visited, "GET", route, name)
            response = world.client(name, read_only).get(url)
            got = response.json().get("data", {}).get("id") if response.status_code == 200 else None
            if got != str(owner_pk(world, name)):
                problems.append(f"GET {url} with {name}'s key: {response.status_code} {got}")
    return problems


def _personas(owner, kind):
    """(persona, tenant, read_only, may_reach) for an object of ``owner``."""
    personas = [
        ("owner", owner, False, True),
        ("owner's read-only key", owner, True, True),
        ("stranger", STRANGER_OF[owner], False, False),
    ]
    if owner == "A's customer":
        personas.append(("its reseller", "reseller A", False, kind in RESELLER_REACHES))
    return personas


def _visit(visited, method, route, persona):
    if visited is not None:
        visited.append(f"{method} {route.route} {persona}")


def _walk_object(world, route, kind, maker, urlconf, visited):
    owner = OWNER_OF_KIND.get(kind, DEFAULT_OWNER)
    object_id = maker(world, owner)
    if object_id is None:
        return [f"{route.route}: the maker of {kind} made nothing for {owner}"]
    url = reverse(route.name, urlconf=urlconf, kwargs={route.params[0]: object_id})
    resource_type = _resource_type(route)
    problems = []
    # writes last, the owner's own last of all (a DELETE may end the object)
    order = sorted(route.methods, key=lambda m: (m in WRITES, m == "DELETE"))
    for method in order:
        personas = _personas(owner, kind)
        if method in WRITES:
            personas = personas[1:] + personas[:1]
        for persona, tenant, read_only, may_reach in personas:
            _visit(visited, method, route, persona)
            with CaptureQueriesContext(connection) as queries:
                response = _send(
                    world.client(tenant, read_only), method, url, resource_type, object_id
                )
            status = response.status_code
            said = f"{method} {url} ({kind}) with the {persona}: {status}"
            if status >= 500:
                problems.append(said)
                continue
            if method not in WRITES:
                expected = 200 if may_reach else 404
                if status != expected:
                    problems.append(f"{said}, expected {expected}")
                elif status == 200 and _answered_id(response) not in (None, str(object_id)):
                    problems.append(f"{said}, but answered another object")
                continue
            if read_only:
                expected = {403}
            elif may_reach:
                expected = None  # the business may still refuse (400/409/422), never 401/403/404
            else:
                expected = {404}
            if expected is None:
                if status in (401, 403, 404):
                    problems.append(f"{said}, expected the change to be allowed")
            elif status not in expected:
                problems.append(f"{said}, expected {sorted(expected)}")
            if expected is not None and _written_tables(queries.captured_queries):
                problems.append(f"{said}, and it wrote {_written_tables(queries.captured_queries)}")
    return problems


def _walk_list(world, route, kind, maker, urlconf, visited):
    owner = OWNER_OF_KIND.get(kind, DEFAULT_OWNER)
    object_id = str(maker(world, owner))
    url = "/" + route.route.replace("^", "").replace("$", "")
    problems = []
    if "GET" not in route.methods:
        return problems
    for persona, tenant, read_only, _may_reach in _personas(owner, kind):
        _visit(visited, "GET", route, persona)
        response = world.client(tenant, read_only).get(url, {"page[size]": 100})
        said = f"GET {url} ({kind} list) with the {persona}: {response.status_code}"
        if response.status_code != 200:
            problems.append(said)
            continue
        sees = object_id in _ids(response)
        if sees != (tenant == owner):
            problems.append(f"{said}, {'lists' if sees else 'does not list'} {owner}'s {kind}")
    return problems


# --- the tests ------------------------------------------------------------------------------


def test_every_v3_route_is_classified():
    assert not unclassified(), (
        "say what these /v3/ ids are (KIND_BY_SEGMENT with a maker in MAKERS, SINGLETONS) or "
        f"why they are not a tenant's (NOT_TENANT): {unclassified()}"
    )


def test_every_v3_route_keeps_to_its_keys_account():
    visited = []
    assert walk(visited=visited) == []
    assert "GET v3/balance B's customer" in visited


def test_the_balance_is_walked():
    names = {r.name for r in v3_routes()}
    assert "api:balance" in names
    assert classification(next(r for r in v3_routes() if r.name == "api:balance")) == "singleton"


EXAMPLE_KINDS = {"example_numbers": "did", "example_exports": "export"}


def test_endpoints_added_later_are_walked_and_pass(settings):
    settings.ROOT_URLCONF = "tests.api.urlconfs.examples"
    routes = {r.route: classification(r) for r in v3_routes() if r.segment in EXAMPLE_KINDS}
    assert set(routes.values()) == {None}  # unknown until a kind is named for them
    KIND_BY_SEGMENT.update(EXAMPLE_KINDS)
    try:
        assert unclassified() == []
        visited = []
        assert walk(visited=visited) == []
    finally:
        for segment in EXAMPLE_KINDS:
            del KIND_BY_SEGMENT[segment]
    detail = "v3/^example_numbers/(?P<pk>[^/.]+)$"
    for method in ("GET", "PATCH", "DELETE"):
        for persona in ("owner", "owner's read-only key", "stranger", "its reseller"):
            assert f"{method} {detail} {persona}" in visited
    assert "POST v3/^example_exports$ stranger" not in visited  # no id: a list, not walked
    assert "GET v3/^example_exports$ stranger" in visited
    assert "GET v3/^example_exports/(?P<pk>[^/.]+)$ its reseller" in visited
    assert "GET v3/^example_exports/(?P<pk>[^/.]+)/download$ stranger" in visited


def test_a_route_nobody_classified_fails_the_walk(settings):
    settings.ROOT_URLCONF = "tests.api.urlconfs.unclassified"
    assert unclassified() == [
        "v3/^mystery_things$",
        "v3/^mystery_things/(?P<pk>[^/.]+)$",
    ]


def test_the_walk_notices_an_endpoint_that_shows_another_accounts_object(settings):
    settings.ROOT_URLCONF = "tests.api.urlconfs.leaky"
    problems = walk(kinds=EXAMPLE_KINDS)
    assert any(
        "with the stranger: 200, expected 404" in p and p.startswith("GET") for p in problems
    )
    assert any(p.startswith("PATCH") and "with the stranger: 200" in p for p in problems)
    assert any(p.startswith("DELETE") and "with the stranger: 204" in p for p in problems)


def test_the_walk_notices_a_read_only_key_that_writes(settings):
    settings.ROOT_URLCONF = "tests.api.urlconfs.scope_ignoring"
    problems = walk(kinds=EXAMPLE_KINDS)
    assert any(
        p.startswith("PATCH") and "read-only key: 200, expected [403]" in p for p in problems
    ), problems
    assert any("read-only key: 204" in p and "'inventory_did'" in p for p in problems), problems
    assert not any("stranger" in p for p in problems)


@pytest.mark.parametrize("urlconf", [None, "tests.api.urlconfs.examples"])
def test_every_v3_operation_refuses_a_request_without_a_key(settings, client, urlconf):
    """No key, no answer but 401 (as a JSON:API error), whatever the id: nothing is found
    or refused for a caller nobody knows."""
    if urlconf:
        settings.ROOT_URLCONF = urlconf
    sent = []
    for route in v3_routes():
        if route.name in NOT_TENANT_URL_NAMES or not route.is_drf:
            continue
        kwargs = {name: 1 for name in route.params}
        url = reverse(route.name, kwargs=kwargs)
        for method in route.methods:
            response = client.generic(method, url, HTTP_ACCEPT="application/vnd.api+json")
            assert response.status_code == 401, (method, url, response.status_code)
            assert response.json()["errors"][0]["status"] == "401"
            sent.append(f"{method} {url}")
    assert "GET /v3/balance" in sent
    if urlconf:
        assert {"PATCH /v3/example_numbers/1", "POST /v3/example_exports"} <= set(sent)
