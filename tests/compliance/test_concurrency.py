"""A checkout retried concurrently records each agreement once (real PostgreSQL commits)."""

import pytest

from compliance.models import RequirementAgreement, RequirementVersion
from compliance.services import agreements_record
from tests.compliance.factories import RequirementFactory
from tests.concurrency import run_in_threads
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_repeats_for_one_order_record_each_agreement_once():
    buyer = UserFactory(role="customer_admin")
    # Made without versions, so every thread also races to keep version 1's words.
    requirements = [RequirementFactory(country="DE"), RequirementFactory(country="FR")]

    def record(i):
        rows = agreements_record(
            user=buyer,
            account=buyer.account,
            requirements=requirements,
            order_id=7,
            ip_address=f"198.51.100.{i + 1}",
        )
        return [row.pk for row in rows]

    results = run_in_threads(record, count=12)

    assert all(isinstance(r, list) for r in results), results
    assert len({tuple(r) for r in results}) == 1  # every caller got the same two rows
    assert RequirementAgreement.objects.filter(order_id=7).count() == 2
    assert RequirementVersion.objects.count() == 2
