"""Locust: signed-in buyers racing for a few numbers through the real pages.

Run by fault_load (``locust --headless``); its settings come in environment variables:
``LOAD_BUYERS`` (a JSON file: ``[[e-mail, host or null], …]``), ``LOAD_COUNTRY``,
``LOAD_BLOCK``, ``LOAD_ATTEMPTS`` (tries per buyer while numbers are shown) and
``LOAD_RESULTS`` (where each buyer's outcome and every request are written at the end).

Each Locust user is one buyer: it signs in through the sign-in page (CSRF and all), waits
until every buyer is signed in, then all race: search, add (half a number picked from the
page, half "any 1 from this area"), check out with the page's tokens, open the order. A
buyer who was told the number is gone tries again while the search still shows numbers.
"""

import json
import os
import sys
import time
from pathlib import Path

import gevent.event
from locust import HttpUser, events, task
from locust.exception import StopUser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faults.shop import Buyer  # noqa: E402 (after the path above)

BUYERS = json.loads(Path(os.environ["LOAD_BUYERS"]).read_text())
COUNTRY = os.environ["LOAD_COUNTRY"]
BLOCK = int(os.environ["LOAD_BLOCK"])
ATTEMPTS = int(os.environ.get("LOAD_ATTEMPTS", "3"))
RESULTS = Path(os.environ["LOAD_RESULTS"])

arrived = {"count": 0, "signed_in": 0}
race = gevent.event.Event()
race_started = {}
outcomes = []  # one per buyer: (e-mail, kind, detail, order id, attempts)
shoppers = []  # every Buyer, for its requests


def _arrive(signed_in):
    arrived["count"] += 1
    arrived["signed_in"] += bool(signed_in)
    if arrived["count"] == len(BUYERS):
        race_started["at"] = time.monotonic()
        race.set()


class RacingBuyer(HttpUser):
    wait_time = staticmethod(lambda: 0)

    def on_start(self):
        self.index = len(shoppers)
        email, host = BUYERS[self.index]
        self.buyer = Buyer(self.host, email, host, http=self.client)
        shoppers.append(self.buyer)
        signed_in = self.buyer.sign_in()
        _arrive(signed_in)
        self.signed_in = signed_in

    @task
    def buy(self):
        race.wait(timeout=300)
        outcome = None
        attempts = 0
        if self.signed_in:
            for attempts in range(1, ATTEMPTS + 1):  # noqa: B007 (kept for the record)
                pick = _random_pick if self.index % 2 else None
                outcome = self.buyer.buy_one(country=COUNTRY, block_id=BLOCK, pick=pick)
                if outcome.kind != "refused" or "sold out" in outcome.detail:
                    break
        kind = outcome.kind if outcome else "unclear"
        detail = outcome.detail if outcome else "could not sign in"
        order_id = outcome.order_id if outcome else None
        outcomes.append((self.buyer.email, kind, detail, order_id, attempts))
        if len(outcomes) == len(BUYERS):
            _write()
            self.environment.runner.quit()
        raise StopUser()


def _random_pick(shown):
    import random

    return random.choice(shown)


def _write():
    hits = [
        {
            "started": hit.started - race_started.get("at", 0),
            "seconds": hit.seconds,
            "method": hit.method,
            "path": hit.path,
            "status": hit.status,
        }
        for buyer in shoppers
        for hit in buyer.hits
    ]
    RESULTS.write_text(
        json.dumps(
            {
                "signed_in": arrived["signed_in"],
                "buyers": len(BUYERS),
                "outcomes": outcomes,
                "hits": hits,
            }
        )
    )


@events.quitting.add_listener
def _on_quitting(environment, **kwargs):
    if not RESULTS.exists():  # the run-time bound ended it first: write what there is
        _write()
