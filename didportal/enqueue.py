"""Hand a job to a worker after commit without letting a broker outage hurt the caller.

Used for work that a periodic job also finds in the database (invoice PDFs, e-mails), so a
failed enqueue only delays it. One attempt, no retries: it runs inside a web request, and
the broker's socket timeouts (settings.REDIS_BROKER_TIMEOUTS) bound how long it can take —
a refused connection costs milliseconds, a Redis that stopped answering one socket timeout.
(Celery's default publish retries up to 3 times; redis-py already reconnects a pooled
connection that a Redis restart left dead, so nothing is lost by dropping them.)
"""

import logging

logger = logging.getLogger(__name__)

RETRY_POLICY = {"max_retries": 0}


def enqueue(task, *args, catch_up="the periodic job") -> bool:
    """``task.apply_async(args)``; never raises. Returns whether the broker took it."""
    try:
        task.apply_async(args=list(args), retry=True, retry_policy=RETRY_POLICY)
    except Exception:  # noqa: BLE001 (any broker failure: the periodic job catches up)
        logger.warning(
            "could not enqueue %s%s; %s will do it", task.name, tuple(args), catch_up, exc_info=True
        )
        return False
    return True
