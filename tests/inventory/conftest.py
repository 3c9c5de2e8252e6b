import pytest
from django.utils import timezone

from tests.inventory.factories import DIDFactory, NumberBlockFactory


@pytest.fixture
def block(db):
    return NumberBlockFactory()


@pytest.fixture
def make_did(block, customer):
    """A DID put straight into ``status`` (bypassing services), owned when the status needs it."""

    def make(status="in_stock", **fields):
        if status in ("active", "hold", "awaiting_registration"):
            fields.setdefault("owner", customer)
            fields.setdefault("ever_sold", True)
        if status == "hold":
            fields.setdefault("hold_started_at", timezone.now())
        return DIDFactory(block=block, status=status, **fields)

    return make
