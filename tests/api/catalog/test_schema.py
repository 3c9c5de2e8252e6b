"""The catalog in the OpenAPI document (``/v3/openapi.json``, built by ``api.schema``):
every route, its filters, sort and includes (what the docs page shows and the fuzzer sends),
and relationships as resource identifiers of the related type."""

from api.views_docs import openapi_document
from tests.api.test_openapi import resolve


def test_catalog_routes_and_their_parameters_are_described():
    schema = openapi_document()
    paths = schema["paths"]
    for resource in (
        "countries",
        "regions",
        "cities",
        "did_group_types",
        "did_groups",
        "available_dids",
    ):
        assert f"/v3/{resource}" in paths
        assert f"/v3/{resource}/{{id}}" in paths
    listed = {p["name"] for p in paths["/v3/available_dids"]["get"]["parameters"]}
    assert {"filter[number_contains]", "filter[did_group.id]", "filter[country.id]"} <= listed
    assert {"sort", "include", "page[number]", "page[size]"} <= listed
    groups = {p["name"]: p for p in paths["/v3/did_groups"]["get"]["parameters"]}
    assert "stock_keeping_units" in groups["include"]["description"]
    assert "country.name" in groups["sort"]["description"]
    detail = {p["name"] for p in paths["/v3/did_groups/{id}"]["get"]["parameters"]}
    assert "include" in detail
    assert not any(name.startswith("filter[") for name in detail)

    answer = paths["/v3/cities/{id}"]["get"]["responses"]["200"]["content"]
    document = resolve(schema, answer["application/vnd.api+json"]["schema"])
    city = resolve(schema, document["properties"]["data"])
    region = city["properties"]["relationships"]["properties"]["region"]["properties"]["data"]
    assert resolve(schema, region["properties"]["type"])["enum"] == ["regions"]
    assert region["required"] == ["type", "id"]
    assert region["nullable"] is True
    group = schema["components"]["schemas"]["DidGroupResource"]["properties"]["relationships"]
    skus = group["properties"]["stock_keeping_units"]["properties"]["data"]
    assert skus["type"] == "array"
    assert resolve(schema, skus["items"]["properties"]["type"])["enum"] == ["stock_keeping_units"]
