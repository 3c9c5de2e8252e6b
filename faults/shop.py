"""A shop to fault: numbers in stock, funded customers who sign in and buy through the real
pages, a webhook receiver; shared by fault_redis_down and fault_load.

Seeding runs in the orchestrating process on the stack's database (services and the test
factories, as the portal itself writes). Buyers are plain HTTP clients (``requests``) that
do what a person's browser does: GET the page, send its CSRF token back with the form.
"""

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

PASSWORD = "faults-buyer-password-7c1e"  # noqa: S105 (a throwaway account's password)
RESELLER_HOST = "shop.reseller.test"

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')
NUMBER_RE = re.compile(r'name="numbers" value="(\+\d+)"')
ORDER_RE = re.compile(r"/cart/orders/(\d+)/complete/")


# --- seeding ---------------------------------------------------------------------------------


@dataclass
class Shop:
    block_id: int
    country: str
    buyers: list  # [(email, host or None)]
    reseller_id: int | None = None


def shop_seed(*, numbers, buyers, reseller_share=0.5, funds="1000.00", webhook_url=None):
    """``numbers`` in stock in one Amsterdam block; ``buyers`` customer accounts (one admin
    each, all with ``PASSWORD``), ``reseller_share`` of them customers of a reseller whose
    brand is served on ``RESELLER_HOST``; each funded, and with a webhook endpoint for
    order events when ``webhook_url`` is given."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.test import override_settings

    from accounts import branding
    from accounts.models import User
    from inventory.services import dids_add
    from tests.billing.factories import fund
    from tests.factories import AccountFactory, UserFactory, platform
    from tests.inventory.factories import NumberBlockFactory, OperatorFactory

    admin = UserFactory(
        account=platform(), role="platform_admin", email="faults-admin@example.test"
    )
    block = NumberBlockFactory(operator=OperatorFactory(name="FaultRange"))
    dids_add(block=block, spec_text=f"5550000-{5550000 + numbers - 1}", actor=admin)
    reseller = None
    if reseller_share:
        reseller = AccountFactory(kind="reseller", name="Fault Reseller")
        branding.brand_host_add(account=reseller, host=RESELLER_HOST)
        fund(reseller, "1000000.00")  # pays the wholesale price of its customers' numbers
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True  # the receiver is on loopback
    resold = round(buyers * reseller_share)
    hashed = make_password(PASSWORD)  # one Argon2 hash for every buyer
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with fast:  # each factory user's own hash is replaced by the one Argon2 hash below
        seeded = _buyers_seed(buyers, resold, reseller, funds, webhook_url)
    User.objects.filter(email__startswith="buyer").update(password=hashed)
    return Shop(
        block_id=block.pk,
        country=str(block.country),
        buyers=seeded,
        reseller_id=reseller.pk if reseller else None,
    )


def _buyers_seed(buyers, resold, reseller, funds, webhook_url):
    from tests.billing.factories import fund
    from tests.factories import AccountFactory, UserFactory, platform
    from webhooks.services import endpoint_create

    seeded = []
    for index in range(buyers):
        of_reseller = index < resold
        account = AccountFactory(
            name=f"Buyer {index}", parent=reseller if of_reseller else platform()
        )
        fund(account, funds)
        user = UserFactory(account=account, email=f"buyer{index}@example.test")
        seeded.append((user.email, RESELLER_HOST if of_reseller else None))
        if webhook_url:
            endpoint_create(
                actor=user,
                account=account,
                url=webhook_url,
                events=["order.completed", "order.failed"],
            )
    return seeded


# --- the webhook receiver --------------------------------------------------------------------


class Receiver:
    """An HTTP server on loopback that answers 200 to every POST and keeps the delivery
    ids it was sent (``X-Didportal-Delivery``)."""

    def __init__(self):
        received = self.received = set()
        lock = self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with lock:
                    received.add(self.headers.get("X-Didportal-Delivery", ""))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


# --- a buyer ---------------------------------------------------------------------------------


@dataclass
class Hit:
    started: float  # time.monotonic()
    seconds: float
    method: str
    path: str
    status: int  # 0: no answer (connection refused or reset, timed out)


@dataclass
class Outcome:
    kind: str  # "bought", "refused" (told clearly), "unclear"
    detail: str = ""
    order_id: int | None = None


@dataclass
class Buyer:
    """One signed-in customer's browser: a cookie jar, and every request it made."""

    base_url: str
    email: str
    host: str | None = None
    timeout: float = 60
    hits: list = field(default_factory=list)
    http: object = None  # a requests.Session (or Locust's HttpSession); made if not given

    def __post_init__(self):
        if self.http is None:
            import requests

            self.http = requests.Session()
        if self.host:
            self.http.headers["Host"] = self.host

    def request(self, method, path, **kwargs):
        started = time.monotonic()
        try:
            answer = self.http.request(
                method,
                self.base_url + path,
                allow_redirects=False,
                timeout=self.timeout,
                **kwargs,
            )
        except Exception:  # noqa: BLE001 (no answer at all: recorded as status 0)
            self.hits.append(Hit(started, time.monotonic() - started, method, path, 0))
            return None
        self.hits.append(Hit(started, time.monotonic() - started, method, path, answer.status_code))
        return answer

    def _form_post(self, path, page, data):
        token = CSRF_RE.search(page.text) if page is not None else None
        if token is None:
            return None
        return self.request("POST", path, data={"csrfmiddlewaretoken": token.group(1), **data})

    def sign_in(self) -> bool:
        page = self.request("GET", "/accounts/login/")
        answer = self._form_post(
            "/accounts/login/", page, {"username": self.email, "password": PASSWORD}
        )
        return answer is not None and answer.status_code == 302

    def _follow(self, answer):
        location = urlsplit(answer.headers.get("Location", ""))
        return self.request("GET", location.path + (f"?{location.query}" if location.query else ""))

    def buy_one(self, *, country, block_id, pick=None) -> Outcome:
        """Find a number on the search page and buy it: a specific one (``pick`` chooses
        from the numbers shown) or, with ``pick=None``, "any 1 from this area"."""
        search = self.request("GET", f"/numbers/{country}/search/?block={block_id}")
        if search is None or search.status_code != 200:
            return Outcome("unclear", f"search answered {getattr(search, 'status_code', 0)}")
        shown = NUMBER_RE.findall(search.text)
        if not shown:
            if "No number in stock matches" in search.text:
                return Outcome("refused", "sold out: the search says no number is in stock")
            return Outcome("unclear", "search page without numbers or a sold-out note")
        if pick is not None:
            data = {"action": "selected", "numbers": pick(shown)}
        else:
            data = {"action": "any", "block": str(block_id), "quantity": "1"}
        back = f"/numbers/{country}/search/?block={block_id}"
        added = self._form_post("/cart/add/", search, {**data, "next": back})
        if added is None or added.status_code != 302:
            return Outcome("unclear", f"add answered {getattr(added, 'status_code', 0)}")
        panel = self._follow(added)
        if panel is None or panel.status_code != 200:
            return Outcome("unclear", f"panel answered {getattr(panel, 'status_code', 0)}")
        if "No longer available, not added" in panel.text or "No longer available:" in panel.text:
            return Outcome("refused", "told at add: no longer available")
        checkout = self.request("GET", "/cart/checkout/")
        if checkout is None or checkout.status_code not in (200, 302):
            return Outcome("unclear", f"checkout answered {getattr(checkout, 'status_code', 0)}")
        if checkout.status_code == 302:
            return Outcome("unclear", "checkout sent back to an empty cart")
        token = TOKEN_RE.search(checkout.text)
        if token is None:
            return Outcome("unclear", "checkout page without its token")
        placed = self._form_post("/cart/checkout/", checkout, {"token": token.group(1)})
        if placed is None:
            return Outcome("unclear", "checkout post got no answer")
        if placed.status_code != 302:
            return Outcome("unclear", f"checkout post answered {placed.status_code}")
        match = ORDER_RE.search(placed.headers.get("Location", ""))
        if match is None:
            return Outcome("unclear", f"checkout went to {placed.headers.get('Location')}")
        order_id = int(match.group(1))
        page = self._follow(placed)
        if page is None or page.status_code != 200:
            return Outcome("unclear", "order page did not answer", order_id)
        if "Your order is complete" in page.text:
            return Outcome("bought", order_id=order_id)
        if "Your order could not be completed" in page.text and (
            "no longer available" in page.text or "still available" in page.text
        ):
            return Outcome("refused", "told on the order page: none left", order_id)
        return Outcome("unclear", "order page without a clear outcome", order_id)


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def dump(path, value):
    path.write_text(json.dumps(value, indent=2, default=str))
