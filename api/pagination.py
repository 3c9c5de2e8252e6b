"""DIDWW's pagination: ``page[number]``, ``page[size]`` (default 50, at most 100), and the
total in ``meta.total_records``, with first/prev/next/last links."""

from django.conf import settings
from rest_framework.response import Response
from rest_framework_json_api.pagination import JsonApiPageNumberPagination


class Pagination(JsonApiPageNumberPagination):
    page_size = settings.API_PAGE_SIZE
    max_page_size = settings.API_MAX_PAGE_SIZE

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        meta = response.data.setdefault("meta", {})
        meta["total_records"] = self.page.paginator.count
        return Response(response.data)
