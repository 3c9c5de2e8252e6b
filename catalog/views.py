"""Coverage & pricing for buyers. Public: anonymous visitors browse coverage and prices."""

from django.http import Http404
from django.urls import reverse
from django_countries import countries

from didportal.htmx import render_page_or_results
from didportal.templatetags.portal import money, query_with
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


def _price_cells(prices):
    """A block's prices as its table cells show them (``money``), worked out in Python: a
    filter per cell in the row loop was most of the table's rendering (see numbers())."""
    return {
        "prices": prices,
        "one_time": prices.one_time,
        "setup": money(prices.setup_fee),
        "monthly": None if prices.monthly is None else money(prices.monthly),
        "weekly": None if prices.weekly is None else money(prices.weekly),
        "daily": None if prices.daily is None else money(prices.daily),
        "per_minute": money(prices.rate_per_minute, 4),
        "channels": str(prices.channels_included),
        "extra_channel": money(prices.extra_channel_monthly)
        if prices.extra_channel_monthly
        else "",
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
    # The cells as shown, worked out here (see _price_cells); the links from one reverse()
    # (country codes are two capital letters: nothing to quote).
    country_url = reverse("catalog:country", args=["CODE"]) + query_with(
        {"request": request}, page=None
    )
    for row in rows:
        row["url"] = country_url.replace("CODE", row["country"], 1)
        row["numbers_text"], row["cities_text"] = str(row["numbers"]), str(row["cities"])
        row["setup"] = money(row["from_setup"])
        row["monthly"] = None if row["from_monthly"] is None else money(row["from_monthly"])
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
    numbers_url = reverse("catalog:numbers", args=[code])
    rows = []
    for block in blocks:
        prices = block_prices(block, viewer, host_reseller=host)
        type_label = block.get_number_type_display()
        rows.append(
            {
                "block": block,
                **_price_cells(prices),
                "place": block.city or type_label,
                "type": type_label,
                "area_code": block.area_code,
                "region": block.region if block.region and block.region != block.city else "",
                "requirement": block.requirement if block.requirement_id else None,
                "services": "".join(
                    text
                    for text, offered in (
                        ("Voice", block.voice),
                        (" · SMS", block.sms),
                        (" · Fax", block.fax),
                    )
                    if offered
                ),
                "available": str(block.available),
                "numbers_url": f"{numbers_url}?block={block.pk}",
            }
        )
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
                **_price_cells(prices),
                "place": block.city or block.get_number_type_display(),
                "area_code": block.area_code,
                "requirement": block.requirement if block.requirement_id else None,
            }
        return cells[block.pk]

    # Plain dicts of plain values: the template engine tries a dict lookup before each
    # attribute (and a tuple index last), each miss a raised and caught exception; the
    # rows' lookups took a quarter of the time this way (cProfile, 10 requests).
    selected = set(request.GET.getlist("selected"))  # only compared with numbers shown
    rows = []
    for did in page.rows:
        national, international = selectors.formatted(did.number)
        rows.append(
            {
                "did": did,
                "number": did.number,
                "pk": did.pk,
                "checked": did.number in selected,
                "national": national,
                "international": international,
                **block_cells(did.block),
            }
        )
    chosen = set(block_ids or ())
    block_options = []  # the city choice: (id, label, selected)
    for block in blocks:
        type_label = block.get_number_type_display()
        area = f" ({block.area_code})" if block.area_code else ""
        label = f"{block.city or type_label}{area} — {type_label}"
        block_options.append((block.pk, label, block.pk in chosen))
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
        block_options=block_options,
    )
    return render_page_or_results(
        request, "catalog/numbers.html", "catalog/_number_results.html", context
    )
