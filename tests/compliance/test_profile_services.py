"""Profile services: identities, addresses and documents — who may write them, the rules
each checks, what is frozen by a registration under review or approved, archiving."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError

from compliance import selectors_profile
from compliance.models import Address, Document, Identity
from compliance.services import profile
from tests.compliance.factories import (
    TINY_PDF,
    TINY_PNG,
    AddressFactory,
    DocumentFactory,
    IdentityFactory,
)
from tests.compliance.profile_helpers import document_storage, stored_files, submission_using
from tests.factories import AccountFactory, UserFactory, platform

__all__ = ["document_storage"]  # the fixture, used by name

pytestmark = pytest.mark.django_db

PERSON = {
    "kind": "personal",
    "first_name": " Marie ",
    "last_name": "Dupont",
    "birth_date": datetime.date(1985, 4, 12),
    "id_number": "X1234567",
    "country": "FR",
}


def errors_of(call):
    with pytest.raises(ValidationError) as caught:
        call()
    exc = caught.value
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


# --- who may write ------------------------------------------------------------------------------


def test_admins_and_members_of_the_account_write_its_identities(customer_admin, customer_member):
    account = customer_admin.account
    mine = profile.identity_save(account=account, actor=customer_admin, **PERSON)
    theirs = profile.identity_save(account=account, actor=customer_member, **PERSON)
    assert mine.account == theirs.account == account
    assert (mine.first_name, mine.created_by) == ("Marie", customer_admin)


@pytest.mark.parametrize("role", ["customer_billing"])
def test_a_billing_user_may_not(customer, role):
    user = UserFactory(account=customer, role=role)
    with pytest.raises(PermissionDenied):
        profile.identity_save(account=customer, actor=user, **PERSON)
    assert not Identity.objects.exists()


def test_a_stranger_a_reseller_and_staff_may_not_write_a_customers_profile(
    customer, stranger, platform_admin
):
    reseller = AccountFactory(kind="reseller")
    customer.parent = reseller
    customer.save()
    reseller_admin = UserFactory(account=reseller, role="reseller_admin")
    officer = UserFactory(account=platform(), role="platform_compliance")
    for user in (stranger, reseller_admin, platform_admin, officer):
        with pytest.raises(PermissionDenied):
            profile.identity_save(account=customer, actor=user, **PERSON)
        with pytest.raises(PermissionDenied):
            profile.address_save(
                account=customer,
                actor=user,
                line1="1 rue de Rivoli",
                city="Paris",
                postal_code="75001",
                country="FR",
            )
    identity = IdentityFactory(account=customer)
    with pytest.raises(PermissionDenied):
        profile.identity_archive(identity=identity, actor=reseller_admin)
    assert not Address.objects.exists()
    assert Identity.objects.get().archived_at is None


def test_a_reseller_admin_writes_its_own_accounts_profile(reseller_admin):
    identity = profile.identity_save(
        account=reseller_admin.account,
        actor=reseller_admin,
        kind="business",
        company_name="Reseller SAS",
        company_number="123 456 789",
        country="FR",
    )
    assert identity.kind == "business"


# --- identities -----------------------------------------------------------------------------------


def test_identity_rules_by_field(customer_admin):
    account = customer_admin.account

    def save(**fields):
        return errors_of(
            lambda: profile.identity_save(account=account, actor=customer_admin, **fields)
        )

    assert save(kind="personal", country="FR") == {
        "first_name": ["Enter the person's first name."],
        "last_name": ["Enter the person's last name."],
    }
    assert save(kind="business", country="FR") == {
        "company_name": ["Enter the business's registered name."]
    }
    assert save(kind="robot", country="FR")["kind"]
    assert save(**{**PERSON, "country": "ZZ"}) == {"country": ["Choose a country."]}
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    assert save(**{**PERSON, "birth_date": tomorrow}) == {
        "birth_date": ["The date of birth is in the future."]
    }
    assert save(**{**PERSON, "id_number": "x" * 65})["id_number"]
    assert not Identity.objects.exists()


def test_a_business_keeps_no_birth_date_and_a_person_no_company(customer_admin):
    account = customer_admin.account
    business = profile.identity_save(
        account=account,
        actor=customer_admin,
        kind="business",
        company_name="Acme GmbH",
        birth_date=datetime.date(1990, 1, 1),
        country="DE",
    )
    person = profile.identity_save(
        account=account, actor=customer_admin, company_name="Acme", **PERSON
    )
    assert business.birth_date is None
    assert person.company_name == ""


def test_editing_changes_the_same_row(customer_admin):
    account = customer_admin.account
    identity = profile.identity_save(account=account, actor=customer_admin, **PERSON)
    edited = profile.identity_save(
        account=account,
        actor=customer_admin,
        identity=identity,
        **{**PERSON, "last_name": "Martin"},
    )
    assert edited.pk == identity.pk
    assert Identity.objects.get().last_name == "Martin"


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("submitted", "is part of a registration awaiting review"),
        ("approved", "is part of an approved registration"),
    ],
)
def test_an_identity_under_review_or_approved_is_frozen(customer_admin, status, words):
    identity = IdentityFactory(account=customer_admin.account)
    submission_using(customer_admin.account, status, identity=identity)
    messages = errors_of(
        lambda: profile.identity_save(
            account=customer_admin.account,
            actor=customer_admin,
            identity=identity,
            **{**PERSON, "last_name": "Changed"},
        )
    )["__all__"]
    assert words in messages[0]
    assert Identity.objects.get().last_name == "Dupont"


@pytest.mark.parametrize("status", ["rejected", "draft"])
def test_an_identity_of_a_rejected_or_draft_registration_may_be_fixed(customer_admin, status):
    identity = IdentityFactory(account=customer_admin.account)
    submission_using(customer_admin.account, status, identity=identity)
    profile.identity_save(
        account=customer_admin.account,
        actor=customer_admin,
        identity=identity,
        **{**PERSON, "last_name": "Fixed"},
    )
    assert Identity.objects.get().last_name == "Fixed"


def test_archiving_hides_from_choices_and_keeps_the_row(customer_admin):
    account = customer_admin.account
    identity = IdentityFactory(account=account)
    profile.identity_archive(identity=identity, actor=customer_admin)
    profile.identity_archive(identity=identity, actor=customer_admin)  # twice: no change
    identity.refresh_from_db()
    assert identity.archived_at is not None
    assert list(selectors_profile.identity_choices(account)) == []
    assert list(selectors_profile.identities_of(customer_admin, archived=True)) == [identity]
    assert errors_of(
        lambda: profile.identity_save(
            account=account, actor=customer_admin, identity=identity, **PERSON
        )
    )["__all__"] == [f"“{identity}” is archived: it cannot be changed."]


def test_archiving_waits_for_the_review_but_not_for_an_approval(customer_admin):
    account = customer_admin.account
    in_review, approved = IdentityFactory(account=account), IdentityFactory(account=account)
    submission_using(account, "submitted", identity=in_review)
    submission_using(account, "approved", identity=approved)
    assert (
        "awaiting review"
        in errors_of(lambda: profile.identity_archive(identity=in_review, actor=customer_admin))[
            "__all__"
        ][0]
    )
    profile.identity_archive(identity=approved, actor=customer_admin)
    assert Identity.objects.filter(archived_at__isnull=False).get() == approved


# --- addresses ------------------------------------------------------------------------------------


def address(user, **fields):
    return profile.address_save(account=user.account, actor=user, **fields)


def test_an_address_is_checked_for_its_country(customer_admin):
    def problems(**fields):
        return errors_of(lambda: address(customer_admin, **fields))

    assert problems(line1="1 rue de Rivoli", city="Paris", postal_code="7500", country="FR") == {
        "postal_code": ["“7500” is not a postal code used in France (for example 33380 or 34092)."]
    }
    assert problems(line1="1 rue de Rivoli", city="Paris", postal_code="", country="FR") == {
        "postal_code": ["Enter the postal code: addresses in France need one."]
    }
    assert problems(
        line1="1600 Amphitheatre Pkwy",
        city="Mountain View",
        postal_code="94043",
        region="Narnia",
        country="US",
    ) == {
        "region": [
            "“Narnia” is not a state of United States of America (for example Alabama or Alaska)."
        ]
    }
    assert problems(line1="", city="", postal_code="10115", country="DE") == {
        "line1": ["Enter the street address."],
        "city": ["Enter the city."],
    }
    assert problems(line1="x", city="y", country="") == {
        "country": ["Choose the country of the address."]
    }
    assert not Address.objects.exists()


def test_an_address_is_stored_in_its_countrys_standard_form(customer_admin):
    us = address(
        customer_admin,
        line1="1600  Amphitheatre Pkwy",
        city="Mountain View",
        postal_code="94043",
        region="california",
        country="US",
    )
    gb = address(
        customer_admin, line1="10 Downing St", city="London", postal_code="sw1a 2aa", country="GB"
    )
    fr = address(
        customer_admin,
        line1="1 rue de Rivoli",
        city="Paris",
        postal_code="75001",
        region="Île-de-France",  # France's addresses have no region line: dropped
        country="FR",
    )
    assert (us.line1, us.region, us.city) == ("1600 Amphitheatre Pkwy", "CA", "Mountain View")
    assert gb.postal_code == "SW1A 2AA"
    assert fr.region == ""


def test_an_address_under_review_is_frozen_and_a_rejected_one_may_be_fixed(customer_admin):
    account = customer_admin.account
    frozen, fixable = AddressFactory(account=account), AddressFactory(account=account)
    submission_using(account, "submitted", address=frozen)
    submission_using(account, "rejected", address=fixable)
    fields = {"line1": "Marienplatz 8", "city": "München", "postal_code": "80331", "country": "DE"}
    assert (
        "awaiting review"
        in errors_of(lambda: address(customer_admin, address=frozen, **fields))["__all__"][0]
    )
    assert address(customer_admin, address=fixable, **fields).line1 == "Marienplatz 8"
    assert Address.objects.get(pk=frozen.pk).line1 == "12 Marienplatz"


def test_address_archive(customer_admin):
    account = customer_admin.account
    row = AddressFactory(account=account)
    profile.address_archive(address=row, actor=customer_admin)
    assert list(selectors_profile.address_choices(account)) == []


# --- documents ------------------------------------------------------------------------------------


def pdf(name="passport.pdf", content=TINY_PDF):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_an_upload_is_stored_privately_under_a_random_name(customer_admin, document_storage):
    identity = IdentityFactory(account=customer_admin.account)
    document = profile.document_upload(
        account=customer_admin.account,
        actor=customer_admin,
        kind="identity",
        file=pdf("Marie Dupont passport.pdf"),
        identity=identity,
    )
    document.refresh_from_db()
    assert document.original_name == "Marie Dupont passport.pdf"
    assert (document.content_type, document.size) == ("application/pdf", len(TINY_PDF))
    assert document.identity == identity and document.uploaded_by == customer_admin
    assert "Dupont" not in document.file.name and "passport" not in document.file.name
    with document.file.open("rb") as handle:
        assert handle.read() == TINY_PDF
    assert document_storage.base_url is None
    with pytest.raises(ValueError, match="no public URL"):
        document.file.url  # noqa: B018


def test_a_refused_upload_stores_nothing(customer_admin, document_storage):
    problems = errors_of(
        lambda: profile.document_upload(
            account=customer_admin.account,
            actor=customer_admin,
            kind="address",
            file=pdf("bill.pdf", TINY_PNG),
        )
    )
    assert problems == {
        "file": ["The file is named .pdf but is a PNG image: rename it or upload the right file."]
    }
    assert not Document.objects.exists()
    assert stored_files(document_storage) == []


def test_a_failed_database_write_removes_the_stored_file(
    customer_admin, document_storage, monkeypatch
):
    def broken_save(self, *args, **kwargs):
        raise DatabaseError("database went away")

    monkeypatch.setattr(Document, "save", broken_save)
    with pytest.raises(DatabaseError):
        profile.document_upload(
            account=customer_admin.account, actor=customer_admin, kind="identity", file=pdf()
        )
    assert stored_files(document_storage) == []


def test_an_upload_names_only_the_accounts_own_live_identity_and_address(
    customer_admin, stranger, document_storage
):
    foreign = IdentityFactory(account=stranger.account)
    archived = AddressFactory(
        account=customer_admin.account, archived_at=datetime.datetime.now(datetime.UTC)
    )
    for extra, field in ((dict(identity=foreign), "identity"), (dict(address=archived), "address")):
        problems = errors_of(
            lambda extra=extra: profile.document_upload(
                account=customer_admin.account,
                actor=customer_admin,
                kind="identity",
                file=pdf(),
                **extra,
            )
        )
        assert list(problems) == [field]
    assert errors_of(
        lambda: profile.document_upload(
            account=customer_admin.account, actor=customer_admin, kind="selfie", file=pdf()
        )
    ) == {"kind": ["Choose what the document proves."]}
    assert not Document.objects.exists() and stored_files(document_storage) == []


def test_a_stranger_may_not_upload_into_an_account(customer, stranger, document_storage):
    with pytest.raises(PermissionDenied):
        profile.document_upload(account=customer, actor=stranger, kind="identity", file=pdf())
    assert stored_files(document_storage) == []


def test_a_document_under_review_is_not_archived(customer_admin, document_storage):
    account = customer_admin.account
    document = DocumentFactory(account=account)
    submission = submission_using(account, "submitted", documents=[document])
    assert (
        "awaiting review"
        in errors_of(lambda: profile.document_archive(document=document, actor=customer_admin))[
            "__all__"
        ][0]
    )
    submission.status = "rejected"
    submission.decided_at = submission.submitted_at
    submission.rejection_reasons = ["unreadable"]
    submission.save()
    profile.document_archive(document=document, actor=customer_admin)
    assert list(selectors_profile.document_choices(account)) == []
    assert Document.objects.get().file.name == document.file.name  # the file stays
