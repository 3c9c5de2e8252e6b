"""``/v3/openapi.json`` describes every /v3/ endpoint as JSON:API, from the views themselves
(endpoints added later appear without any change to the docs: the throw-away examples in
``tests/api/examples.py`` stand for them); ``/v3/docs`` shows it under the site's
Content-Security-Policy without a CDN; unknown /v3/ paths answer a JSON:API 404."""

import html
import json
import re

import pytest
import schemathesis
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.drainage import GENERATOR_STATS
from playwright.sync_api import expect

from api.views_docs import openapi_document
from tests.api.conftest import fund, jsonapi_client

pytestmark = pytest.mark.django_db

MEDIA_TYPE = "application/vnd.api+json"
NOT_DESCRIBED = {"openapi", "docs", "not_found"}  # the description itself, and the 404


def v3_operations(urlconf=None):
    """``{(path, METHOD)}`` the URL resolver routes to DRF views under /v3/ (what the
    document must describe), with the path in OpenAPI's ``{param}`` spelling."""
    found = set()

    def walk(patterns, prefix):
        for entry in patterns:
            route = prefix + str(entry.pattern).lstrip("^").rstrip("$")
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern) and route.startswith("v3/"):
                if entry.name in NOT_DESCRIBED or not hasattr(entry.callback, "cls"):
                    continue  # the description itself, a plain Django view (a fallback)
                path = "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>", _param, route)
                for method in _methods(entry.callback):
                    found.add((path, method))

    walk(get_resolver(urlconf).url_patterns, "")
    return found


def _param(match):
    name = match.group(1) or match.group(2)
    return "{id}" if name == "pk" else "{" + name + "}"


def _methods(callback):
    view = callback.cls
    actions = getattr(callback, "actions", None)
    if actions:
        # (DRF adds "head" to a viewset's actions once it served a GET)
        return {
            method.upper()
            for method in actions
            if method in view.http_method_names and method not in ("head", "options", "trace")
        }
    return {
        method.upper()
        for method in view.http_method_names
        if method not in ("head", "options", "trace") and hasattr(view, method)
    }


def documented(document):
    return {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}


@pytest.fixture
def examples(settings):
    """The portal's URLs with the throw-away example endpoints under /v3/."""
    settings.ROOT_URLCONF = "tests.api.urlconfs.examples"


def test_the_document_is_public_json_and_names_every_v3_operation(client):
    response = client.get("/v3/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    document = json.loads(response.content)
    assert document["openapi"] == "3.0.3"
    assert document["info"]["title"] == "didportal API v3"
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Api-Key",
        "description": "An API key of your account (API keys page).",
    }
    assert documented(document) == v3_operations() != set()
    assert ("/v3/balance", "GET") in documented(document)
    # no key asked for the document itself, and it describes only /v3/
    assert all(path.startswith("/v3/") for path in document["paths"])
    assert "/v3/openapi.json" not in document["paths"]


def test_endpoints_added_later_are_described_from_their_views(examples):
    document = openapi_document()
    assert documented(document) == v3_operations("tests.api.urlconfs.examples")
    assert {
        ("/v3/example_numbers", "GET"),
        ("/v3/example_numbers/{id}", "GET"),
        ("/v3/example_numbers/{id}", "PATCH"),
        ("/v3/example_numbers/{id}", "DELETE"),
        ("/v3/example_exports", "POST"),
        ("/v3/example_exports/{id}/download", "GET"),
    } <= documented(document)
    download = document["paths"]["/v3/example_exports/{id}/download"]["get"]["responses"]
    assert list(download["200"]["content"]) == ["text/csv"]  # declared, kept
    assert list(download["404"]["content"]) == [MEDIA_TYPE]


@pytest.mark.parametrize("urlconf", ["didportal.urls", "tests.api.urlconfs.examples"])
def test_the_whole_document_builds_without_a_warning(settings, urlconf):
    """A view the generator cannot read (no serializer, a queryset that needs the key,
    a field it cannot type) says so here, before a user finds it in the docs."""
    from api import views_docs

    settings.ROOT_URLCONF = urlconf
    views_docs._cached["resolver"] = None  # built here, not taken from an earlier test
    openapi_document()
    assert not GENERATOR_STATS._warn_cache, dict(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._error_cache)


def test_a_view_that_needs_a_key_to_be_described_is_reported(settings):
    from api import views_docs

    settings.ROOT_URLCONF = "tests.api.urlconfs.keyed_queryset"
    views_docs._cached["resolver"] = None
    openapi_document()
    warnings = " ".join(GENERATOR_STATS._warn_cache)
    assert "KeyedQuerysetNumberViewSet" in warnings and "queryset" in warnings


def test_a_list_is_json_api_with_its_filters_sort_include_and_pages(examples):
    document = openapi_document()
    operation = document["paths"]["/v3/example_numbers"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {
        "filter[number]",
        "filter[did_group.id]",
        "sort",
        "include",
        "page[number]",
        "page[size]",
    }
    assert parameters["filter[did_group.id]"]["schema"]["type"] == "number"
    sort = re.compile(parameters["sort"]["schema"]["pattern"])
    assert sort.match("-number,id") and not sort.match("notes")
    include = re.compile(parameters["include"]["schema"]["pattern"])
    assert include.match("did_group") and not include.match("owner")
    assert parameters["page[size]"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}

    ok = operation["responses"]["200"]["content"]
    assert list(ok) == [MEDIA_TYPE]
    listing = resolve(document, ok[MEDIA_TYPE]["schema"])
    assert listing["required"] == ["data", "meta", "links"]
    assert listing["properties"]["meta"]["required"] == ["total_records"]
    resource = resolve(document, listing["properties"]["data"]["items"])
    assert resolve(document, resource["properties"]["type"]) == {
        "type": "string",
        "enum": ["example_numbers"],
    }
    assert set(resource["properties"]["attributes"]["properties"]) == {
        "number",
        "description",
        "ring_timeout",
    }
    group = resource["properties"]["relationships"]["properties"]["did_group"]
    # the type the renderer writes: the included serializer's
    assert resolve(document, group["properties"]["data"]["properties"]["type"])["enum"] == [
        "example_groups"
    ]
    assert {"400", "401", "403", "404", "406", "429"} <= set(operation["responses"])
    assert operation["security"] == [{"ApiKey": []}]
    assert operation["tags"] == ["example_numbers"]


def test_writes_take_a_json_api_document_and_list_their_errors(examples):
    document = openapi_document()
    create = document["paths"]["/v3/example_exports"]["post"]
    body = resolve(document, create["requestBody"]["content"][MEDIA_TYPE]["schema"])
    data = body["properties"]["data"]
    assert data["required"] == ["type", "attributes"]
    assert data["properties"]["attributes"]["required"] == ["export_type"]
    assert "status" not in data["properties"]["attributes"]["properties"]  # read-only
    assert {"201", "409", "415", "422", "403"} <= set(create["responses"])

    patch = document["paths"]["/v3/example_numbers/{id}"]["patch"]
    body = resolve(document, patch["requestBody"]["content"][MEDIA_TYPE]["schema"])
    data = body["properties"]["data"]
    assert data["required"] == ["type", "id"]  # nothing else is required in a change
    assert set(data["properties"]["attributes"]["properties"]) == {"description", "ring_timeout"}

    limited = create["responses"]["429"]
    assert limited["headers"]["Retry-After"]["required"] is True
    errors = resolve(document, limited["content"][MEDIA_TYPE]["schema"])
    assert errors["required"] == ["errors"]
    assert errors["properties"]["errors"]["items"]["required"] == ["status", "detail"]


def test_schemathesis_reads_every_operation(examples):
    schema = schemathesis.openapi.from_dict(openapi_document())
    labels = []
    for result in schema.get_all_operations():
        labels.append(result.ok().label)  # an invalid definition raises here
    assert "GET /v3/balance" in labels and "PATCH /v3/example_numbers/{id}" in labels


def test_a_real_answer_matches_its_description(examples, customer_admin):
    """The balance, as the document says it looks (the fuzz test does this for every
    operation with generated requests)."""
    import jsonschema

    fund(customer_admin.account, "3.00")
    document = openapi_document()
    answer = jsonapi_client(customer_admin).get("/v3/balance").json()
    ref = document["paths"]["/v3/balance"]["get"]["responses"]["200"]["content"][MEDIA_TYPE]
    jsonschema.validate(answer, {**ref["schema"], "components": document["components"]})
    problem = jsonapi_client().get("/v3/balance").json()
    jsonschema.validate(problem, {"$ref": "#/components/schemas/ErrorDocument", **document})


def test_the_document_is_built_once_per_url_configuration(examples, django_assert_num_queries):
    first = openapi_document()
    assert openapi_document() is first


@pytest.mark.parametrize(
    "query", ["lang=%00", "format=xml", "format=%00", "x=" + "y" * 3000, "page=-1"]
)
def test_odd_queries_on_the_document_are_no_server_error(client, query):
    assert client.get(f"/v3/openapi.json?{query}").status_code < 500


@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
@pytest.mark.parametrize("path", ["/v3/", "/v3/nothing", "/v3/balance/", "/v3/dids/1/x"])
def test_an_unknown_v3_path_is_a_json_api_404(client, method, path):
    response = getattr(client, method)(path, HTTP_ACCEPT=MEDIA_TYPE)
    assert response.status_code == 404
    assert response["Content-Type"] == MEDIA_TYPE
    (error,) = response.json()["errors"]
    assert error["status"] == "404" and error["title"] == "Not found"


def test_the_docs_page_loads_its_own_files_only(client):
    response = client.get("/v3/docs")
    assert response.status_code == 200
    page = response.content.decode()
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, flags=re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert "swagger-ui-bundle.js" in page and "/static/api/docs.js" in page
    assert not re.search(r"""(?:src|href)="(?:https?:)?//""", page)  # no CDN
    assert 'data-schema-url="/v3/openapi.json"' in page
    assert " style=" not in page


def test_the_docs_are_linked_by_name():
    from django.urls import reverse

    assert reverse("api:docs") == "/v3/docs"
    assert reverse("api:openapi") == "/v3/openapi.json"


def resolve(document, schema):
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


# --- the browsable docs in Chromium ---------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_the_reference_renders_and_tries_a_request_with_a_key(page, customer_admin, width):
    """Swagger UI runs under the site's CSP (no violation logged), lists the balance
    operation, and a request authorised with a key answers the account's balance."""
    from tests.api.conftest import key_for

    fund(customer_admin.account, "12.34")
    _key, secret = key_for(customer_admin, read_only=True)
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/v3/docs")
    expect(page.get_by_role("heading", name="API v3 reference")).to_be_visible()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("didportal API v3")
    operation = page.locator("#operations-balances-balance_retrieve")
    expect(operation).to_be_visible()

    page.get_by_role("button", name=re.compile("Authorize")).first.click()
    page.locator(".auth-container input").fill(secret)
    page.locator(".modal-ux .auth-btn-wrapper button.authorize").click()
    expect(page.locator(".modal-ux h6")).to_have_text("Authorized")
    page.locator(".modal-ux button.btn-done").click()
    operation.locator(".opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    body = operation.locator(".responses-wrapper .live-responses-table .microlight").first
    expect(body).to_contain_text('"balance": "12.34"')
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert not problems, problems
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert html.unescape(page.title()).startswith("API v3 reference")


@pytest.mark.parametrize(
    "data",
    [
        {"type": "example_exports", "attributes": 3},
        {"type": "example_exports", "attributes": ["export_type"]},
        {"type": "example_exports", "attributes": {}, "relationships": "x"},
        {"type": "example_exports", "attributes": {}, "relationships": {"key": 1}},
        {"type": "example_exports", "attributes": {}, "relationships": {"key": [1]}},
    ],
)
def test_a_body_of_the_wrong_shape_is_a_400_not_a_server_error(examples, customer_admin, data):
    """Found by the fuzz test: the JSON:API parser failed on such bodies (500)."""
    client = jsonapi_client(customer_admin)
    client.raise_request_exception = False
    response = client.post("/v3/example_exports", json.dumps({"data": data}))
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["status"] == "400"
