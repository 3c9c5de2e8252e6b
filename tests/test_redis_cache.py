"""The shared cache when Redis is down or hung: pages answer, reads miss, writes are skipped
(``didportal.redis_cache``). Found by ``make faults`` (fault_redis_down): with Django's own
RedisCache every page was a 500 while Redis was down, as the host middleware reads the
cache on every request."""

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from accounts import branding
from tests.factories import TEST_PASSWORD, AccountFactory, UserFactory

BACKEND = "didportal.redis_cache.ResilientRedisCache"
HOST = "voice.voxel.example"


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again once we return: connections are refused


@pytest.fixture
def silent_redis():
    """A server that accepts connections and never answers (a hung Redis)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def use_cache(settings, location, **options):
    """The default cache is the resilient Redis cache at ``location`` for this test."""
    settings.CACHES = {
        "default": {
            "BACKEND": BACKEND,
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, **options},
        }
    }


def test_production_settings_use_the_resilient_cache_with_timeouts():
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.CACHES['default']))"
    )
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6379/0"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    configured = json.loads(result.stdout.strip().splitlines()[-1])
    assert configured["BACKEND"] == BACKEND
    assert 0 < configured["OPTIONS"]["socket_connect_timeout"] <= 2
    assert 0 < configured["OPTIONS"]["socket_timeout"] <= 2
    assert configured["OPTIONS"]["retry_after"] > 0


@pytest.mark.django_db
def test_pages_answer_while_redis_is_down(client, settings, platform_admin, customer_admin):
    use_cache(settings, f"redis://127.0.0.1:{closed_port()}/0")
    # The host middleware reads the cache on every request; the platform dashboard caches
    # its stock summary with get_or_set.
    client.force_login(platform_admin)
    assert client.get(reverse("dashboard")).status_code == 200
    client.force_login(customer_admin)
    assert client.get(reverse("cart:cart")).status_code == 200
    assert client.get(reverse("catalog:coverage")).status_code == 200


@pytest.mark.django_db
def test_a_resellers_customer_signs_in_on_its_host_while_redis_is_down(client, settings):
    """A reseller's host is looked up in the cached host registry on every request."""
    reseller = AccountFactory(kind="reseller", name="Voxel Telecom")
    branding.brand_host_add(account=reseller, host=HOST)
    user = UserFactory(account=AccountFactory(parent=reseller))
    use_cache(settings, f"redis://127.0.0.1:{closed_port()}/0")
    page = client.get(reverse("accounts:login"), HTTP_HOST=HOST)
    assert page.status_code == 200
    answer = client.post(
        reverse("accounts:login"),
        {"username": user.email, "password": TEST_PASSWORD},
        HTTP_HOST=HOST,
    )
    assert answer.status_code == 302
    assert client.get(reverse("cart:cart"), HTTP_HOST=HOST).status_code == 200
    assert client.get("/", HTTP_HOST="unknown.example").status_code == 400  # still checked


def test_reads_miss_and_writes_are_skipped(settings):
    use_cache(settings, f"redis://127.0.0.1:{closed_port()}/0", retry_after=0)
    assert cache.get("k", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("k") is False
    assert cache.set("k", 1) is None
    assert cache.add("k", 1) is False
    assert cache.delete("k") is False
    assert cache.get_or_set("k", lambda: "computed", 60) == "computed"


def test_counters_still_raise(settings):
    use_cache(settings, f"redis://127.0.0.1:{closed_port()}/0")
    from redis.exceptions import ConnectionError as RedisConnectionError

    with pytest.raises(RedisConnectionError):
        cache.incr("counter")
    with pytest.raises(RedisConnectionError):  # within retry_after: no new attempt, same error
        cache.decr("counter")


def test_a_hung_redis_costs_one_timeout_then_nothing_until_the_retry(settings, silent_redis):
    use_cache(settings, silent_redis, retry_after=30)
    started = time.monotonic()
    assert cache.get("k") is None
    first = time.monotonic() - started
    assert first < 0.5 + 0.5 + 0.5, first  # connect (accepted at once) + one read timeout
    started = time.monotonic()
    for _ in range(50):
        assert cache.get("k") is None
        cache.set("k", 1)
    assert time.monotonic() - started < 0.1  # left alone while the retry time runs


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (a live Redis)")
def test_the_cache_works_again_once_redis_answers(settings):
    live = settings.CACHES["default"]["LOCATION"]
    use_cache(settings, f"redis://127.0.0.1:{closed_port()}/0", retry_after=0.2)
    assert cache.get("k") is None
    # Redis is back (here: the cache is pointed at a live one; a pool reconnects the same way).
    cache._cache._pools.clear()
    cache._cache._servers = [live]
    assert (
        cache.set("resilient-cache-test", "v", 30) is None
        and cache.get("resilient-cache-test") is None
    )
    time.sleep(0.25)
    cache.set("resilient-cache-test", "v", 30)
    assert cache.get("resilient-cache-test") == "v"
    cache.delete("resilient-cache-test")
