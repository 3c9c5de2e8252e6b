"""Locust: signed-in buyers racing for a few numbers through the real pages.

Run by fault_load (``locust --headless``); its settings come in environment variables:
``LOAD_BUYERS`` (a JSON file: ``[[e-mail, host or null], …]``), ``LOAD_COUNTRY``,
``LOAD_BLOCK``, ``LOAD_ATTEMPTS`` (tries per buyer while numbers are shown),
``LOAD_SIGN_IN_S`` and ``LOAD_RACE_S`` (the time bounds: for every buyer to sign in, and for
the race) and ``LOAD_RESULTS`` (where each buyer's outcome and every request are written).

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
import gevent.lock
from locust import HttpUser, events, task
from locust.exception import StopUser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faults.shop import Buyer  # noqa: E402 (after the path above)

BUYERS = json.loads(Path(os.environ["LOAD_BUYERS"]).read_text())
COUNTRY = os.environ["LOAD_COUNTRY"]
BLOCK = int(os.environ["LOAD_BLOCK"])
ATTEMPTS = int(os.environ.get("LOAD_ATTEMPTS", "3"))
RESULTS = Path(os.environ["LOAD_RESULTS"])
SIGN_IN_S = float(os.environ.get("LOAD_SIGN_IN_S", "300"))
RACE_S = float(os.environ.get("LOAD_RACE_S", "120"))
# Sign-ins at a time: as many as gunicorn has workers, so they never queue up behind each
# other past the client's timeout (each is an Argon2 check) and the race starts on an idle
# server.
sign_ins = gevent.lock.BoundedSemaphore(int(os.environ.get("LOAD_SIGN_IN_CONCURRENCY", "4")))

arrived = {"count": 0, "signed_in": 0}
race = gevent.event.Event()
race_started = {}
outcomes = []  # one per buyer: (e-mail, kind, detail, order id, attempts)
shoppers = []  # every Buyer, for its requests


def _arrive(signed_in):
    arrived["count"] += 1
    arrived["signed_in"] += bool(signed_in)
    if arrived["count"] == len(BUYERS):
        _start_race()


def _start_race():
    if race.is_set():
        return
    race_started["at"] = time.monotonic()
    race.set()


@events.test_start.add_listener
def _bound_the_run(environment, **kwargs):
    """Sign-ins get SIGN_IN_S (each is an Argon2 check: slow on a busy machine, and not
    what is measured); the race gets RACE_S from its start. Then the run ends."""

    def bound():
        race.wait(timeout=SIGN_IN_S)
        _start_race()  # whoever signed in by now races
        gevent.sleep(RACE_S)
        if not RESULTS.exists():
            _write()
        environment.runner.quit()

    gevent.spawn(bound)


class RacingBuyer(HttpUser):
    wait_time = staticmethod(lambda: 0)

    def on_start(self):
        self.index = len(shoppers)
        email, host = BUYERS[self.index]
        self.buyer = Buyer(self.host, email, host, http=self.client)
        shoppers.append(self.buyer)
        with sign_ins:
            signed_in = self.buyer.sign_in()
        _arrive(signed_in)
        self.signed_in = signed_in

    @task
    def buy(self):
        race.wait()
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
