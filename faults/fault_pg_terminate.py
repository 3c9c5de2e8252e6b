"""PostgreSQL connections terminated (``pg_terminate_backend``) at random moments,
mid-checkout and mid-renewal.

Signed-in customers buy numbers through gunicorn's real pages (sign-in, add to cart,
checkout, CSRF and all) while a Celery worker runs renewal batches over hundreds of due
subscriptions. A terminator kills the stack's connections at random: a busy web
connection (mid-request, mostly mid-checkout), the worker's (mid-renewal), or every one
of the stack's. Each process names its connections (libpq's ``PGAPPNAME``), so the
orchestrator's own are never touched.

A terminated connection mid-request may fairly answer an error page; it must never leave a
half-done write. Afterwards the books are checked (``pg_terminate_half_done_orders``):
orders left pending or with totals their items don't add up to, completed items without
their number, subscription or charge, debits no charge explains, subscriptions missing a
period's charge (either side), numbers sold without an order line, cached balances or
running balances that disagree with the ledger. Then recovery: every buyer's retry of a
request that got an error ends in an answer (``pg_terminate_failed_retries``), and the
next renewal run renews what the faulted runs missed, to the exact charge the seeded
balances pay for (``pg_terminate_missed_renewals``).
"""

import random
import re
import threading
import time
from datetime import timedelta
from decimal import Decimal

SEED = 15
BUYERS = 10
STOCK = 500  # numbers on sale to the buyers
FAULT_SECONDS = 50
RENEWAL_ACCOUNTS = 18  # direct customers, each with SUBS_PER_ACCOUNT daily rentals
RESOLD_ACCOUNTS = 4  # a reseller's customers, same
SUBS_PER_ACCOUNT = 20
SHORT_EVERY = 6  # every 6th renewal account can pay only part of its renewals
PERIODS_DUE = 3  # each rental started 3 days and an hour ago: periods 1, 2, 3 are due
PRICE = Decimal("1.00")
WHOLESALE = Decimal("0.60")
PASSWORD = "faults-pg-terminate-password-1"  # noqa: S105 (a throwaway stack's users)
WEB_APP, WORKER_APP = "faults-web", "faults-worker"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOKEN_FIELD = re.compile(r'name="token" value="([^"]+)"')


# --- seeding -----------------------------------------------------------------------------------


def _seed():
    """Buyers with money and a block of stock; renewal accounts with daily rentals whose
    periods 1–3 are due now. Returns what the checks need."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Account, User
    from billing.services import ledger_post
    from billing.services.subscriptions import subscription_start
    from inventory.choices import DIDStatus
    from inventory.models import DID, NumberBlock, Operator
    from inventory.services import did_transition
    from inventory.services.console import dids_add

    platform, _ = Account.objects.get_or_create(
        kind=Account.Kind.PLATFORM,
        defaults={"name": "Faults Carrier", "legal_name": "Faults Carrier B.V.", "country": "NL"},
    )
    admin = User.objects.create_user(
        email="admin@faults.test", account=platform, role="platform_admin"
    )
    password = make_password(PASSWORD)  # hashed once (Argon2): every buyer signs in with it
    operator = Operator.objects.create(name="Faults Range")
    block = NumberBlock.objects.create(
        operator=operator,
        country="NL",
        region="North Holland",
        city="Amsterdam",
        area_code="20",
        number_type="local",
        setup_fee=Decimal("1.00"),
        monthly_price=Decimal("2.00"),
        rate_per_minute=Decimal("0.00600"),
        buy_monthly_cost=Decimal("0.80"),
    )
    dids_add(block=block, spec_text=f"5550000-{5550000 + STOCK - 1}", actor=admin)
    rented = NumberBlock.objects.create(
        operator=operator,
        country="NL",
        region="South Holland",
        city="Rotterdam",
        area_code="10",
        number_type="local",
        monthly_price=Decimal("2.00"),
        rate_per_minute=Decimal("0.00600"),
        buy_monthly_cost=Decimal("0.80"),
    )

    def fund(account, amount, n):
        ledger_post(
            account=account,
            kind="topup",
            amount=Decimal(amount),
            idempotency_key=f"faults-topup:{account.pk}:{n}",
            job="faults",
            method="bank_transfer",
            external_reference=f"faults-{account.pk}-{n}",
        )

    buyers = []
    for n in range(BUYERS):
        account = Account.objects.create(
            kind=Account.Kind.CUSTOMER,
            parent=platform,
            name=f"Buyer {n}",
            legal_name=f"Buyer {n} Ltd",
            country="US",
        )
        user = User.objects.create_user(
            email=f"buyer{n}@faults.test", account=account, role="customer_admin"
        )
        user.password = password
        user.save(update_fields=["password"])
        fund(account, "5000.00", 0)
        buyers.append(user.email)

    reseller = Account.objects.create(
        kind=Account.Kind.RESELLER,
        parent=platform,
        name="Faults Reseller",
        legal_name="Faults Reseller B.V.",
        country="US",
        signup_code="faults-reseller",
    )
    fund(reseller, "10000.00", 0)
    started = timezone.now() - timedelta(days=PERIODS_DUE, hours=1)
    expected_renewals = 0
    number = 0
    for n in range(RENEWAL_ACCOUNTS + RESOLD_ACCOUNTS):
        account = Account.objects.create(
            kind=Account.Kind.CUSTOMER,
            parent=reseller if n >= RENEWAL_ACCOUNTS else platform,
            name=f"Renter {n}",
            legal_name=f"Renter {n} Ltd",
            country="US",
        )
        User.objects.create_user(
            email=f"renter{n}@faults.test", account=account, role="customer_admin"
        )
        # The starts cost one period each; then enough for every due period, or for only
        # some (the rest go on hold: what the books must show whatever the faults did).
        paid = SUBS_PER_ACCOUNT * PERIODS_DUE
        if n % SHORT_EVERY == SHORT_EVERY - 1:
            paid = SUBS_PER_ACCOUNT + n % 5
        expected_renewals += paid
        fund(account, PRICE * (SUBS_PER_ACCOUNT + paid) + Decimal("0.50"), 0)
        for _ in range(SUBS_PER_ACCOUNT):
            with transaction.atomic():
                did = DID.objects.create(number=f"+3110{7000000 + number}", block=rented)
                number += 1
                did = did_transition(
                    did=did, to_status=DIDStatus.ACTIVE, owner=account, job="faults", reason="seed"
                )
                subscription_start(
                    account=account,
                    did=did,
                    billing_type="recurring",
                    period_unit="day",
                    recurring_price=PRICE,
                    wholesale_recurring_price=WHOLESALE
                    if account.parent_id == reseller.pk
                    else None,
                    idempotency_key=f"faults-rental:{did.pk}",
                    job="faults",
                    now=started,
                )
    return {"buyers": buyers, "block": block.pk, "expected_renewals": expected_renewals}


# --- the buyers ------------------------------------------------------------------------------


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}

    def add(self, name, n=1):
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + n

    def __getitem__(self, name):
        return self.counts.get(name, 0)


class Buyer:
    """One signed-in customer buying "any 1–3 numbers" again and again through the pages.
    A request answered with an error (500, or the connection cut) is retried as the
    person would: the same form again, the same checkout token."""

    RETRIES = 8

    def __init__(self, base_url, email, block, tally, rng):
        import requests

        self.base, self.email, self.block, self.tally, self.rng = base_url, email, block, tally, rng
        self.http = requests.Session()

    def _csrf(self):
        return self.http.cookies.get("csrftoken", "")

    def request(self, method, path, data=None, what=""):
        """The answer to a request, retried while it is an error; None if every try erred."""
        import requests

        for attempt in range(self.RETRIES):
            try:
                answer = self.http.request(
                    method,
                    self.base + path,
                    data=data,
                    allow_redirects=False,
                    timeout=60,
                    headers={"Referer": self.base + path},
                )
            except requests.RequestException:
                self.tally.add("connection_errors")
                answer = None
            else:
                if answer.status_code < 500:
                    if attempt:
                        self.tally.add("retried_ok")
                        self.tally.add(f"retried_ok_{what}")
                    return answer
                self.tally.add("http_500s")
                self.tally.add(f"http_500s_{what}")
            time.sleep(0.2 * (attempt + 1))
        self.tally.add("retries_failed")
        return None

    def sign_in(self):
        page = self.request("GET", "/accounts/login/", what="sign_in")
        csrf = CSRF_FIELD.search(page.text).group(1)
        answer = self.request(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": csrf, "username": self.email, "password": PASSWORD},
            what="sign_in",
        )
        if answer is None or answer.status_code != 302:
            raise RuntimeError(f"{self.email} could not sign in: {answer and answer.status_code}")

    def buy_once(self):
        """Add any 1–3 numbers, then check out. Returns False when stock ran out."""
        quantity = self.rng.randint(1, 3)
        added = self.request(
            "POST",
            "/cart/add/",
            {
                "csrfmiddlewaretoken": self._csrf(),
                "action": "any",
                "block": self.block,
                "quantity": quantity,
                "next": "/numbers/",
            },
            what="add",
        )
        if added is None:
            return True
        page = self.request("GET", "/cart/checkout/", what="checkout_page")
        if page is None:
            return True
        if page.status_code == 302:  # an empty cart: nothing left to add
            self.tally.add("empty_cart")
            return "login" not in page.headers.get("Location", "") and self.tally["empty_cart"] < 50
        token = TOKEN_FIELD.search(page.text)
        csrf = CSRF_FIELD.search(page.text)
        if not (token and csrf):
            self.tally.add("checkout_page_unexpected")
            return True
        form = {"csrfmiddlewaretoken": csrf.group(1), "token": token.group(1)}
        placed = self.request("POST", "/cart/checkout/", form, what="checkout")
        if placed is None:
            return True
        if placed.status_code == 302 and "/complete/" in placed.headers.get("Location", ""):
            self.tally.add("orders")
            # The same form again (a double click after an error page): the same order.
            again = self.request("POST", "/cart/checkout/", form, what="checkout")
            if again is not None and again.headers.get("Location") != placed.headers["Location"]:
                self.tally.add("token_replay_other_order")
            return True
        self.tally.add(f"checkout_answered_{placed.status_code}")
        return placed.status_code != 200 or "Only 0 of" not in placed.text

    def run(self, until):
        while time.monotonic() < until and self.buy_once():
            pass


# --- the terminator ----------------------------------------------------------------------------


class Terminator:
    """Kills the stack's connections at random moments until stopped."""

    def __init__(self, stack, rng, tally):
        self.stack, self.rng, self.tally = stack, rng, tally
        self.stop = threading.Event()
        self.renewing = threading.Event()

    def kill(self, where, name, limit=1000):
        """Terminate the stack's connections matching ``where`` (at most ``limit``, picked
        at random); counts them, and those caught inside a transaction of several
        statements (a checkout, a renewal batch), not between two."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT application_name,"
                " xact_start < query_start OR state LIKE 'idle in transaction%%',"
                " pg_terminate_backend(pid)"
                " FROM (SELECT * FROM pg_stat_activity WHERE datname = %s"
                " AND pid <> pg_backend_pid() AND application_name IN (%s, %s)"
                f" AND ({where}) ORDER BY random() LIMIT %s) AS chosen",
                [self.stack.db_name, WEB_APP, WORKER_APP, limit],
            )
            rows = cursor.fetchall()
        for app, in_transaction, killed in rows:
            if killed:
                side = "web" if app == WEB_APP else "worker"
                self.tally.add(f"killed_{side}")
                if in_transaction:
                    self.tally.add(f"killed_{side}_mid_transaction")
                    if side == "worker" and self.renewing.is_set():
                        self.tally.add("killed_mid_renewal")
        self.tally.add(f"rounds_{name}")

    def run(self):
        from django.db import connection

        try:
            while not self.stop.wait(self.rng.uniform(0.3, 1.8)):
                roll = self.rng.random()
                if self.renewing.is_set() and roll < 0.15:
                    self.kill(f"application_name = '{WORKER_APP}' AND state <> 'idle'", "worker")
                elif roll < 0.93:  # one request's connection, mid-statement or mid-transaction
                    self.kill(f"application_name = '{WEB_APP}' AND state <> 'idle'", "web", 1)
                else:  # every connection of the stack, busy or idle
                    self.kill("TRUE", "all")
        finally:
            connection.close()


# --- the checks ------------------------------------------------------------------------------


HALF_DONE_SQL = {
    # An order is written in one transaction: pending means it stopped half way.
    "orders_pending": "SELECT count(*) FROM cart_order WHERE status = 'pending'",
    "order_totals_off": """
        SELECT count(*) FROM cart_order o
        WHERE o.gross <> (SELECT coalesce(sum(gross), 0) FROM cart_orderitem i
                          WHERE i.order_id = o.id)""",
    # A completed line: its number held by the buyer, a subscription, the first charge.
    "items_unbacked": """
        SELECT count(*) FROM cart_orderitem i
        JOIN cart_order o ON o.id = i.order_id
        LEFT JOIN billing_subscription s ON s.id = i.subscription_id
        LEFT JOIN inventory_did d ON d.id = i.did_id
        WHERE i.status = 'completed' AND (
            s.id IS NULL OR s.account_id <> o.account_id OR d.owner_id IS DISTINCT FROM o.account_id
            OR NOT EXISTS (SELECT 1 FROM billing_subscriptioncharge c
                           WHERE c.subscription_id = s.id AND c.period_index = 0
                           AND c.side = 'sale' AND c.amount = i.gross))""",
    # Every debit is some subscription period's charge.
    "charges_without_subscription": """
        SELECT count(*) FROM billing_ledgerentry e
        WHERE e.kind = 'charge' AND NOT EXISTS (
            SELECT 1 FROM billing_subscriptioncharge c WHERE c.ledger_entry_id = e.id)""",
    # Every period up to the current one charged once, on both sides of a resold one.
    "subscriptions_without_charge": """
        SELECT count(*) FROM billing_subscription s
        WHERE (SELECT count(*) FROM billing_subscriptioncharge c
               WHERE c.subscription_id = s.id AND c.side = 'sale'
               AND c.period_index <= s.current_period_index) <> s.current_period_index + 1
           OR (s.reseller_id IS NOT NULL AND
               (SELECT count(*) FROM billing_subscriptioncharge c
                WHERE c.subscription_id = s.id AND c.side = 'wholesale'
                AND c.period_index <= s.current_period_index) <> s.current_period_index + 1)""",
    "subscriptions_not_from_an_order": """
        SELECT count(*) FROM billing_subscription s
        JOIN inventory_did d ON d.id = s.did_id
        WHERE d.block_id = %(block)s
          AND NOT EXISTS (SELECT 1 FROM cart_orderitem i WHERE i.subscription_id = s.id)""",
    # A number of the buyers' block out of stock is one a completed order line sold.
    "numbers_sold_without_order_line": """
        SELECT count(*) FROM inventory_did d
        WHERE d.block_id = %(block)s AND (d.owner_id IS NOT NULL OR d.status <> 'in_stock')
          AND NOT EXISTS (
              SELECT 1 FROM cart_orderitem i JOIN cart_order o ON o.id = i.order_id
              WHERE i.did_id = d.id AND i.status = 'completed' AND o.account_id = d.owner_id)""",
    # Each entry's balance_after is the running sum of its account's ledger.
    "running_balances_off": """
        SELECT count(*) FROM (
            SELECT balance_after,
                   sum(amount) OVER (PARTITION BY account_id ORDER BY id) AS running
            FROM billing_ledgerentry) e
        WHERE e.balance_after <> e.running""",
}


def _half_done(block):
    from django.db import connection

    from billing.selectors import balance_mismatches

    found = {}
    with connection.cursor() as cursor:
        for name, sql in HALF_DONE_SQL.items():
            cursor.execute(sql, {"block": block})
            found[name] = cursor.fetchone()[0]
    found["balance_mismatches"] = balance_mismatches().count()
    return found


def _renewal_state():
    from django.utils import timezone

    from billing.models import Subscription, SubscriptionCharge

    rentals = Subscription.objects.filter(did__block__city="Rotterdam")
    return {
        "due": rentals.filter(status="active", next_renewal_at__lte=timezone.now()).count(),
        "renewal_charges": SubscriptionCharge.objects.filter(
            subscription__in=rentals, side="sale", period_index__gte=1
        ).count(),
        "wholesale_renewal_charges": SubscriptionCharge.objects.filter(
            subscription__in=rentals, side="wholesale", period_index__gte=1
        ).count(),
        "held": rentals.filter(status="hold").count(),
    }


# --- the scenario ----------------------------------------------------------------------------


def run(stack):
    from django.db import connections

    from billing.tasks import renew_subscriptions

    rng = random.Random(SEED)
    started = time.monotonic()
    seeded = _seed()
    seed_s = time.monotonic() - started
    print(f"  seeded in {seed_s:.0f} s", flush=True)
    connections.close_all()
    stack.web_start(workers=4, PGAPPNAME=WEB_APP)
    stack.worker_start("worker1", concurrency=2, PGAPPNAME=WORKER_APP)

    tally = Tally()
    buyers = [
        Buyer(stack.base_url, email, seeded["block"], tally, random.Random(SEED + n))
        for n, email in enumerate(seeded["buyers"])
    ]
    for buyer in buyers:
        buyer.sign_in()  # before the faults, at a person's pace: axes sees only successes

    terminator = Terminator(stack, rng, tally)
    until = time.monotonic() + FAULT_SECONDS
    threads = [threading.Thread(target=b.run, args=(until,), daemon=True) for b in buyers]
    threads.append(threading.Thread(target=terminator.run, daemon=True))
    for thread in threads:
        thread.start()

    # Renewal runs under the faults, as beat would enqueue them, one after the other.
    faulted_runs = 0
    time.sleep(3)
    while time.monotonic() < until - 8 and faulted_runs < 3:
        renew_subscriptions.delay()
        faulted_runs += 1
        terminator.renewing.set()
        stack.wait_queue_idle(timeout=120, settle=0.5)
        terminator.renewing.clear()
        time.sleep(rng.uniform(1, 3))
    for thread in threads[:-1]:
        thread.join(timeout=FAULT_SECONDS + 120)
    terminator.stop.set()
    threads[-1].join(timeout=10)
    stack.wait_queue_idle(timeout=120)
    connections.close_all()

    after_faults = _renewal_state()
    # Recovery: the next renewal run, with nobody killing anything.
    renew_subscriptions.delay()
    stack.wait_queue_idle(timeout=180)
    recovered = _renewal_state()
    half_done = _half_done(seeded["block"])
    # The follow-ups a killed task dropped: the periodic safety nets pick them up.
    from billing.models import Invoice
    from billing.tasks import render_missing_invoice_pdfs
    from outbox.models import OutgoingEmail
    from outbox.tasks import flush_outbox

    pdfs_missing_before = Invoice.objects.filter(pdf_path="").count()
    render_missing_invoice_pdfs.delay()
    flush_outbox.delay()
    stack.wait_queue_idle(timeout=180)
    lost = {
        "invoice PDFs missing": Invoice.objects.filter(pdf_path="").count(),
        "e-mails unsent": OutgoingEmail.objects.exclude(status="sent").count(),
    }

    from cart.models_orders import Order

    orders = Order.objects.count()
    worker_log = stack.log("worker1")
    renewal_retries = len(re.findall(r"renew_subscriptions\[[^]]+\] retry:", worker_log))
    worker_failures = worker_log.count("raised unexpected")
    expected = seeded["expected_renewals"]
    missed = (
        recovered["due"]
        + abs(recovered["renewal_charges"] - expected)
        + abs(recovered["wholesale_renewal_charges"] - RESOLD_ACCOUNTS * SUBS_PER_ACCOUNT * 3)
    )
    killed = (
        f"{tally['killed_web']} web connections killed ({tally['killed_web_mid_transaction']} "
        f"mid-transaction), {tally['killed_worker']} worker connections "
        f"({tally['killed_mid_renewal']} mid-transaction during a renewal run), "
        f"{tally['rounds_all']} rounds killing every connection, over {FAULT_SECONDS} s"
    )
    return {
        "pg_terminate_half_done_orders": {
            "value": sum(half_done.values()),
            "unit": "count",
            "expected": 0,
            "detail": (
                f"{killed}; {orders} orders placed by {BUYERS} signed-in buyers through "
                f"gunicorn; {', '.join(f'{k} {v}' for k, v in half_done.items())}; "
                f"HTTP 500s during terminations: {tally['http_500s']} "
                f"(add {tally['http_500s_add']}, checkout page "
                f"{tally['http_500s_checkout_page']}, checkout {tally['http_500s_checkout']}), "
                f"connection errors {tally['connection_errors']}; seeded in {seed_s:.0f} s"
            ),
        },
        "pg_terminate_failed_retries": {
            "value": tally["retries_failed"] + tally["token_replay_other_order"],
            "unit": "count",
            "expected": 0,
            "detail": (
                f"requests answered after an error when retried: {tally['retried_ok']} "
                f"(checkout {tally['retried_ok_checkout']}); retries that never got an "
                f"answer: {tally['retries_failed']}; a checkout form posted again that found "
                f"another order: {tally['token_replay_other_order']}"
            ),
        },
        "pg_terminate_missed_renewals": {
            "value": missed,
            "unit": "count",
            "expected": 0,
            "detail": (
                f"{faulted_runs} renewal run(s) under the faults, each tried again on a lost "
                f"connection, left {after_faults['due']} "
                f"rentals due ({after_faults['renewal_charges']} of {expected} renewal charges "
                f"made); the next run: {recovered['due']} due, "
                f"{recovered['renewal_charges']} of {expected} charges, "
                f"{recovered['wholesale_renewal_charges']} wholesale, {recovered['held']} on "
                f"hold for short balances; renewal runs retried after a lost connection: "
                f"{renewal_retries}; worker tasks failed (any): {worker_failures}"
            ),
        },
        "pg_terminate_lost_followups": {
            "value": sum(lost.values()),
            "unit": "count",
            "expected": 0,
            "detail": (
                f"after the safety-net tasks (render_missing_invoice_pdfs, flush_outbox): "
                f"{', '.join(f'{k} {v}' for k, v in lost.items())}; invoice PDFs the faults "
                f"had left missing before them: {pdfs_missing_before}"
            ),
        },
        "pg_terminate_http_500s": {
            "value": tally["http_500s"],
            "unit": "count",
            "detail": "error pages answered while connections were being terminated "
            "(fair for a request whose connection died; each was retried)",
        },
    }
