"""A small local fake of the Stripe endpoints didportal calls, for tests.

The real ``stripe`` library talks to it (``STRIPE_API_BASE`` points here), so our requests
are built and parsed as in production. It also plays Stripe's hosted payment page
(``/pay/<session>``: a "Pay" and a "Cancel" button) and signs webhooks the way Stripe
does (``Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")``).

    fake = FakeStripe(webhook_secret="whsec_test").start()
    fake.webhook_url = live_server.url + "/payments/stripe/webhook/"   # to deliver events
    ...
    fake.stop()

``fake.requests`` lists every API call (method, path, parsed form, headers); objects live
in ``fake.sessions``, ``fake.payment_intents``, ``fake.refunds``, ``fake.customers``.
``fake.decline_next(message)`` makes the next off-session charge fail as a card error;
``fake.fail_refund_next(message)`` the next refund. Refunds honour ``Idempotency-Key`` as
Stripe does: the same key with the same parameters replays the first answer, with other
parameters it is refused.

A reseller's own Stripe account is another secret key on the same fake:
``fake.add_account(secret_key, webhook_secret, webhook_url)``. Objects belong to the key
that created them (another key gets 404 for them, as in Stripe), and ``pay``/``expire``
deliver to that account's webhook URL, signed with its secret. ``fake.requests`` records
the key of each call (``secret_key``).
"""

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlparse

_ids = itertools.count(1)


def new_id(prefix):
    return f"{prefix}_test_{next(_ids):06d}{int(time.time() * 1000) % 100000:05d}"


def nested(form_pairs):
    """Stripe's form encoding (``a[b][0][c]=1``) back to nested dicts and lists."""
    root = {}
    for key, value in form_pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node):
    if isinstance(node, dict):
        node = {key: _lists(value) for key, value in node.items()}
        if node and all(key.isdigit() for key in node):
            return [node[key] for key in sorted(node, key=int)]
    return node


def sign(payload: bytes, secret: str, timestamp=None) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``payload``."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event(event_type, obj, *, event_id=None, created=None):
    """A Stripe event envelope around ``obj`` (a dict)."""
    return {
        "id": event_id or new_id("evt"),
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(created or time.time()),
        "type": event_type,
        "livemode": False,
        "pending_webhooks": 1,
        "data": {"object": obj},
    }


def signed_event(event_type, obj, secret, *, timestamp=None, event_id=None):
    """(body bytes, headers) of a webhook call as Stripe would make it."""
    body = json.dumps(event(event_type, obj, event_id=event_id, created=timestamp)).encode()
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": sign(body, secret, timestamp),
    }
    return body, headers


class FakeStripe:
    def __init__(self, *, webhook_secret="whsec_test_fake", secret_key="sk_test_fake"):
        self.webhook_secret = webhook_secret
        self.secret_key = secret_key
        self.webhook_url = None  # deliver events here when set
        self.requests = []
        self.sessions = {}
        self.payment_intents = {}
        self.refunds = {}
        self.customers = {}
        self.payment_methods = {}
        self.delivered = []  # (event type, status code) of each webhook sent
        # Other Stripe accounts: secret key -> {"webhook_secret": …, "webhook_url": …}
        self.accounts = {}
        self.owners = {}  # object id -> secret key of the account that created it
        self._declines = []
        self._refund_failures = []
        self._refund_keys = {}  # idempotency key: (form, (status, body))
        self._lock = threading.Lock()
        self._server = None

    # --- running -----------------------------------------------------------------------

    def start(self):
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add_account(self, secret_key, webhook_secret, webhook_url=None):
        self.accounts[secret_key] = {"webhook_secret": webhook_secret, "webhook_url": webhook_url}

    def _endpoint(self, object_id):
        """(webhook URL, signing secret) of the account that owns ``object_id``."""
        key = self.owners.get(object_id, self.secret_key)
        if key == self.secret_key:
            return self.webhook_url, self.webhook_secret
        return self.accounts[key]["webhook_url"], self.accounts[key]["webhook_secret"]

    def decline_next(self, message="Your card was declined.", code="card_declined"):
        self._declines.append((message, code))

    def fail_refund_next(self, message="The refund could not be made."):
        self._refund_failures.append(message)

    # --- events --------------------------------------------------------------------------

    def send_event(self, event_type, obj, *, url=None, secret=None, timestamp=None):
        """POST a signed event to the portal; returns the HTTP status code."""
        body, headers = signed_event(
            event_type, obj, secret or self.webhook_secret, timestamp=timestamp
        )
        request = urllib.request.Request(
            url or self.webhook_url, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        self.delivered.append((event_type, status))
        return status

    def pay(self, session_id, *, deliver=True):
        """What the hosted page's "Pay" button does: the session is paid (a PaymentIntent
        and charge exist) and, when ``webhook_url`` is set, ``checkout.session.completed``
        is delivered. Returns the session."""
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] != "open":
                return session
            intent = self._intent(
                amount=session["amount_total"],
                currency=session["currency"],
                metadata=session["payment_intent_data"].get("metadata", {}),
                customer=session.get("customer"),
            )
            if session.get("customer_creation") == "always" and not session.get("customer"):
                session["customer"] = self._customer()["id"]
                intent["customer"] = session["customer"]
            if session["payment_intent_data"].get("setup_future_usage"):
                self.customers.setdefault(session["customer"], {"id": session["customer"]})
            session.update(status="complete", payment_status="paid", payment_intent=intent["id"])
            if session_id in self.owners:
                self.owners[intent["id"]] = self.owners[session_id]
        url, secret = self._endpoint(session_id)
        if deliver and url:
            self.send_event("checkout.session.completed", session, url=url, secret=secret)
        return session

    def expire(self, session_id, *, deliver=True):
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] == "open":
                session["status"] = "expired"
        url, secret = self._endpoint(session_id)
        if deliver and url:
            self.send_event("checkout.session.expired", session, url=url, secret=secret)
        return session

    def charge_for(self, payment_intent_id):
        intent = self.payment_intents[payment_intent_id]
        return {
            "id": intent["latest_charge"],
            "object": "charge",
            "amount": intent["amount"],
            "amount_refunded": intent.get("amount_refunded", 0),
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "refunded": intent.get("amount_refunded", 0) >= intent["amount"],
            "metadata": intent["metadata"],
        }

    # --- objects -------------------------------------------------------------------------

    def _customer(self, email=None):
        customer = {"id": new_id("cus"), "object": "customer", "email": email}
        self.customers[customer["id"]] = customer
        return customer

    def _intent(self, *, amount, currency, metadata, customer=None, payment_method=None):
        payment_method = payment_method or new_id("pm")
        self.payment_methods.setdefault(
            payment_method,
            {
                "id": payment_method,
                "object": "payment_method",
                "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
            },
        )
        intent = {
            "id": new_id("pi"),
            "object": "payment_intent",
            "amount": int(amount),
            "amount_received": int(amount),
            "currency": currency,
            "status": "succeeded",
            "metadata": metadata,
            "customer": customer,
            "payment_method": payment_method,
            "latest_charge": new_id("ch"),
            "amount_refunded": 0,
        }
        self.payment_intents[intent["id"]] = intent
        return intent

    def create_session(self, form, key=None):
        amount = sum(
            int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1))
            for item in form.get("line_items", [])
        )
        currency = form["line_items"][0]["price_data"]["currency"]
        session_id = new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": form.get("mode", "payment"),
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount,
            "currency": currency,
            "client_reference_id": form.get("client_reference_id"),
            "metadata": form.get("metadata", {}),
            "payment_intent_data": form.get("payment_intent_data", {}),
            "customer": form.get("customer"),
            "customer_email": form.get("customer_email"),
            "customer_creation": form.get("customer_creation"),
            "payment_intent": None,
            "success_url": form["success_url"],
            "cancel_url": form["cancel_url"],
            "url": f"{self.url}/pay/{session_id}",
        }
        self.sessions[session_id] = session
        self.owners[session_id] = key or self.secret_key
        return session

    def create_refund(self, form, idempotency_key=None):
        if idempotency_key in self._refund_keys:
            first_form, answer = self._refund_keys[idempotency_key]
            if first_form != form:
                return 400, _error(
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters.",
                    "idempotency_key_in_use",
                )
            return answer
        answer = self._refund(form)
        if idempotency_key:
            self._refund_keys[idempotency_key] = (form, answer)
        return answer

    def _refund(self, form):
        if self._refund_failures:
            return 400, _error("invalid_request_error", self._refund_failures.pop(0), "")
        intent = self.payment_intents.get(form.get("payment_intent"))
        if intent is None:
            return 404, _error(
                "invalid_request_error", "No such payment_intent", "resource_missing"
            )
        amount = int(form.get("amount", intent["amount"] - intent["amount_refunded"]))
        if amount > intent["amount"] - intent["amount_refunded"]:
            return 400, _error(
                "invalid_request_error",
                "Refund amount is greater than unrefunded amount on charge.",
                "charge_already_refunded",
            )
        intent["amount_refunded"] += amount
        refund = {
            "id": new_id("re"),
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "charge": intent["latest_charge"],
            "status": "succeeded",
            "metadata": form.get("metadata", {}),
        }
        self.refunds[refund["id"]] = refund
        return 200, refund

    def create_intent(self, form, key=None):
        if self._declines:
            message, code = self._declines.pop(0)
            return 402, _error("card_error", message, code)
        intent = self._intent(
            amount=form["amount"],
            currency=form["currency"],
            metadata=form.get("metadata", {}),
            customer=form.get("customer"),
            payment_method=form.get("payment_method"),
        )
        self.owners[intent["id"]] = key or self.secret_key
        return 200, intent


def _error(kind, message, code):
    return {"error": {"type": kind, "message": message, "code": code}}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeStripe

    def log_message(self, *args):
        pass

    def _reply(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _form(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        return nested(parse_qsl(raw, keep_blank_values=True))

    def _key(self):
        auth = self.headers.get("Authorization") or ""
        return auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""

    def _authorized(self):
        key = self._key()
        return key == self.fake.secret_key or key in self.fake.accounts

    def _record(self, form):
        self.fake.requests.append(
            {
                "method": self.command,
                "path": urlparse(self.path).path,
                "form": form,
                "idempotency_key": self.headers.get("Idempotency-Key"),
                "secret_key": self._key(),
            }
        )

    def do_GET(self):  # noqa: N802
        path = urlparse(self.path).path
        match = re.fullmatch(r"/pay/([\w]+)", path)
        if match:
            return self._hosted_page(match.group(1))
        if not self._authorized():
            return self._reply(401, _error("invalid_request_error", "Invalid API Key", ""))
        self._record({})
        for pattern, store in (
            (r"/v1/checkout/sessions/([\w]+)", self.fake.sessions),
            (r"/v1/payment_intents/([\w]+)", self.fake.payment_intents),
            (r"/v1/payment_methods/([\w]+)", self.fake.payment_methods),
            (r"/v1/customers/([\w]+)", self.fake.customers),
            (r"/v1/refunds/([\w]+)", self.fake.refunds),
        ):
            match = re.fullmatch(pattern, path)
            if match:
                obj = store.get(match.group(1))
                owner = self.fake.owners.get(match.group(1))
                if obj is None or owner not in (None, self._key()):
                    return self._reply(
                        404, _error("invalid_request_error", "No such object", "resource_missing")
                    )
                return self._reply(200, obj)
        return self._reply(404, _error("invalid_request_error", "Unknown path", ""))

    def do_POST(self):  # noqa: N802
        path = urlparse(self.path).path
        form = self._form()
        match = re.fullmatch(r"/pay/([\w]+)", path)
        if match:
            return self._hosted_action(match.group(1), form)
        if not self._authorized():
            return self._reply(401, _error("invalid_request_error", "Invalid API Key", ""))
        self._record(form)
        fake = self.fake
        with fake._lock:
            if path == "/v1/checkout/sessions":
                return self._reply(200, fake.create_session(form, self._key()))
            if path == "/v1/refunds":
                if fake.owners.get(form.get("payment_intent")) not in (None, self._key()):
                    return self._reply(
                        404, _error("invalid_request_error", "No such payment_intent", "")
                    )
                key = self.headers.get("Idempotency-Key")
                return self._reply(*fake.create_refund(form, key))
            if path == "/v1/payment_intents":
                return self._reply(*fake.create_intent(form, self._key()))
            if path == "/v1/customers":
                return self._reply(200, fake._customer(form.get("email")))
            match = re.fullmatch(r"/v1/payment_methods/([\w]+)/detach", path)
            if match and match.group(1) in fake.payment_methods:
                method = fake.payment_methods[match.group(1)]
                method["customer"] = None
                return self._reply(200, method)
            match = re.fullmatch(r"/v1/checkout/sessions/([\w]+)/expire", path)
            if match and match.group(1) in fake.sessions:
                session = fake.sessions[match.group(1)]
                if session["status"] == "open":
                    session["status"] = "expired"
                return self._reply(200, session)
        return self._reply(404, _error("invalid_request_error", "Unknown path", ""))

    def _hosted_page(self, session_id):
        session = self.fake.sessions.get(session_id)
        if session is None:
            return self._reply(404, b"No such session", "text/plain")
        amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
        html = f"""<!doctype html><html><head><title>Fake Stripe Checkout</title></head>
<body><h1>Pay {amount}</h1><p id="status">{session["status"]}</p>
<form method="post"><input name="card" value="4242 4242 4242 4242" aria-label="Card number">
<button name="action" value="pay" id="pay">Pay {amount}</button>
<button name="action" value="cancel" id="cancel">Back</button></form></body></html>"""
        return self._reply(200, html.encode(), "text/html; charset=utf-8")

    def _hosted_action(self, session_id, form):
        session = self.fake.sessions.get(session_id)
        if session is None:
            return self._reply(404, b"No such session", "text/plain")
        if form.get("action") == "pay":
            self.fake.pay(session_id)
            target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
        else:
            target = session["cancel_url"]
        self.send_response(303)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()
