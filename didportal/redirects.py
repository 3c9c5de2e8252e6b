"""Where a page may send the browser next: only to this site (``?next=``, ``back``, …)."""

from django.utils.http import url_has_allowed_host_and_scheme


def safe_redirect_target(request, url, default):
    """``url`` when it points into this site (a path, or an absolute URL on this host and,
    on HTTPS, this scheme); else ``default``. Refuses ``//evil.example``, ``https:evil.example``
    and the backslash forms browsers read as another host."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default
