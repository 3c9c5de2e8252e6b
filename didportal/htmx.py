"""Pages whose results htmx swaps in place, with the URL pushed to the browser's history."""

from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def render_page_or_results(request, page_template, results_template, context):
    """The whole page, or only the results when htmx asks for them.

    A history restore (the back button after the cache dropped the page) asks for the URL
    with htmx headers too, but needs the whole page. ``Vary`` keeps caches from serving one
    answer for the other.
    """
    htmx = request.htmx
    results_only = bool(htmx) and not htmx.history_restore_request
    response = render(request, results_template if results_only else page_template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
