"""Two beat processes at once over an hour of simulated schedule: nothing is done twice.

Both beats run the portal's real schedule (didportal/celery.py) under ``faketime -f "+0
x60"``: an hour of ticks in a minute, each tick sent by both, so every periodic job runs
twice at once, about sixty times for the minutely ones — on two workers of two processes
each, in real time. The data gives each job work during that hour:
- renewals: 200 daily subscriptions whose next period starts at moments spread over the run
  (so each ten-minute tick of both beats finds some due); some accounts cannot pay (held,
  "renewal failed" and low-balance e-mails), some resellers cannot pay their customers'
  wholesale side (reseller-unpaid holds, one notice per run);
- the daily invoice (:30): yesterday's charges of every account, not invoiced yet;
- the outbox flush (every minute): e-mails whose enqueue was lost (queued, never handed over);
- release of expired holds (:15) and the end of subscriptions whose number went (:20).
E-mails go to files (Django's file backend), so a message sent twice is seen.

``double_beat_duplicates`` = duplicate charges (a period charged twice or before it started,
a renewal debit without its charge, a balance not matching its ledger) + duplicate invoices
(a charge billed twice; more than one daily invoice for an account's day and VAT regime) +
duplicate e-mails (one message sent twice; two messages with the same recipients, subject
and body) + duplicate webhooks (a delivery received twice by a receiver on loopback: every
account hears of its numbers' renewals).
"""

import random
import shutil
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

SIMULATED_MINUTES = 60
SPEED = 60
WORKERS = ("worker1", "worker2")
BEATS = ("beat1", "beat2")


def seed(now, spread_s):
    """The accounts, subscriptions and e-mails the hour's jobs find; returns counts."""
    import time_machine

    from accounts.models import Account
    from billing.services.subscriptions import subscription_start
    from inventory.choices import DIDStatus
    from inventory.models import DID
    from outbox.models import OutgoingEmail
    from tests.billing.factories import fund
    from tests.factories import AccountFactory, UserFactory, platform
    from tests.inventory.factories import NumberBlockFactory

    rng = random.Random(60)
    platform()
    block = NumberBlockFactory()
    rich_reseller = AccountFactory(kind=Account.Kind.RESELLER, name="Paying reseller", country="US")
    poor_reseller = AccountFactory(kind=Account.Kind.RESELLER, name="Short reseller", country="US")
    for reseller in (rich_reseller, poor_reseller):
        UserFactory(account=reseller, role="reseller_admin")
    fund(rich_reseller, "100000.00")
    plans = []  # (account, reseller, funds, price): five subscriptions each
    for i in range(40):
        if i < 30:
            plans.append((f"Paying {i}", None, "1000.00", "1.00"))
        elif i < 34:
            plans.append((f"Short {i}", None, "25.00", "5.00"))  # pays the first periods only
        elif i < 37:
            plans.append((f"Resold {i}", rich_reseller, "1000.00", "5.00"))
        else:
            plans.append((f"Resold short {i}", poor_reseller, "1000.00", "5.00"))
    # The short reseller pays its customers' first periods, not their renewals.
    fund(poor_reseller, str(Decimal("4.00") * 5 * 3))
    serial = 0
    for name, reseller, funds, price in plans:
        account = AccountFactory(name=name, parent=reseller or platform(), country="US")
        UserFactory(account=account, role="customer_admin")
        fund(account, funds)
        dids = DID.objects.bulk_create(
            DID(
                number=f"+3121{serial + k:07d}",
                block=block,
                status=DIDStatus.ACTIVE,
                ever_sold=True,
                owner=account,
            )
            for k in range(5)
        )
        serial += 5
        for did in dids:
            # Started yesterday (its first charge is on the daily invoice), its next period
            # starts somewhere in the run.
            started = now - timedelta(days=1) + timedelta(seconds=rng.uniform(0, spread_s))
            resold = {"wholesale_recurring_price": Decimal("4.00")} if reseller else {}
            with time_machine.travel(started, tick=False):  # bought then: charged yesterday
                subscription_start(
                    account=account,
                    did=did,
                    billing_type="recurring",
                    period_unit="day",
                    recurring_price=Decimal(price),
                    idempotency_key=f"faults:beat:{did.pk}",
                    job="faults",
                    now=started,
                    **resold,
                )
    # E-mails whose enqueue was lost (Redis down at their commit): only the flush sends them.
    OutgoingEmail.objects.bulk_create(
        OutgoingEmail(
            to=[f"lost{i}@example.test"],
            subject=f"Queued while the broker was down #{i}",
            text=f"Body {i}",
            next_attempt_at=now - timedelta(minutes=1),
        )
        for i in range(100)
    )


class Receiver:
    """A webhook receiver on loopback counting each delivery (by its X-Didportal-Delivery id)."""

    def __init__(self):
        import http.server
        import threading

        received = self.received = Counter()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received[self.headers.get("X-Didportal-Delivery")] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def endpoints_create(url):
    """Every paying account (and reseller) hears of its numbers' renewals."""
    from django.test import override_settings

    from accounts.models import User
    from webhooks.services import endpoint_create

    with override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=True):
        for user in User.objects.filter(role__in=["customer_admin", "reseller_admin"]):
            endpoint_create(actor=user, account=user.account, url=url, events=["number.renewed"])


def count(mail_dir, receiver):
    from django.db.models import F

    from billing.models import Invoice, InvoiceLine, LedgerEntry, SubscriptionCharge
    from billing.selectors import balance_mismatches
    from outbox.models import OutgoingEmail
    from webhooks.models import Delivery

    charges = SubscriptionCharge.objects.all()
    renewal_debits = LedgerEntry.objects.filter(kind="charge", created_by_job="renew_subscriptions")
    duplicate_charges = (
        _excess(charges.values("subscription", "side", "period_index"))
        + charges.filter(period_start__gt=F("created_at")).count()
        + renewal_debits.filter(subscription_charge__isnull=True).count()
        + len(list(balance_mismatches()))
    )
    lines = InvoiceLine.objects.filter(subscription_charge__isnull=False)
    daily = Invoice.objects.filter(source=Invoice.Source.DAILY)
    duplicate_invoices = _excess(lines.values("subscription_charge")) + _excess(
        daily.values(
            "account", "reference_type", "reference_id", "reverse_charge", "buyer_vat_number"
        )
    )
    sent = Counter()
    for path in Path(mail_dir).glob("*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("Message-ID: "):
                sent[line.removeprefix("Message-ID: ").strip()] += 1
    duplicate_emails = sum(n - 1 for n in sent.values() if n > 1) + _excess(
        OutgoingEmail.objects.values("to", "subject", "text")
    )
    figures = {
        "charges": duplicate_charges,
        "invoices": duplicate_invoices,
        "emails": duplicate_emails,
        "webhooks": sum(n - 1 for n in receiver.received.values() if n > 1),
    }
    made = {
        "renewal charges": renewal_debits.count(),
        "daily invoices": daily.count(),
        "e-mails sent": sum(sent.values()),
        "e-mails queued": OutgoingEmail.objects.filter(status="queued").count(),
        "webhooks received": sum(receiver.received.values()),
        "webhooks pending": Delivery.objects.filter(status="pending").count(),
    }
    return figures, made


def _excess(values):
    """Rows beyond the first in each group of equal ``values``."""
    from django.db.models import Count

    groups = values.annotate(n=Count("pk")).filter(n__gt=1).values_list("n", flat=True)
    return sum(n - 1 for n in groups)


def run(stack):
    from django.utils import timezone

    if shutil.which("faketime") is None:
        raise RuntimeError("fault_double_beat needs faketime (Debian package faketime)")
    mail_dir = stack.workdir / "mail"
    shutil.rmtree(mail_dir, ignore_errors=True)
    mail_dir.mkdir()
    stack.database_reset()
    real_seconds = SIMULATED_MINUTES * 60 / SPEED
    started = time.monotonic()
    seed(timezone.now(), spread_s=real_seconds + 90)  # seeding and starting take ~1 min
    receiver = Receiver()
    endpoints_create(receiver.url)
    seeded = time.monotonic() - started
    env = {"EMAIL_URL": f"filemail:///{mail_dir}", "WEBHOOK_ALLOW_PRIVATE_URLS": "True"}
    for name in WORKERS:
        stack.worker_start(name, concurrency=2, wait=False, **env)
    for name in WORKERS:
        stack.worker_wait_ready(name)
    for name in BEATS:
        stack.beat_start(name, prefix=("faketime", "-f", f"+0 x{SPEED}"), **env)
    # The simulated hour runs from the moment both beats are up (starting takes seconds).
    for name in BEATS:
        stack._wait(lambda name=name: "beat: Starting" in stack.log(name), name, 60)
    time.sleep(real_seconds)
    for name in BEATS:
        stack.stop(name)
    sent = Counter()
    for name in BEATS:
        for line in stack.log(name).splitlines():
            if "Sending due task" in line:
                sent[name] += 1
    stack.wait_tasks_done(WORKERS, timeout=180)
    figures, made = count(mail_dir, receiver)
    receiver.close()
    detail = (
        f"{SIMULATED_MINUTES} simulated minutes under faketime x{SPEED}, beats sent"
        f" {dict(sent)} tasks to two workers; duplicates: {figures}; made: {made};"
        f" seeded in {seeded:.0f} s"
    )
    return {
        "double_beat_duplicates": {
            "value": sum(figures.values()),
            "unit": "count",
            "detail": detail,
            "expected": 0,
        }
    }
