"""Run test work in real threads, each with its own database connection."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

THREADS = 20


def run_in_threads(work, count=THREADS):
    """Call ``work(i)`` in ``count`` threads released together; return results or exceptions."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # each thread reports what it got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def run_pooled(work, count, workers=25):
    """``work(i)`` for i < count on a pool of threads (one database connection each, within
    PostgreSQL's connection limit); results or exceptions in order."""

    def call(i):
        try:
            return work(i)
        except Exception as exc:  # each call reports what it got
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(call, range(count)))
