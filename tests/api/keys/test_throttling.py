"""Rate limits: per key (sliding window in Redis, 429 + Retry-After as a JSON:API error),
concurrent requests never pass beyond the limit, and an address sending many bad keys gets
429 too. Also the key's IP ranges."""

import threading
from types import SimpleNamespace

import pytest
import time_machine
from django.core.cache import cache, caches

from api.throttling import PerKeyRateThrottle, retry_after
from tests.api.conftest import jsonapi_client, key_for

pytestmark = pytest.mark.django_db

START = 60 * 31_666_666 + 20.0  # 20 s into a minute


@pytest.fixture
def limit(settings):
    def set_rate(rate):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"api_key": rate},
        }

    cache.clear()
    yield set_rate
    cache.clear()


def test_over_the_limit_is_429_with_retry_after_per_key(limit, customer_admin, stranger):
    limit("3/min")
    client, other = jsonapi_client(customer_admin), jsonapi_client(stranger)
    with time_machine.travel(START, tick=False):
        assert [client.get("/v3/balance").status_code for _ in range(3)] == [200] * 3
        refused = client.get("/v3/balance")
        assert other.get("/v3/balance").status_code == 200  # another key has its own count
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/vnd.api+json"
    # The rest of this minute, and a third of the next, while these 3 slide out of it.
    assert refused["Retry-After"] == "60"
    (error,) = refused.json()["errors"]
    assert error["status"] == "429" and error["title"] == "Too many requests"
    assert "throttled" in error["detail"]


def test_the_window_slides(limit, customer_admin):
    limit("4/min")
    client = jsonapi_client(customer_admin)
    with time_machine.travel(START, tick=False):
        assert [client.get("/v3/balance").status_code for _ in range(5)] == [200] * 4 + [429]
    # 30 s into the next minute half of the last one still counts (2 of 4): two more pass.
    with time_machine.travel(START + 70, tick=False):
        codes = [client.get("/v3/balance").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    # A minute later the old window has slid out entirely.
    with time_machine.travel(START + 130, tick=False):
        assert client.get("/v3/balance").status_code == 200


def test_refused_requests_do_not_count(limit, customer_admin):
    limit("2/min")
    client = jsonapi_client(customer_admin)
    with time_machine.travel(START, tick=False):
        codes = [client.get("/v3/balance").status_code for _ in range(10)]
    assert codes == [200, 200] + [429] * 8
    # Next minute: 40 s in, only 2 × 20/60 of the last minute weighs: one more request fits.
    with time_machine.travel(START + 80, tick=False):
        assert client.get("/v3/balance").status_code == 200


@pytest.mark.parametrize(
    ("elapsed", "current", "previous", "expected"),
    [
        (20, 10, 0, 46),  # the next window, once 1/10 of it passed: 10 × 0.9 + 1 ≤ 10
        (20, 5, 9, 14),  # here, once the previous window weighs 4: 9 × (1 − 33.4/60) + 5 + 1
        (59.9, 9, 10, 1),  # never less than one second
        (0, 20, 0, 93),  # twice the limit this window: 11/20 of the next one too
    ],
)
def test_retry_after_is_when_one_more_request_fits(elapsed, current, previous, expected):
    assert (
        retry_after(limit=10, period=60, elapsed=elapsed, current=current, previous=previous)
        == expected
    )


@pytest.mark.postgres
def test_concurrent_requests_pass_exactly_up_to_the_limit(limit, customer_admin):
    if "redis" not in caches["default"].__class__.__module__:
        pytest.skip("needs the Redis cache (REDIS_URL)")
    limit("25/min")
    key, _secret = key_for(customer_admin)
    request = SimpleNamespace(auth=key)
    barrier = threading.Barrier(10)
    allowed = []

    def knock():
        barrier.wait()
        for _ in range(6):
            allowed.append(PerKeyRateThrottle().allow_request(request, None))

    with time_machine.travel(START, tick=False):
        threads = [threading.Thread(target=knock) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert allowed.count(True) == 25 and allowed.count(False) == 35


def test_many_bad_keys_from_one_address_are_429(settings, customer_admin):
    settings.API_BAD_KEYS_PER_IP = 3
    settings.API_BAD_KEY_WINDOW_SECONDS = 600
    _key, secret = key_for(customer_admin)
    client = jsonapi_client()
    with time_machine.travel(START, tick=False):
        codes = [
            client.get("/v3/balance", HTTP_API_KEY=f"dpk_guess{n}").status_code for n in range(5)
        ]
        refused = client.get("/v3/balance", HTTP_API_KEY="dpk_guess")
        # A valid key from that address still works; other addresses are not affected.
        assert client.get("/v3/balance", HTTP_API_KEY=secret).status_code == 200
        elsewhere = client.get("/v3/balance", HTTP_API_KEY="dpk_x", REMOTE_ADDR="192.0.2.1")
        # A request without any key is no guess: it is 401 still.
        assert client.get("/v3/balance").status_code == 401
    assert codes == [401, 401, 401, 429, 429]
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(600 - int(START) % 600)
    (error,) = refused.json()["errors"]
    assert "wrong API key" in error["detail"] and error["status"] == "429"
    assert elsewhere.status_code == 401


@pytest.mark.parametrize(
    ("networks", "address", "status"),
    [
        ("203.0.113.0/24", "203.0.113.9", 200),
        ("203.0.113.0/24", "198.51.100.1", 401),
        ("198.51.100.7\n2001:db8::/32", "2001:db8::5", 200),
        ("198.51.100.7\n2001:db8::/32", "2001:db9::5", 401),
        ("198.51.100.7", "198.51.100.7", 200),
        ("", "198.51.100.7", 200),
    ],
)
def test_a_key_works_only_from_its_ranges(customer_admin, networks, address, status):
    _key, secret = key_for(customer_admin, allowed_networks=networks)
    response = jsonapi_client().get("/v3/balance", HTTP_API_KEY=secret, REMOTE_ADDR=address)
    assert response.status_code == status
    if status == 401:
        assert response.json()["errors"][0]["detail"] == "This API key is not valid."


def test_an_unreachable_cache_lets_requests_through(limit, monkeypatch, customer_admin, caplog):
    limit("1/min")

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr("api.throttling._window_hit", down)
    client = jsonapi_client(customer_admin)
    assert [client.get("/v3/balance").status_code for _ in range(3)] == [200] * 3
    assert "rate limit not checked" in caplog.text
