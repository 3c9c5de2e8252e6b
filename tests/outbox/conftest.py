import pytest

from didportal.celery import app as celery_app


def reset_broker_pools():
    """Forget pooled broker connections, so the next publish connects to the new URL."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker():
    """Point the Celery app at another broker for one test: ``broker(url, options)``."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_transport_options

    def point(url, transport_options=None):
        conf.broker_url = url
        conf.broker_transport_options = transport_options or {}
        reset_broker_pools()

    yield point
    conf.broker_url, conf.broker_transport_options = saved
    reset_broker_pools()


@pytest.fixture(autouse=True)
def memory_broker(broker):
    """Publishes in these tests stay in this process (never the embedded mode's queue)."""
    broker("memory://")
