import pytest
from django.core.exceptions import ValidationError

from inventory.models import DID
from inventory.services import dids_add
from tests.inventory.factories import DIDFactory

pytestmark = pytest.mark.django_db


def test_adds_a_range_with_history(block, platform_admin):
    added = dids_add(
        block=block,
        spec_text="5550000-5550099",
        actor=platform_admin,
        tag="batch-1",
        after_hold_status="archive",
    )
    assert added == 100
    dids = DID.objects.filter(block=block)
    assert dids.count() == 100
    did = dids.get(number="+31205550042")
    assert (did.status, did.after_hold_status, did.tag) == ("in_stock", "archive", "batch-1")
    record = did.history.get()
    assert (record.number, record.block_id, record.status, record.tag) == (
        did.number,
        block.pk,
        "in_stock",
        "batch-1",
    )
    assert record.history_date == did.created_at
    assert record.history_type == "+"
    assert record.history_user == platform_admin
    assert record.history_change_reason == "numbers added"


def test_an_existing_number_rejects_the_whole_request(block, platform_admin):
    DIDFactory(block=block, number="+31205550050")
    with pytest.raises(ValidationError) as exc_info:
        dids_add(block=block, spec_text="5550000-5550099", actor=platform_admin)
    assert exc_info.value.messages == ["Already in stock, nothing was added: +31205550050."]
    assert DID.objects.count() == 1
    assert DID.history.count() == 1  # only the factory's own row


def test_existing_numbers_are_listed_up_to_ten(block, platform_admin):
    for n in range(15):
        DIDFactory(block=block, number=f"+312055500{n:02d}")
    with pytest.raises(ValidationError, match="\\+31205550009 and more"):
        dids_add(block=block, spec_text="5550000-5550099", actor=platform_admin)


def test_a_bad_line_saves_nothing(block, platform_admin):
    with pytest.raises(ValidationError, match="Line 2"):
        dids_add(block=block, spec_text="5550000-5550099\n+442079460000", actor=platform_admin)
    assert not DID.objects.exists()


def test_new_numbers_cannot_start_active(block, platform_admin):
    with pytest.raises(ValidationError):
        dids_add(block=block, spec_text="5550000", actor=platform_admin, status="active")


def test_numbers_can_be_added_reserved(block, platform_admin):
    dids_add(block=block, spec_text="5550000", actor=platform_admin, status="reserved")
    assert DID.objects.get().status == "reserved"


def test_a_job_signs_the_history(block):
    dids_add(block=block, spec_text="5550000", actor=None, job="import")
    assert DID.history.get().history_change_reason == "import: numbers added"
