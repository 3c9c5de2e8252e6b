"""requirement_save (versions) and agreements_record (idempotent, checked, append-only)."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from compliance.models import Requirement, RequirementAgreement, RequirementVersion, text_sha256
from compliance.services import agreements_record, requirement_save
from tests.compliance.factories import RequirementFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TEXT = "German geographic numbers need an address in the area code's local network."


def _create(actor, **overrides):
    fields = dict(country="DE", number_type="local", title="Proof of address", text=TEXT)
    return requirement_save(actor=actor, **{**fields, **overrides})


# --- requirement_save -----------------------------------------------------------------------


def test_create_is_version_1_and_keeps_its_words(platform_admin):
    requirement = _create(platform_admin)
    assert (requirement.version, requirement.active) == (1, True)
    assert requirement.updated_by == platform_admin
    kept = RequirementVersion.objects.get(requirement=requirement)
    assert (kept.version, kept.title, kept.text) == (1, "Proof of address", TEXT)
    assert kept.text_sha256 == text_sha256(TEXT) and kept.created_by == platform_admin


def test_changing_text_or_title_raises_the_version_by_one(platform_admin):
    requirement = _create(platform_admin)
    requirement = requirement_save(
        actor=platform_admin, requirement=requirement, text=TEXT + " Recent bill."
    )
    assert requirement.version == 2
    requirement = requirement_save(
        actor=platform_admin, requirement=requirement, title="Local address"
    )
    assert requirement.version == 3
    assert list(requirement.versions.values_list("version", "title")) == [
        (3, "Local address"),
        (2, "Proof of address"),
        (1, "Proof of address"),
    ]
    assert requirement.versions.get(version=1).text == TEXT


def test_other_fields_and_unchanged_text_keep_the_version(platform_admin):
    requirement = _create(platform_admin)
    requirement = requirement_save(
        actor=platform_admin,
        requirement=requirement,
        internal_notes="Checked with the regulator",
        number_type="",
        active=False,
        # What a browser posts back for the same text: CRLF line ends, trailing blanks.
        text=TEXT + "  \r\n",
        title="Proof of address",
    )
    requirement.refresh_from_db()
    assert requirement.version == 1
    assert (requirement.internal_notes, requirement.number_type, requirement.active) == (
        "Checked with the regulator",
        "",
        False,
    )
    assert requirement.versions.count() == 1


def test_first_change_of_an_unversioned_requirement_keeps_the_old_words(platform_admin):
    requirement = RequirementFactory(text=TEXT)  # made before versions were kept
    requirement_save(actor=platform_admin, requirement=requirement, text="A new, longer text.")
    assert dict(requirement.versions.values_list("version", "text")) == {
        1: TEXT,
        2: "A new, longer text.",
    }


@pytest.mark.parametrize("role", ["platform_finance", "reseller_admin", "customer_admin"])
def test_only_platform_admins_save_requirements(role):
    user = UserFactory(role=role)
    with pytest.raises(PermissionDenied):
        _create(user)
    assert not Requirement.objects.exists()


def test_bad_values_name_the_field_and_save_nothing(platform_admin):
    requirement = _create(platform_admin)
    with pytest.raises(ValidationError) as caught:
        requirement_save(actor=platform_admin, requirement=requirement, text="  ", country="XX")
    assert {"text", "country"} <= set(caught.value.error_dict)
    requirement.refresh_from_db()
    assert (requirement.version, requirement.text, requirement.country.code) == (1, TEXT, "DE")
    assert requirement.versions.count() == 1


def test_duplicate_title_for_the_same_country_and_type_is_refused(platform_admin):
    _create(platform_admin)
    with pytest.raises(ValidationError, match="already exists"):
        _create(platform_admin)
    _create(platform_admin, number_type="mobile")  # another type may use the title
    assert Requirement.objects.count() == 2


def test_unknown_fields_are_a_programming_error(platform_admin):
    with pytest.raises(TypeError, match="version"):
        _create(platform_admin, version=7)


# --- agreements_record ----------------------------------------------------------------------


@pytest.fixture
def two_requirements(platform_admin):
    return [_create(platform_admin), _create(platform_admin, country="FR", title="Adresse")]


def _record(user, requirements, **kwargs):
    defaults = dict(order_id=41, ip_address="203.0.113.7")
    return agreements_record(
        user=user, account=user.account, requirements=requirements, **{**defaults, **kwargs}
    )


def test_records_who_what_version_order_when_and_where(customer_admin, two_requirements):
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    agreements = _record(customer_admin, two_requirements, now=now)
    assert [a.requirement for a in agreements] == two_requirements
    first = RequirementAgreement.objects.get(pk=agreements[0].pk)
    assert (first.user, first.account, first.requirement_version, first.order_id) == (
        customer_admin,
        customer_admin.account,
        1,
        41,
    )
    assert (first.agreed_at, first.ip_address) == (now, "203.0.113.7")
    assert (first.title, first.text_sha256) == ("Proof of address", text_sha256(TEXT))


def test_a_repeat_for_the_same_order_records_nothing_new(customer_admin, two_requirements):
    first = _record(customer_admin, two_requirements)
    again = _record(customer_admin, two_requirements + two_requirements[:1])  # dupes too
    assert [a.pk for a in again] == [a.pk for a in first]
    assert RequirementAgreement.objects.count() == 2
    _record(customer_admin, two_requirements, order_id=42)  # another order: recorded again
    assert RequirementAgreement.objects.count() == 4


def test_agreements_keep_their_version_when_the_text_changes(
    platform_admin, customer_admin, two_requirements
):
    agreement = _record(customer_admin, two_requirements[:1])[0]
    requirement_save(actor=platform_admin, requirement=two_requirements[0], text=TEXT + " Updated.")
    agreement.refresh_from_db()
    assert (agreement.requirement_version, agreement.text_sha256) == (1, text_sha256(TEXT))


def test_an_outdated_version_is_refused_and_nothing_is_recorded(
    platform_admin, customer_admin, two_requirements
):
    shown = Requirement.objects.get(pk=two_requirements[1].pk)  # as shown: version 1
    requirement_save(actor=platform_admin, requirement=shown, text=TEXT + " Now stricter.")
    with pytest.raises(ValidationError, match=r"Adresse.*now version 2"):
        _record(customer_admin, [two_requirements[0], shown])
    assert not RequirementAgreement.objects.exists()


def test_an_inactive_requirement_is_refused(platform_admin, customer_admin, two_requirements):
    requirement_save(actor=platform_admin, requirement=two_requirements[0], active=False)
    with pytest.raises(ValidationError, match="no longer applies"):
        _record(customer_admin, two_requirements)
    assert not RequirementAgreement.objects.exists()


def test_agreements_are_for_the_buyers_own_account(customer_admin, stranger, two_requirements):
    with pytest.raises(ValidationError):
        agreements_record(
            user=customer_admin,
            account=stranger.account,
            requirements=two_requirements,
            order_id=1,
            ip_address=None,
        )
    assert not RequirementAgreement.objects.exists()


def test_unversioned_requirement_gets_its_words_kept_on_first_agreement(customer_admin):
    requirement = RequirementFactory(text=TEXT)
    agreement = _record(customer_admin, [requirement])[0]
    assert agreement.text_sha256 == text_sha256(TEXT)
    assert requirement.versions.get(version=1).text == TEXT


@pytest.mark.parametrize("ip", ["", None, "not-an-ip", "999.1.1.1"])
def test_a_missing_or_malformed_ip_is_stored_as_none(customer_admin, two_requirements, ip):
    assert _record(customer_admin, two_requirements, ip_address=ip)[0].ip_address is None


def test_ipv6_is_kept(customer_admin, two_requirements):
    assert _record(customer_admin, two_requirements, ip_address="2001:db8::1")[0].ip_address == (
        "2001:db8::1"
    )


def test_nothing_to_agree_records_nothing(customer_admin):
    assert _record(customer_admin, []) == []
    assert not RequirementAgreement.objects.exists()


def test_without_an_order_a_repeat_is_still_recorded_once(customer_admin, two_requirements):
    _record(customer_admin, two_requirements, order_id=None)
    _record(customer_admin, two_requirements, order_id=None)
    assert RequirementAgreement.objects.filter(order_id__isnull=True).count() == 2


def test_every_required_requirement_must_be_agreed(customer_admin, two_requirements):
    with pytest.raises(ValidationError, match="Agree to “Adresse”"):
        _record(customer_admin, two_requirements[:1], required=two_requirements)
    assert not RequirementAgreement.objects.exists()
    agreements = _record(customer_admin, two_requirements, required=two_requirements)
    assert len(agreements) == 2


def test_nothing_required_and_nothing_agreed_is_fine(customer_admin):
    assert _record(customer_admin, [], required=[]) == []
