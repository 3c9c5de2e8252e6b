"""Shared fixtures: PostgreSQL gating, per-role users, and the browser harness."""

import importlib
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from tests.factories import AccountFactory, UserFactory, platform

FAST_TEST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


def pytest_configure(config):
    """Test-only settings, applied before any test runs:

    - a fast password hasher: every factory user would otherwise cost an Argon2 hash
      (production's hashers are asserted in tests/test_settings.py);
    - under pytest-xdist, each worker its own private file folder and its own Redis
      database for the cache, so workers never see each other's files or cache keys
      (pytest-django already gives each worker its own test database).
    """
    from django.conf import settings  # noqa: PLC0415 (configured by pytest-django)

    settings.PASSWORD_HASHERS = [FAST_TEST_HASHER]
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    index = int(worker.removeprefix("gw"))
    private = Path(tempfile.gettempdir()) / f"didportal-tests-{os.getpid()}-{worker}"
    settings.PRIVATE_STORAGE_ROOT = settings.MEDIA_ROOT = private
    cache = settings.CACHES["default"]
    if "redis" in cache["BACKEND"]:
        # Counted from the database REDIS_URL names (at least 1), so parallel runs given
        # different bases (REDIS_URL=…/4, …/8) keep apart too.
        base = int(urlsplit(cache["LOCATION"]).path.strip("/") or 0)
        cache["LOCATION"] = _redis_db(cache["LOCATION"], max(base, 1) + index)


def _redis_db(url, db):
    """``url`` pointing at Redis database ``db`` instead."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


def pytest_runtest_setup(item):
    """PostgreSQL-only tests skip on SQLite, unless REQUIRE_POSTGRES=1 makes that a failure."""
    if "postgres" not in item.keywords or connection.vendor == "postgresql":
        return
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail("REQUIRE_POSTGRES=1 but this PostgreSQL-only test is running on SQLite")
    pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")


def reset_broker_pools():
    """Forget pooled broker connections, so the next publish connects to the new URL."""
    from didportal.celery import app  # noqa: PLC0415

    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker():
    """Point the Celery app at another broker for one test: ``broker(url, options)``."""
    from didportal.celery import app, conf_override  # noqa: PLC0415

    saved = {
        "broker_url": app.conf.broker_url,
        "broker_transport_options": app.conf.broker_transport_options,
    }

    def point(url, transport_options=None):
        conf_override(broker_url=url, broker_transport_options=transport_options or {})
        reset_broker_pools()

    yield point
    conf_override(**saved)
    reset_broker_pools()


@pytest.fixture(autouse=True)
def memory_broker(broker):
    """Tasks enqueued after commit stay in this process: tests never fill the embedded
    mode's queue folder or a shared Redis. (Tests run tasks by calling them.)"""
    broker("memory://")


@pytest.fixture(autouse=True)
def _tax_rates_after_flush(request):
    """Transactional tests flush every table, the VAT rates seeded by a migration included;
    put them back so the tax rule finds them as it does in production."""
    marker = request.node.get_closest_marker("django_db")
    if not marker or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    from billing.models import TaxRate  # noqa: PLC0415 (apps load after collection)

    if not TaxRate.objects.exists():
        rates = importlib.import_module("billing.migrations.0004_tax_rates").EU_STANDARD_RATES
        TaxRate.objects.bulk_create(TaxRate(country=c, rate=r) for c, r in rates.items())


@pytest.fixture
def platform_account(db):
    return platform()


@pytest.fixture
def platform_admin(db):
    return UserFactory(account=platform(), role="platform_admin")


@pytest.fixture
def finance_user(db):
    return UserFactory(account=platform(), role="platform_finance")


@pytest.fixture
def reseller(db):
    return AccountFactory(kind="reseller", parent=platform())


@pytest.fixture
def reseller_admin(reseller):
    return UserFactory(account=reseller, role="reseller_admin")


@pytest.fixture
def customer(db):
    return AccountFactory(kind="customer", parent=platform())


@pytest.fixture
def customer_admin(customer):
    return UserFactory(account=customer, role="customer_admin")


@pytest.fixture
def customer_member(customer):
    return UserFactory(account=customer, role="customer_member")


@pytest.fixture
def stranger(db):
    """A customer admin of another tenant."""
    other = AccountFactory(kind="customer", parent=platform(), name="Stranger Ltd")
    return UserFactory(account=other, role="customer_admin")


from tests.browser import browser, page  # noqa: E402, F401  (fixtures)
