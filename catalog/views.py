"""Coverage & pricing for buyers. Public: anonymous visitors browse coverage and prices."""

from django.http import Http404
from django.urls import reverse
from django_countries import countries

from didportal.htmx import render_page_or_results
from inventory.choices import NumberType

from . import selectors
from .pricing import block_prices, from_price
from .search import MATCH_MODES, number_query_parse
from .selectors import CoverageFilters


def _context(filters, **extra):
    return {
        "filters": filters,
        "number_types": NumberType.choices,
        "cart_add_url": reverse("cart:add"),
        **extra,
    }


def _viewer_account(request):
    user = request.user
    return user.account if user.is_authenticated and user.account_id else None


def coverage(request):
    filters = CoverageFilters.from_query(request.GET)
    viewer = _viewer_account(request)
    rows = selectors.country_list(filters)
    for row in rows:
        row["from_monthly"] = from_price(row["from_monthly"], viewer)
        row["from_setup"] = from_price(row["from_setup"], viewer)
    context = _context(filters, rows=rows)
    return render_page_or_results(
        request, "catalog/coverage.html", "catalog/_country_table.html", context
    )


def country(request, code):
    code = code.upper()
    if code not in countries:
        raise Http404("No such country")
    filters = CoverageFilters.from_query(request.GET)
    viewer = _viewer_account(request)
    search = request.GET.get("q", "").strip()
    blocks = selectors.city_rows(code, filters, search)
    rows = [{"block": block, "prices": block_prices(block, viewer)} for block in blocks]
    context = _context(filters, code=code, country_name=countries.name(code), rows=rows, q=search)
    return render_page_or_results(
        request, "catalog/country.html", "catalog/_city_table.html", context
    )


def numbers(request, code):
    code = code.upper()
    if code not in countries:
        raise Http404("No such country")
    filters = CoverageFilters.from_query(request.GET)
    viewer = _viewer_account(request)
    query = number_query_parse(request.GET.get("n", ""), code)
    mode = request.GET.get("match", "starts")
    mode = mode if mode in MATCH_MODES else "starts"
    block_ids = [int(b) for b in request.GET.getlist("block") if b.isdigit()]
    page = selectors.search_numbers(
        country=code,
        filters=filters,
        block_ids=block_ids,
        query=query,
        mode=mode,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        holder=request.user if request.user.is_authenticated else None,
    )
    rows = [
        {
            "did": did,
            "formats": selectors.formatted(did.number),
            "prices": block_prices(did.block, viewer),
        }
        for did in page.rows
    ]
    context = _context(
        filters,
        code=code,
        country_name=countries.name(code),
        page=page,
        rows=rows,
        n=query.text,
        search_notice=query.notice,
        match=mode,
        block_ids=block_ids,
        blocks=selectors.city_rows(code, filters),
        selected=set(request.GET.getlist("selected")),
    )
    return render_page_or_results(
        request, "catalog/numbers.html", "catalog/_number_results.html", context
    )
