import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory import bulk
from inventory.models import DID


@pytest.mark.django_db
def test_copying_an_existing_number_raises_django_integrity_error(block):
    now = timezone.now()
    template = DID(block=block, status="in_stock", tag="a\ttab", created_at=now, updated_at=now)
    bulk.insert_dids(template, ["+31205550000", "+31205550001"])
    assert DID.objects.get(number="+31205550001").tag == "a\ttab"
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_dids(template, ["+31205550002", "+31205550001"])
    assert not DID.objects.filter(number="+31205550002").exists()
