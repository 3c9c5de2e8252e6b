"""DIDWW's pagination: ``page[number]``, ``page[size]`` (default 50, at most 100), and the
total in ``meta.total_records``, with first/prev/next/last links.

A page past the last is empty (a script looping "until no rows" stops cleanly); a page
number or size that is not a whole number in range is a 400 naming the parameter."""

from django.conf import settings
from django.core.paginator import EmptyPage, Page
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework_json_api.pagination import JsonApiPageNumberPagination


class Pagination(JsonApiPageNumberPagination):
    page_size = settings.API_PAGE_SIZE
    max_page_size = settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        return _whole(raw, self.page_size_query_param, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        paginator = self.django_paginator_class(queryset, self.get_page_size(request))
        raw = request.query_params.get(self.page_query_param)
        number = 1 if raw is None else _whole(raw, self.page_query_param, 10**9)
        try:
            self.page = paginator.page(number)
        except EmptyPage:
            self.page = Page([], number, paginator)
        return list(self.page)

    def get_paginated_response(self, data):
        page, paginator = self.page, self.page.paginator
        last = paginator.num_pages
        before = min(page.number - 1, last) if page.number > 1 else None
        after = page.number + 1 if page.number < last else None
        return Response(
            {
                "results": data,
                "meta": {
                    "total_records": paginator.count,
                    "pagination": {"page": page.number, "pages": last, "count": paginator.count},
                },
                "links": {
                    "first": self.build_link(1),
                    "last": self.build_link(last),
                    "next": self.build_link(after),
                    "prev": self.build_link(before),
                },
            }
        )


def _whole(raw, parameter, maximum) -> int:
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= maximum:
        raise ParseError(f"{parameter} must be a whole number from 1 to {maximum}.")
    return int(text)
