"""The catalog in the OpenAPI document: every route, its filters, sort and includes (what
the docs page shows and the fuzzer sends), and relationships as resource identifiers."""

from drf_spectacular.generators import SchemaGenerator


def test_catalog_routes_and_their_parameters_are_described():
    schema = SchemaGenerator().get_schema(request=None, public=True)
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
    city = schema["components"]["schemas"]["City"]["properties"]["region"]
    assert city["properties"]["type"]["enum"] == ["regions"]
    assert city["nullable"] is True
