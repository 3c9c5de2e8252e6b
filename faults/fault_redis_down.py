"""Redis killed (SIGKILL, no save) for 60 s while customers buy through the real pages, then
started again empty; later a FLUSHALL while they still buy.

Buyers sign in on the platform's host and on a reseller's brand host (whose registry is
cached in Redis), search, add a number (a specific one, or "any 1 from this area"), check
out with the page's CSRF token and checkout token, and open their order. Two Celery
workers and beat run throughout. Afterwards every order's follow-ups must arrive: its
confirmation e-mail sent, its invoice PDF rendered, its webhook delivered to the receiver
— counted in the database (and the receiver) once the periodic jobs have caught up.

Figures: ``redis_down_http_500s`` (error pages or no answer, the whole run),
``redis_down_lost_followups`` (e-mails, PDFs and webhooks missing at the end, the FLUSHALL
included), ``redis_down_requests_over_broker_timeout`` (requests during the outage slower
than one broker connect plus socket timeout), and ``redis_down_longest_request_ms``.
"""

import random
import threading
import time

from faults.shop import Buyer, Receiver, percentile, shop_seed

BUYERS = 8
NUMBERS = 3000
BEFORE_S = 15
DOWN_S = 60
BEFORE_FLUSH_S = 10
AFTER_FLUSH_S = 10
# The wait ends as soon as everything is there. Its bound covers rendering every order's
# invoice PDF on an idle machine (800+ orders) and a webhook whose queued message the FLUSHALL
# took: the sweep sends it again after webhooks.services.SWEEP_AGAIN_AFTER (5 min).
CATCH_UP_TIMEOUT_S = 420
THINK_S = 0.5


def _followups_missing(receiver):
    """What is still missing of every order's follow-ups: {kind: count}, and details."""
    from billing.models import Invoice
    from cart.models_orders import Order
    from outbox.models import OutgoingEmail
    from webhooks.models import Delivery

    orders = list(Order.objects.values_list("pk", "invoice_id"))
    sent = set(
        OutgoingEmail.objects.filter(
            key__startswith="order-confirmation:", status="sent"
        ).values_list("key", flat=True)
    )
    emails = sum(1 for pk, _ in orders if f"order-confirmation:{pk}" not in sent)
    invoice_ids = [invoice for _, invoice in orders if invoice]
    pdfs = Invoice.objects.filter(pk__in=invoice_ids, pdf_path="").count()
    deliveries = list(Delivery.objects.filter(kind="event").values_list("uuid", "status"))
    undelivered = sum(1 for _, status in deliveries if status != "delivered")
    unreceived = sum(
        1
        for uuid, status in deliveries
        if status == "delivered" and str(uuid) not in receiver.received
    )
    without_delivery = len(orders) - len(deliveries)  # one endpoint per buyer account
    return {
        "emails": emails,
        "pdfs": pdfs,
        "webhooks": undelivered + unreceived + max(without_delivery, 0),
    }, {"orders": len(orders), "invoices": len(invoice_ids), "deliveries": len(deliveries)}


def run(stack):
    from django.conf import settings

    from billing.tasks import render_missing_invoice_pdfs

    stack.database_reset()
    stack.redis_flushall()
    env = {"WEBHOOK_ALLOW_PRIVATE_URLS": "True"}
    with Receiver() as receiver:
        shop = shop_seed(numbers=NUMBERS, buyers=BUYERS, webhook_url=receiver.url)
        stack.web_start(workers=4, **env)
        stack.worker_start("worker1", concurrency=2, **env)
        stack.worker_start("worker2", concurrency=2, **env)
        stack.beat_start("beat1", **env)

        buyers = [Buyer(stack.base_url, email, host) for email, host in shop.buyers]
        signed_in = sum(buyer.sign_in() for buyer in buyers)
        stop = threading.Event()
        outcomes = []

        def shop_until_stopped(index, buyer):
            rng = random.Random(index)
            while not stop.is_set():
                pick = rng.choice if index % 2 else None  # half pick a number, half "any 1"
                outcomes.append(
                    buyer.buy_one(country=shop.country, block_id=shop.block_id, pick=pick)
                )
                stop.wait(THINK_S)

        threads = [
            threading.Thread(target=shop_until_stopped, args=(i, b), daemon=True)
            for i, b in enumerate(buyers)
        ]
        for thread in threads:
            thread.start()
        time.sleep(BEFORE_S)
        down_at = time.monotonic()
        stack.redis_stop()
        time.sleep(DOWN_S)
        stack.redis_start()
        up_at = time.monotonic()
        time.sleep(BEFORE_FLUSH_S)
        stack.redis_flushall()
        time.sleep(AFTER_FLUSH_S)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        load_s = time.monotonic() - down_at + BEFORE_S

        # The periodic jobs catch up: beat sends flush-outbox and sweep-webhooks every
        # minute; the invoice PDFs' job runs every quarter hour, so its next run is sent here.
        render_missing_invoice_pdfs.delay()
        deadline = time.monotonic() + CATCH_UP_TIMEOUT_S
        while True:
            missing, counts = _followups_missing(receiver)
            if not sum(missing.values()) or time.monotonic() > deadline:
                break
            time.sleep(2)
        catch_up_s = CATCH_UP_TIMEOUT_S - max(0, deadline - time.monotonic())
        beat_alive = stack.running("beat1")
        workers_alive = stack.running("worker1") and stack.running("worker2")

    hits = [hit for buyer in buyers for hit in buyer.hits]
    errors = [h for h in hits if h.status >= 500 or h.status == 0]
    during = [h for h in hits if down_at <= h.started <= up_at]
    before = [h for h in hits if h.started < down_at]
    broker = settings.REDIS_BROKER_TIMEOUTS
    budget = broker["socket_connect_timeout"] + broker["socket_timeout"]
    slow = [h for h in during if h.seconds > budget]
    longest = max((h.seconds for h in during), default=0.0)
    kinds = {
        kind: sum(1 for o in outcomes if o.kind == kind)
        for kind in ("bought", "refused", "unclear")
    }
    unclear = sorted({o.detail for o in outcomes if o.kind == "unclear"})
    error_paths = sorted({f"{h.method} {h.path.split('?')[0]} {h.status}" for h in errors})[:5]
    run_detail = (
        f"{signed_in}/{len(buyers)} buyers signed in (half on a reseller's brand host), "
        f"{len(hits)} requests in {load_s:.0f} s, Redis SIGKILLed for {DOWN_S} s then FLUSHALL "
        f"{BEFORE_FLUSH_S} s after it returned; 2 workers and beat; outcomes {kinds}"
        + (f", unclear: {unclear[:3]}" if unclear else "")
    )
    return {
        "redis_down_http_500s": {
            "value": len(errors),
            "unit": "count",
            "detail": f"5xx answers or no answer: {error_paths}; {run_detail}",
            "expected": 0,
        },
        "redis_down_lost_followups": {
            "value": sum(missing.values()),
            "unit": "count",
            "detail": (
                f"missing after {catch_up_s:.0f} s of catch-up: {missing}, of {counts} "
                f"(order e-mails sent, invoice PDFs rendered, order webhooks delivered and "
                f"received); beat alive {beat_alive}, workers alive {workers_alive}; the PDF "
                f"job's next quarter-hour run sent by the scenario"
            ),
            "expected": 0,
        },
        "redis_down_requests_over_broker_timeout": {
            "value": len(slow),
            "unit": "count",
            "detail": (
                f"requests started while Redis was down taking longer than the broker's "
                f"connect + socket timeouts ({budget:.0f} s): {len(slow)} of {len(during)}"
            ),
            "expected": 0,
        },
        "redis_down_longest_request_ms": {
            "value": round(longest * 1000),
            "unit": "ms",
            "detail": (
                f"longest request while Redis was down (p99 "
                f"{percentile([h.seconds for h in during], 0.99) * 1000:.0f} ms); before the "
                f"outage: longest {max((h.seconds for h in before), default=0) * 1000:.0f} ms, "
                f"p99 {percentile([h.seconds for h in before], 0.99) * 1000:.0f} ms; broker "
                f"timeouts: connect {broker['socket_connect_timeout']} s, socket "
                f"{broker['socket_timeout']} s"
            ),
        },
    }
