"""Items 24, 26, 29 and 30 probed as an attacker would: real HTTP requests against the running
test server (no test client), with cookies and CSRF tokens as a browser sends them."""

import re
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import urlencode, urlsplit
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

import pytest

from tests.factories import TEST_PASSWORD, UserFactory, platform

pytestmark = pytest.mark.django_db(transaction=True)


class _NoRedirects(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # hand 3xx answers back to the test


class Visitor:
    """One browser-like visitor: a cookie jar, a CSRF token read off each form page."""

    def __init__(self, base_url):
        self.base = base_url
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()), _NoRedirects)

    def request(self, path, data=None):
        body = urlencode(data, doseq=True).encode() if data is not None else None
        url = self.base + path  # the live server: always http://localhost
        request = Request(url, data=body, headers={"Referer": self.base + "/"})  # noqa: S310
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except HTTPError as answer:  # 3xx (redirects not followed), 4xx, 5xx
            return answer.code, dict(answer.headers), answer.read().decode()

    def post_form(self, path, fields):
        status, _, page = self.request(path)
        assert status == 200, (path, status)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        return self.request(path, {"csrfmiddlewaretoken": token, **fields})


@pytest.fixture
def visitor(live_server):
    return Visitor(live_server.url)


def test_a_lock_holds_for_every_spelling_of_the_address(visitor, customer, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(account=customer, email="victim@example.test")
    for spelling in ("VICTIM@example.test", " victim@example.test", "Victim@Example.Test "):
        visitor.post_form("/accounts/login/", {"username": spelling, "password": "wrong"})
    status, _, page = visitor.post_form(
        "/accounts/login/", {"username": "  VICTIM@EXAMPLE.TEST", "password": TEST_PASSWORD}
    )
    assert status == 429 and "Too many sign-in attempts" in page
    assert visitor.request("/cart/numbers/")[0] == 302  # still signed out: sent to sign in


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "https:evil.example", "/\\evil.example"]
)
def test_sign_up_never_sends_the_newcomer_off_site(visitor, target):
    platform()
    status, headers, _ = visitor.post_form(
        "/accounts/signup/?" + urlencode({"next": target}),
        {
            "full_name": "Nina New",
            "email": "nina@example.test",
            "company_name": "New Co",
            "country": "FR",
            "password": "purple-elephant-42",
        },
    )
    assert status == 302
    location = urlsplit(headers["Location"])
    assert location.netloc in ("", urlsplit(visitor.base).netloc)
    assert location.path.startswith("/") and not location.path.startswith("//")
    assert "evil" not in headers["Location"]


@pytest.mark.parametrize(
    "query", ["items=1", "q=%00", "after=%00", "page=-1", "page=99999999999999999999", "n=%00"]
)
def test_odd_query_strings_never_give_a_server_error(visitor, customer_admin, query):
    visitor.post_form(
        "/accounts/login/", {"username": customer_admin.email, "password": TEST_PASSWORD}
    )
    for path in ("/numbers/", "/numbers/NL/", "/numbers/NL/search/", "/cart/numbers/"):
        status, _, _ = visitor.request(f"{path}?{query}")
        assert status < 500, (path, query, status)


def test_every_page_carries_the_content_security_policy(visitor):
    for path in ("/", "/numbers/", "/accounts/login/", "/no-such-page/"):
        _, headers, _ = visitor.request(path)
        policy = headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "unsafe-inline" not in policy, path
