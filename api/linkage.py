"""Relationship linkage only for what the document includes, as DIDWW sends it.

DIDWW puts ``data`` (the related resource's type and id) in a relationship only when that
relationship was asked for with ``include``; otherwise the relationship has links (and a
count for to-many ones). The official Python SDK depends on it: it turns every linkage it
reads into an object, and for a resource that is not in ``included`` it builds one from a
bare identifier, which fails (``JsonApiObjectStub`` has no attributes). So a document that
links a country it does not include breaks ``client.countries().list()``.

``IncludedLinkageRenderer`` is DJA's renderer with one step before the JSON is written:
in every resource of ``data`` and ``included``, a relationship whose targets are not all in
the document loses its ``data`` and keeps a ``links.related`` URL (to-one, when the target
has a detail route) or its ``meta.count`` (to-many). ``data: null`` (no related resource)
and ``data: []`` stay: they promise nothing missing.
"""

from django.urls import NoReverseMatch, reverse
from rest_framework.renderers import JSONRenderer as PlainJSONRenderer
from rest_framework_json_api.renderers import JSONRenderer


class _PruneLinkage(PlainJSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict) and "data" in data:
            request = (renderer_context or {}).get("request")
            prune_linkage(data, request)
        return super().render(data, accepted_media_type, renderer_context)


class IncludedLinkageRenderer(JSONRenderer, _PruneLinkage):
    """DJA's JSON:API renderer; its final ``super().render`` passes through the pruning."""


def _resources(document):
    primary = document.get("data")
    rows = primary if isinstance(primary, list) else [primary] if primary else []
    return [*rows, *document.get("included", [])]


def prune_linkage(document, request=None):
    resources = _resources(document)
    present = {(r.get("type"), r.get("id")) for r in resources if isinstance(r, dict)}
    urls = {}  # a page of 50 numbers links the same few groups: each URL is made once
    for resource in resources:
        for relationship in (resource.get("relationships") or {}).values():
            _prune(relationship, present, request, urls)


def _prune(relationship, present, request, urls):
    if not isinstance(relationship, dict) or "data" not in relationship:
        return
    linkage = relationship["data"]
    targets = linkage if isinstance(linkage, list) else [linkage] if linkage else []
    if all((t.get("type"), t.get("id")) in present for t in targets):
        return
    del relationship["data"]
    if isinstance(linkage, dict):
        key = (linkage.get("type"), linkage.get("id"))
        if key not in urls:
            urls[key] = _detail_url(linkage, request)
        url = urls[key]
        if url:
            relationship.setdefault("links", {})["related"] = url
    else:
        relationship.setdefault("meta", {}).setdefault("count", len(linkage))


def _detail_url(identifier, request):
    try:
        path = reverse(f"api:{identifier['type']}-detail", kwargs={"pk": identifier["id"]})
    except NoReverseMatch:
        return None
    return request.build_absolute_uri(path) if request is not None else path
