"""Locust, headless: 200 signed-in buyers race for 50 numbers through the real pages,
against gunicorn with several workers.

Every buyer signs in through the sign-in page before the race (django-axes counts only
failed sign-ins, so 200 good ones from 127.0.0.1 lock nobody out; none may fail), then all
start together (faults/locustfile.py). Afterwards the database says who got what.

Figures: ``load_double_sells`` (a number sold twice: two completed order lines, two live
subscriptions or two owners' charges for one number), ``load_http_500s`` (error pages or no
answer), ``load_numbers_sold`` (exactly the 50), ``load_unclear_refusals`` (buyers who got
nothing and were not told clearly why), ``load_orders_per_s`` and ``load_p99_ms`` (p50 in
its detail) over the race.
"""

import json
import os
import subprocess
import sys

from faults.shop import percentile, shop_seed

BUYERS = 200
NUMBERS = 50
SPAWN_RATE = 20  # sign-ins per second (each an Argon2 check on the server)
SIGN_IN_S = 300  # bound for the 200 sign-ins before the race (~20 s on an idle machine)
RACE_S = 240  # bound for the race (over in about a minute on an idle machine)
WEB_WORKERS = 4


def _double_sells(block_id):
    from django.db.models import Count

    from billing.models import Subscription
    from cart.models_orders import OrderItem

    completed = OrderItem.objects.filter(status="completed", did__block_id=block_id)
    twice_in_orders = sum(
        row["n"] - 1 for row in completed.values("did").annotate(n=Count("pk")) if row["n"] > 1
    )
    live = Subscription.objects.filter(did__block_id=block_id).exclude(status="ended")
    twice_subscribed = sum(
        row["n"] - 1 for row in live.values("did").annotate(n=Count("pk")) if row["n"] > 1
    )
    return twice_in_orders + twice_subscribed, completed.values("did").distinct().count()


def run(stack):
    from billing.selectors import balance_mismatches
    from cart.models_orders import Order
    from inventory.models import DID

    stack.database_reset()
    stack.redis_flushall()
    shop = shop_seed(numbers=NUMBERS, buyers=BUYERS)
    buyers_file = stack.workdir / "load-buyers.json"
    buyers_file.write_text(json.dumps(shop.buyers))
    results_file = stack.workdir / "load-results.json"
    results_file.unlink(missing_ok=True)
    stack.web_start(workers=WEB_WORKERS)
    env = stack.env(
        LOAD_BUYERS=buyers_file,
        LOAD_COUNTRY=shop.country,
        LOAD_BLOCK=shop.block_id,
        LOAD_RESULTS=results_file,
        LOAD_ATTEMPTS=3,
        LOAD_SIGN_IN_S=SIGN_IN_S,
        LOAD_RACE_S=RACE_S,
        LOAD_SIGN_IN_CONCURRENCY=WEB_WORKERS,
    )
    locust = [
        os.path.join(os.path.dirname(sys.executable), "locust"),
        "-f", os.path.join(os.path.dirname(__file__), "locustfile.py"),
        "--headless", "--only-summary",
        "--users", str(BUYERS), "--spawn-rate", str(SPAWN_RATE),
        "--stop-timeout", "10",
        "--host", stack.base_url,
        "--loglevel", "WARNING",
    ]  # fmt: skip
    with open(stack.workdir / "locust.log", "w") as log:
        subprocess.run(
            locust,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=SIGN_IN_S + RACE_S + 120,
        )
    result = json.loads(results_file.read_text())

    outcomes = result["outcomes"]
    kinds = {k: sum(1 for o in outcomes if o[1] == k) for k in ("bought", "refused", "unclear")}
    unclear = [o for o in outcomes if o[1] == "unclear"]
    unfinished = result["buyers"] - len(outcomes)  # still racing when the time bound hit
    race_hits = [
        h
        for h in result["hits"]
        if h["started"] >= 0 and not h["path"].startswith("/accounts/login/")
    ]
    errors = [h for h in result["hits"] if h["status"] >= 500 or h["status"] == 0]
    seconds = [h["seconds"] for h in race_hits]
    doubles, sold_distinct = _double_sells(shop.block_id)
    sold = DID.objects.filter(block_id=shop.block_id, status="active").count()
    orders = Order.objects.order_by("created_at")
    placed = orders.count()
    span = (orders.last().created_at - orders.first().created_at).total_seconds() if placed else 0
    mismatches = len(list(balance_mismatches()))
    error_paths = sorted({f"{h['method']} {h['path'].split('?')[0]} {h['status']}" for h in errors})
    race_s = max((h["started"] + h["seconds"] for h in race_hits), default=0)
    detail = (
        f"{result['signed_in']}/{result['buyers']} signed in through the sign-in page "
        f"({WEB_WORKERS} at a time), then raced: {len(race_hits)} requests in {race_s:.0f} s "
        f"against gunicorn with {WEB_WORKERS} workers"
    )
    return {
        "load_double_sells": {
            "value": doubles + max(0, sold_distinct - sold),
            "unit": "count",
            "detail": f"numbers sold twice (order lines or live subscriptions); ledger "
            f"mismatches {mismatches}",
            "expected": 0,
        },
        "load_http_500s": {
            "value": len(errors),
            "unit": "count",
            "detail": f"5xx answers or no answer: {error_paths[:5]}; {detail}",
            "expected": 0,
        },
        "load_numbers_sold": {
            "value": sold,
            "unit": "count",
            "detail": f"of {NUMBERS} in stock, to {BUYERS} buyers: outcomes {kinds}",
            "expected": NUMBERS,
        },
        "load_unclear_refusals": {
            "value": len(unclear) + unfinished,
            "unit": "count",
            "detail": (
                "buyers who got no number and no clear reason (a refusal must say the "
                "number is gone, the area is sold out, or the order failed for want of "
                f"numbers): {sorted({o[2] for o in unclear})[:3]}; unfinished {unfinished}"
            ),
            "expected": 0,
        },
        "load_orders_per_s": {
            "value": round(placed / span, 1) if span else 0,
            "unit": "orders/s",
            "detail": f"{placed} orders placed (completed or failed) in {span:.1f} s from the "
            f"first to the last; {detail}",
        },
        "load_p99_ms": {
            "value": round(percentile(seconds, 0.99) * 1000),
            "unit": "ms",
            "detail": f"every request of the race (search, add, panel, checkout page and "
            f"post, order page); p50 {percentile(seconds, 0.5) * 1000:.0f} ms, max "
            f"{max(seconds, default=0) * 1000:.0f} ms",
        },
    }
