"""The production shape on loopback, for fault runs: gunicorn, Celery workers and beat on a
Redis of their own, PostgreSQL — real processes that a scenario kills, stops and restarts.

The stack's database is ``<DATABASE_URL's name>_faults``; its Redis is a private
``redis-server`` on ``FAULTS_REDIS_PORT`` (default 6391), so stopping it never touches the
Redis the rest of the machine uses. The orchestrating process (``python -m faults``) runs
Django against the same database and Redis, so a scenario seeds and counts with the ORM and
enqueues with ``task.delay`` exactly as the portal does.
"""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STATIC_ROOT = ROOT / "var" / "faults-static"


class StackError(RuntimeError):
    pass


def faults_database_url(base_url):
    parts = urlsplit(base_url)
    if not parts.scheme.startswith("postgres"):
        raise StackError("make faults needs PostgreSQL: set DATABASE_URL=postgres://...")
    name = parts.path.lstrip("/") or "didportal"
    return urlunsplit(parts._replace(path=f"/{name}_faults"))


class Stack:
    def __init__(self, database_url, workdir, redis_port=None, web_port=None):
        self.database_url = database_url
        self.db_name = urlsplit(database_url).path.lstrip("/")
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.redis_port = int(redis_port or os.environ.get("FAULTS_REDIS_PORT", 6391))
        self.web_port = int(web_port or os.environ.get("FAULTS_WEB_PORT", 8391))
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.procs = {}  # name -> Popen

    # --- environment -------------------------------------------------------------------

    def env(self, **extra):
        """The environment of every process of the stack: production settings on loopback."""
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "didportal.settings",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "DEBUG": "False",
            "SECRET_KEY": "faults-run-secret-key-not-for-production-0123456789abcdef",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": self.base_url,
            "SECURE_SSL_REDIRECT": "False",
            "SESSION_COOKIE_SECURE": "False",
            "CSRF_COOKIE_SECURE": "False",
            "SECURE_HSTS_SECONDS": "0",
            "EMAIL_URL": "dummymail://",
            "PRIVATE_STORAGE_ROOT": str(self.workdir / "private"),
            "STATIC_ROOT": str(STATIC_ROOT),
            "PYTHONUNBUFFERED": "1",
        }
        env.update({k: str(v) for k, v in extra.items()})
        return env

    # --- PostgreSQL ----------------------------------------------------------------------

    def _admin(self):
        parts = urlsplit(self.database_url)
        admin = urlunsplit(parts._replace(path="/postgres"))
        return psycopg.connect(admin, autocommit=True)

    def _close_django(self):
        from django.db import connections

        connections.close_all()

    def _recreate(self, name, template=None):
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if template:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            else:
                conn.execute(f'CREATE DATABASE "{name}"')

    def database_create(self):
        """A fresh, migrated database, kept as the template every ``database_reset`` copies."""
        self._close_django()
        template = f"{self.db_name}_template"
        self._recreate(template)
        url = urlunsplit(urlsplit(self.database_url)._replace(path=f"/{template}"))
        self.manage("migrate", "--noinput", env={"DATABASE_URL": url})
        self._recreate(self.db_name, template)

    def database_reset(self, snapshot=None, keep=()):
        """Back to the migrated template (or to a ``database_save`` snapshot). Stops every
        process of the stack first (a copy needs the database without connections) but
        ``keep``: idle workers started with ``CONN_MAX_AGE=0`` hold no connection between
        tasks, and may stay (any connection left is cut by the forced drop)."""
        self.stop_all(keep=("redis", *keep))
        self._close_django()
        source = f"{self.db_name}_{snapshot}" if snapshot else f"{self.db_name}_template"
        self._recreate(self.db_name, source)

    def database_save(self, snapshot):
        """Keep the current database as ``snapshot`` (e.g. 1,000 seeded subscriptions) so each
        seed of a scenario starts from the same data in a second."""
        self.stop_all(keep=("redis",))
        self._close_django()
        self._recreate(f"{self.db_name}_{snapshot}", self.db_name)

    def database_drop_all(self):
        self._close_django()
        with self._admin() as conn:
            names = [
                row[0]
                for row in conn.execute(
                    "SELECT datname FROM pg_database WHERE datname = %s OR datname LIKE %s",
                    [self.db_name, self.db_name.replace("_", r"\_") + r"\_%"],
                )
            ]
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def terminate_backends(self, where="TRUE"):
        """``pg_terminate_backend`` every connection of the stack's processes to its database
        (not the orchestrator's own); ``where`` narrows it on pg_stat_activity's columns,
        e.g. ``"state = 'idle in transaction'"``. Returns how many were terminated."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                f" WHERE datname = %s AND pid <> pg_backend_pid() AND ({where})",
                [self.db_name],
            )
            return cursor.fetchone()[0]

    # --- Redis ---------------------------------------------------------------------------

    def redis(self):
        import redis

        return redis.Redis(
            host="127.0.0.1", port=self.redis_port, socket_timeout=5, socket_connect_timeout=2
        )

    def redis_start(self):
        self._spawn(
            "redis",
            [
                "redis-server",
                "--port", str(self.redis_port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
            ],
        )  # fmt: skip
        self._wait(lambda: self._redis_ping(), "redis", 15)

    def _redis_ping(self):
        try:
            return self.redis().ping()
        except Exception:  # noqa: BLE001 (not up yet)
            return False

    def redis_stop(self):
        """Redis gone at once, as a crash or a network cut leaves it (SIGKILL: no save)."""
        self.kill9("redis")

    def redis_flushall(self):
        self.redis().flushall()

    def queue_idle(self):
        """Nothing waiting in the broker and nothing taken but unacknowledged (acks_late)."""
        r = self.redis()
        return r.llen("celery") == 0 and r.hlen("unacked") == 0

    def wait_queue_idle(self, timeout=120, settle=1.0):
        self._wait(self.queue_idle, "the Celery queue to drain", timeout)
        time.sleep(settle)
        self._wait(self.queue_idle, "the Celery queue to drain", timeout)

    def tasks_unfinished(self, names):
        """Task ids the running workers ``names`` received and have not finished, from their
        logs (a worker's log starts afresh with each start)."""
        import re

        unfinished = set()
        for name in names:
            received, finished = set(), set()
            for line in self.log(name).splitlines():
                match = re.search(
                    r"Task [\w.]+\[([\w-]+)\] (received|succeeded|raised|failed)", line
                )
                if match:
                    (received if match[2] == "received" else finished).add(match[1])
            unfinished |= received - finished
        return unfinished

    def wait_tasks_done(self, names, timeout=120, settle=1.0):
        """Nothing waiting in the broker and every task the running workers ``names`` took
        finished. Unlike ``wait_queue_idle`` it ignores what a killed worker took: that waits
        in Redis's unacked set for the broker's visibility timeout."""

        def done():
            return self.redis().llen("celery") == 0 and not self.tasks_unfinished(names)

        self._wait(done, "the workers to finish their tasks", timeout)
        time.sleep(settle)
        self._wait(done, "the workers to finish their tasks", timeout)

    # --- processes -----------------------------------------------------------------------

    def manage(self, *args, env=None):
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env(**(env or {})),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def static_collect(self):
        """Production settings serve static files from collectstatic's compressed manifest,
        minutes of work on a busy machine: kept in var/ between runs, redone when our static
        files or the dependencies change."""
        sources = sorted((ROOT / "static").rglob("*")) + [ROOT / "pyproject.toml"]
        fingerprint = hashlib.sha256(
            "".join(f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}\n" for p in sources).encode()
        ).hexdigest()
        stamp = STATIC_ROOT / ".fingerprint"
        if stamp.exists() and stamp.read_text() == fingerprint:
            return
        self.manage("collectstatic", "--noinput", "--clear")
        stamp.write_text(fingerprint)

    def web_start(self, workers=4, name="web", **env):
        self.static_collect()
        self._spawn(
            name,
            [
                str(BIN / "gunicorn"), "didportal.wsgi:application",
                "--bind", f"127.0.0.1:{self.web_port}",
                "--workers", str(workers),
                "--timeout", "60",
                "--graceful-timeout", "5",
            ],
            env,
        )  # fmt: skip
        self._wait(self._web_ready, "gunicorn", 60)

    def _web_ready(self):
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2) as answer:
                return answer.status == 200
        except Exception:  # noqa: BLE001 (not up yet)
            return False

    def worker_start(self, name="worker1", concurrency=2, wait=True, **env):
        """A Celery worker; ``wait=False`` returns at once (start several, then
        ``worker_wait_ready`` each: they start in parallel)."""
        log = self.workdir / f"{name}.log"
        log.write_text("")
        self._spawn(
            name,
            [
                str(BIN / "celery"), "-A", "didportal", "worker",
                "-n", f"{name}@%h",
                "--concurrency", str(concurrency),
                "--without-gossip", "--without-mingle",
                "--loglevel", "INFO",
            ],
            env,
        )  # fmt: skip
        if wait:
            self.worker_wait_ready(name)

    def worker_wait_ready(self, name, timeout=60):
        self._wait(lambda: " ready." in self.log(name), f"worker {name}", timeout)

    def beat_start(self, name="beat1", prefix=(), **env):
        """A beat process; ``prefix`` runs it under another command (e.g. ``faketime``)."""
        schedule = self.workdir / f"{name}-schedule"
        for leftover in self.workdir.glob(f"{name}-schedule*"):
            leftover.unlink()
        self._spawn(
            name,
            [
                *prefix,
                str(BIN / "celery"), "-A", "didportal", "beat",
                "--schedule", str(schedule),
                "--loglevel", "INFO",
            ],
            env,
        )  # fmt: skip

    def _spawn(self, name, argv, env=None):
        if name in self.procs and self.procs[name].poll() is None:
            raise StackError(f"{name} is already running")
        log = open(self.workdir / f"{name}.log", "a")  # noqa: SIM115 (the process keeps it)
        self.procs[name] = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env(**(env or {})),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill reaches its children
        )
        log.close()
        return self.procs[name]

    def running(self, name):
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def kill9(self, name):
        """SIGKILL to the process and every child (a Celery worker's pool, gunicorn's
        workers): nothing runs its cleanup."""
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    def stop(self, name, timeout=20):
        """SIGTERM (a warm shutdown), then SIGKILL after ``timeout`` seconds."""
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    def stop_all(self, keep=()):
        for name in list(self.procs):
            if name not in keep:
                self.stop(name)

    def log(self, name):
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _wait(self, ready, what, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(0.2)
        raise StackError(f"timed out after {timeout} s waiting for {what}")
