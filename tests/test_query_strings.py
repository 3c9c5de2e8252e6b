"""No query string produces a server error, on any page any role can reach.

For each demo user (every role) and an anonymous visitor, the walk opens every page without a
parameter and every page linked from those (so detail pages get real ids), one of each URL
name. On each it records which GET parameters the page reads (forms, views and templates all
read through ``QueryDict``), then sends odd values to all of them at once and a NUL byte to
each one alone. Lists show two rows a page here, so every pagination template is rendered.
"""

import html
import re
from urllib.parse import urlencode, urlsplit

import pytest
from django.core.management import call_command
from django.core.paginator import Paginator
from django.http import QueryDict
from django.test import Client
from django.urls import Resolver404, get_resolver, resolve, reverse

from accounts.demo import DEMO_USERS
from accounts.models import User
from tests.factories import AccountFactory, UserFactory, platform
from tests.test_cross_tenant import _walk

pytestmark = pytest.mark.django_db

ODD_VALUES = [
    "\x00",
    "1\x00",
    "x" * 5000,
    "-1",
    "99999999999999999999999",
    "²",
    "☎ Zürich 東京 \U0001f600",
]
# Read by some page whatever the walk records: paging, search and the cart's picks.
ALWAYS_TRIED = {"page", "q", "after", "before", "size", "items", "next", "back", "n"}
NOT_WALKED = {"accounts:logout"}  # POST only
HREF = re.compile(r'href="([^"#]+)"')


@pytest.fixture
def read_parameters(monkeypatch):
    """The GET parameter names read while the fixture is active."""
    names = set()
    for method in ("get", "getlist", "__getitem__", "__contains__"):
        original = getattr(QueryDict, method)

        def recording(self, key, *args, _original=original, **kwargs):
            names.add(key)
            return _original(self, key, *args, **kwargs)

        monkeypatch.setattr(QueryDict, method, recording)
    return names


@pytest.fixture
def two_per_page(monkeypatch):
    original = Paginator.__init__

    def small(self, object_list, per_page, *args, **kwargs):
        original(self, object_list, min(int(per_page), 2), *args, **kwargs)

    monkeypatch.setattr(Paginator, "__init__", small)


def fetch(client, path, params=()):
    """The status of a GET (a streamed body is read: its errors happen while streaming)."""
    response = client.get(path, params)
    if response.streaming:
        try:
            b"".join(response.streaming_content)
        except Exception as exc:  # noqa: BLE001 (reported as the failure it is)
            return f"500 while streaming: {exc!r}"
    return response.status_code, response


def pages_of(client):
    """``{url_name: path}``: every page without a parameter, and what they link to, two
    links deep (one path per URL name)."""
    found = {}
    for name, pattern in _walk(get_resolver().url_patterns):
        if not pattern.pattern.regex.groups and name not in NOT_WALKED:
            found.setdefault(name, reverse(name))
    to_read = list(found.values())
    for _depth in range(2):
        linked = []
        for path in to_read:
            result = fetch(client, path)
            if isinstance(result, str) or result[0] != 200 or result[1].streaming:
                continue
            for href in HREF.findall(result[1].content.decode(errors="replace")):
                name, link = _internal(href)
                if name and name not in found:
                    found[name] = link
                    linked.append(link)
        to_read = linked
    return found


def _internal(href):
    link = urlsplit(html.unescape(href))
    if link.scheme or link.netloc or not link.path.startswith("/"):
        return None, None
    try:
        name = resolve(link.path).view_name
    except Resolver404:
        return None, None
    if name in NOT_WALKED or name.startswith("admin:"):
        return None, None
    return name, link.path


def odd_query_strings(read):
    """Each odd value in every parameter at once, a repeated one, and a NUL in each parameter
    the page reads, alone. A page that reads none gets the first two only."""
    names = sorted(read | ALWAYS_TRIED)
    values = ODD_VALUES if read else ODD_VALUES[:1]
    yield from ({name: value for name in names} for value in values)
    yield {name: ["1", "\x00", "x"] for name in names}
    yield from ({name: "\x00"} for name in sorted(read))


def test_no_query_string_gives_a_server_error(settings, tmp_path, two_per_page, read_parameters):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    call_command("seed_demo", verbosity=0)
    failures, walked = [], {}
    for email, role, *_ in [(None, "anonymous"), *DEMO_USERS]:
        client = Client(raise_request_exception=False)
        if email:
            client.force_login(User.objects.get(email=email))
        for name, path in sorted(pages_of(client).items()):
            if name in walked.get(role, ()):
                continue  # two demo users share a role
            read_parameters.clear()
            baseline = fetch(client, path)
            if isinstance(baseline, tuple) and baseline[0] in (302, 403, 404, 405):
                continue  # not this user's page: refused before any parameter is read
            walked.setdefault(role, []).append(name)
            for params in odd_query_strings(read_parameters - {"csrfmiddlewaretoken"}):
                result = fetch(client, path, params)
                if isinstance(result, str) or result[0] == 500:
                    error = result if isinstance(result, str) else repr(result[1].exc_info[1])
                    query = urlencode(params, doseq=True)[:100]
                    failures.append(f"{email} {name} {path}?{query}: {error[:200]}")
                    break
    assert not failures, "\n".join(failures)
    # The walk reached the lists of every kind of user.
    assert {"catalog:numbers", "catalog:country"} <= set(walked["anonymous"])
    assert {"inventory:dids", "inventory:audit_log", "billing:invoice_list"} <= set(
        walked["platform_admin"]
    )
    assert {"accounts:resellers", "accounts:reseller_detail"} <= set(walked["platform_admin"])
    assert {"billing:statement", "billing:reports", "accounts:resellers"} <= set(
        walked["platform_finance"]
    )
    assert {"accounts:customers", "accounts:customer_detail"} <= set(walked["reseller_admin"])
    assert {"cart:my_numbers", "cart:orders", "cart:added"} <= set(walked["customer_admin"])
    assert {"cart:my_numbers", "cart:my_number"} <= set(walked["customer_member"])


def test_pagination_links_keep_the_query_and_replace_the_page(client, two_per_page):
    """The reported case: ``?items=1`` made the pagination template unpack a string."""
    admin = UserFactory(account=platform(), role="platform_admin")
    for name in ("Alpha", "Beta", "Gamma"):
        AccountFactory(name=name)
    client.force_login(admin)
    query = {"items": "1", "q": "a", "note": "x&y", "page": "1"}
    response = client.get(reverse("accounts:customers"), query)
    assert response.status_code == 200
    assert 'href="?items=1&amp;q=a&amp;note=x%26y&amp;page=2">Next' in response.content.decode()
