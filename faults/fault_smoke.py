"""The stack itself: gunicorn answers, a worker runs a task enqueued by the orchestrator,
and a kill -9 of the worker is survived by a restart (the harness's own check)."""

import urllib.request


def run(stack):
    from outbox.tasks import flush_outbox

    stack.web_start(workers=2)
    stack.worker_start("worker1", concurrency=1)
    with urllib.request.urlopen(f"{stack.base_url}/healthz", timeout=5) as answer:
        healthy = answer.status == 200
    flush_outbox.delay()
    stack.wait_queue_idle(timeout=30)
    stack.kill9("worker1")
    stack.worker_start("worker1", concurrency=1)
    flush_outbox.delay()
    stack.wait_queue_idle(timeout=30)
    return {
        "smoke_stack_unhealthy": {
            "value": 0 if healthy else 1,
            "unit": "count",
            "detail": "gunicorn /healthz, a task run, a worker killed and restarted",
            "expected": 0,
        }
    }
