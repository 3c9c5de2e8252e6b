"""A real Celery worker outlives its Redis: killed, started again, the worker reconnects and
takes tasks. Found by ``make faults`` (fault_redis_down): with Celery 5.7.0 and kombu 5.7.0
the worker's main process died of an "Unrecoverable error" (AttributeError in kombu's
redis channel close after the connection was collected) the moment Redis went away, and
nothing ran until somebody restarted it. Celery is held below 5.7 (pyproject.toml)."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs the redis-server binary"
)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def start_redis(port, tmp_path):
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port, socket_connect_timeout=1)

    def answers():
        try:
            return client.ping()
        except redis.RedisError:
            return False

    wait_for(answers, 15, "redis-server")
    return proc


def test_the_worker_survives_redis_going_away_and_consumes_again(tmp_path):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    redis_proc = start_redis(port, tmp_path)
    # A client app of its own: the project's app stays on the tests' in-memory broker.
    client = Celery("probe-client", broker=url)
    log = tmp_path / "worker.log"
    env = {**os.environ, "REDIS_URL": url, "DJANGO_SETTINGS_MODULE": "didportal.settings"}
    env.pop("CELERY_BROKER_URL", None)
    with open(log, "w") as out:
        worker = subprocess.Popen(
            [str(BIN / "celery"), "-A", "didportal", "worker", "--concurrency", "2",
             "--without-gossip", "--without-mingle", "--loglevel", "INFO",
             "--include", "tests.worker_probe"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for(lambda: " ready." in log.read_text(), 60, "the worker to start")

        # Redis goes while a task runs with its message unacknowledged (acks_late), as
        # the invoice PDFs' were in the fault run.
        client.send_task("tests.worker_probe.nap", args=[6])
        wait_for(
            lambda: "Task tests.worker_probe.nap" in log.read_text() or "nap[" in log.read_text(),
            30,
            "the task to start",
        )
        redis_proc.kill()  # SIGKILL: gone at once, nothing saved
        redis_proc.wait()
        time.sleep(5)
        assert worker.poll() is None, log.read_text()[-3000:]
        redis_proc = start_redis(port, tmp_path)

        # A task by a name no worker knows: the worker logs that it received it, which
        # shows it consumes again without running anything.
        deadline = time.monotonic() + 60
        while "faults.probe" not in log.read_text() and time.monotonic() < deadline:
            client.send_task("faults.probe")
            time.sleep(2)
        assert worker.poll() is None, log.read_text()[-3000:]
        assert "faults.probe" in log.read_text(), log.read_text()[-3000:]
    finally:
        client.close()
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        redis_proc.kill()
        redis_proc.wait()
