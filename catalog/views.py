"""Coverage & pricing for buyers. Public: anonymous visitors browse coverage and prices."""

from django.http import Http404
from django.urls import reverse
from django_countries import countries

from didportal.htmx import render_page_or_results
from inventory.choices import NumberType

from . import selectors
from .forms import NumberSearchQuery
from .pricing import block_prices
from .search import number_query_parse
from .selectors import CoverageFilters


def _context(filters, **extra):
    return {
        "filters": filters,
        "number_types": NumberType.choices,
        "cart_add_url": reverse("cart:add"),
        **extra,
    }


def _viewer(request):
    """(viewer account, host reseller): whose prices the page shows (``block_prices``).
    Signed in: the user's account; anonymous: the list price, or the retail price of the
    reseller whose host the request came in on."""
    user = request.user
    if user.is_authenticated and user.account_id:
        return user.account, None
    return None, getattr(request, "host_reseller", None)


def coverage(request):
    filters = CoverageFilters.from_query(request.GET)
    viewer, host = _viewer(request)
    rows = selectors.country_list(filters, viewer, host_reseller=host)
    context = _context(filters, rows=rows)
    return render_page_or_results(
        request, "catalog/coverage.html", "catalog/_country_table.html", context
    )


def country(request, code):
    code = code.upper()
    if code not in countries:
        raise Http404("No such country")
    filters = CoverageFilters.from_query(request.GET)
    viewer, host = _viewer(request)
    search = request.GET.get("q", "").strip()
    blocks = selectors.city_rows(code, filters, search)
    rows = []
    for block in blocks:
        prices = block_prices(block, viewer, host_reseller=host)
        rows.append({"block": block, "prices": prices, "price": vars(prices)})  # see numbers()
    context = _context(filters, code=code, country_name=countries.name(code), rows=rows, q=search)
    return render_page_or_results(
        request, "catalog/country.html", "catalog/_city_table.html", context
    )


def numbers(request, code):
    code = code.upper()
    if code not in countries:
        raise Http404("No such country")
    filters = CoverageFilters.from_query(request.GET)
    viewer, host = _viewer(request)
    query = number_query_parse(request.GET.get("n", ""), code)  # only its ASCII digits are used
    params = NumberSearchQuery(request.GET).values()
    mode, block_ids = params["match"] or "starts", params["block"]
    blocks = selectors.city_rows(code, filters)
    page = selectors.search_numbers(
        blocks=blocks,
        country=code,
        filters=filters,
        block_ids=block_ids,
        query=query,
        mode=mode,
        after=params["after"],
        before=params["before"],
        holder=request.user if request.user.is_authenticated else None,
    )
    cells = {}  # what a block's rows show alike, worked out once per block

    def block_cells(block):
        if block.pk not in cells:
            prices = block_prices(block, viewer, host_reseller=host)
            cells[block.pk] = {
                "prices": prices,
                "price": vars(prices),
                "place": block.city or block.get_number_type_display(),
                "area_code": block.area_code,
                "requirement": block.requirement if block.requirement_id else None,
            }
        return cells[block.pk]

    # Plain dicts of plain values: the template engine tries a dict lookup before each
    # attribute (and a tuple index last), each miss a raised and caught exception; the
    # rows' lookups took a quarter of the time this way (cProfile, 10 requests).
    rows = []
    for did in page.rows:
        national, international = selectors.formatted(did.number)
        rows.append(
            {
                "did": did,
                "number": did.number,
                "pk": did.pk,
                "national": national,
                "international": international,
                **block_cells(did.block),
            }
        )
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
        blocks=blocks,
        selected=set(request.GET.getlist("selected")),  # only compared with numbers shown
    )
    return render_page_or_results(
        request, "catalog/numbers.html", "catalog/_number_results.html", context
    )
