"""Schemathesis fuzzes the whole /v3/ OpenAPI document against a live server, with a real
full-access key and a little data (a number, an order, a reservation and an export of the
key's account): for every operation it sends generated requests, valid and invalid, some
with the ids of real objects, and requires no server error and every answer as the
document says (status code, content type, headers, body).

Bounded: ``API_FUZZ_EXAMPLES`` requests per operation and mode (25 by default), no
shrinking (a failure is reported as found). The operations are read from the document, so
endpoints added later are fuzzed when they merge; the examples in ``tests/api/examples.py``
show that, and that a crashing or misdescribed endpoint fails the run.
"""

import os
import re
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from api.throttling import PerKeyRateThrottle
from tests.api.test_api_tenancy import MAKERS, make_world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]
OWNER = "A's customer"  # a reseller's customer: the longest price chain


def fuzz(base_url, secret, ids, max_examples=EXAMPLES):
    """Fuzzes every operation of the document at ``base_url``; returns ``(failures,
    requests, statuses)``: the first failure per operation (its message), how many requests
    each operation was sent, and how many answers had each status. ``ids`` maps a path
    segment (``dids``) to a real object's id, put into half of the generated paths."""
    schema = schemathesis.openapi.from_url(f"{base_url}/v3/openapi.json")
    failures, requests, statuses = {}, Counter(), Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in _modes(operation):
            run = _runner(operation, mode, base_url, secret, ids, max_examples, requests, statuses)
            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 (the result)
                failures.setdefault(operation.label, f"{mode}: {exc}"[:4000])
    return failures, requests, statuses


def _runner(operation, mode, base_url, secret, ids, max_examples, requests, statuses):
    known = _known_id(operation.path, ids)

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode), use_known=st.booleans())
    def run(case, use_known):
        if use_known and known and case.path_parameters:
            name, value = known
            case.path_parameters[name] = value
        # the real key always (invalid requests mutate the document's Api-Key header too,
        # which would test only the 401, and count as a brute-forcing address)
        case.headers = {**(case.headers or {}), "Api-Key": secret}
        response = case.call(base_url=base_url, timeout=30)
        requests[operation.label] += 1
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    return run


def _modes(operation):
    """Invalid requests too where there is something to make invalid."""
    definition = operation.definition.raw
    if definition.get("parameters") or definition.get("requestBody"):
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


def _known_id(path, ids):
    found = re.search(r"/([\w.-]+)/\{(\w+)\}", path)
    if found and found.group(1) in ids:
        return found.group(2), ids[found.group(1)]
    return None


@pytest.fixture
def unthrottled(monkeypatch):
    """The fuzzer sends more than a key's per-minute allowance; 429 is documented, but a
    run of 429s would test nothing else."""
    monkeypatch.setattr(PerKeyRateThrottle, "allow_request", lambda self, request, view: True)


@pytest.fixture
def seeded():
    """The owner's world: a rented number, an order, a reservation and an export, and
    its full-access key's secret."""
    world = make_world()
    ids = {
        "dids": MAKERS["did"](world, OWNER),
        "orders": MAKERS["order"](world, OWNER),
        "did_reservations": MAKERS["did_reservation"](world, OWNER),
        "exports": MAKERS["export"](world, OWNER),
    }
    return world.key(OWNER)[1], ids


def test_every_v3_operation_survives_the_fuzzer(live_server, unthrottled, seeded):
    secret, ids = seeded
    failures, requests, statuses = fuzz(live_server.url, secret, ids)
    assert not failures, "\n\n".join(f"{op}\n{message}" for op, message in failures.items())
    assert requests["GET /v3/balance"] > 0
    assert statuses[200] > 0 and statuses[401] == 0  # the real key, always


@pytest.fixture
def examples_routed(settings):
    settings.ROOT_URLCONF = "tests.api.urlconfs.examples"


def test_endpoints_added_later_are_fuzzed_too(live_server, unthrottled, seeded, examples_routed):
    secret, ids = seeded
    ids = {"example_numbers": ids["dids"], "example_exports": ids["exports"]}
    failures, requests, statuses = fuzz(live_server.url, secret, ids, max_examples=15)
    assert not failures, "\n\n".join(f"{op}\n{message}" for op, message in failures.items())
    for label in (
        "GET /v3/example_numbers",
        "GET /v3/example_numbers/{id}",
        "PATCH /v3/example_numbers/{id}",
        "DELETE /v3/example_numbers/{id}",
        "POST /v3/example_exports",
        "GET /v3/example_exports/{id}/download",
    ):
        assert requests[label] >= 15, requests
    # real objects were reached, invalid requests refused, a business rule said no
    assert statuses[200] and statuses[404] and statuses[400] and statuses[422], statuses
    assert statuses[401] == 0, statuses


@pytest.mark.parametrize(
    ("urlconf", "check"),
    [
        ("tests.api.urlconfs.crashing", "Server error"),
        ("tests.api.urlconfs.misdescribed", "Response violates schema"),
    ],
)
def test_the_fuzzer_fails_a_crashing_or_misdescribed_endpoint(
    live_server, unthrottled, seeded, settings, urlconf, check
):
    settings.ROOT_URLCONF = urlconf
    secret, ids = seeded
    failures, _requests, _statuses = fuzz(
        live_server.url, secret, {"example_numbers": ids["dids"]}, 15
    )
    assert set(failures) >= {"GET /v3/example_numbers"}, failures
    assert check in failures["GET /v3/example_numbers"]
