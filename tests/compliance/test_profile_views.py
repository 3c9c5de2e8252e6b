"""Compliance profile pages: who reaches them, forms with their errors, ``next``, archive
confirmations, uploads refused with their reason, and the one way to open a stored file."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from compliance.models import Address, Document, Identity
from tests.compliance.factories import (
    TINY_PDF,
    TINY_PNG,
    AddressFactory,
    DocumentFactory,
    IdentityFactory,
)
from tests.compliance.profile_helpers import document_storage, stored_files, submission_using
from tests.factories import AccountFactory, UserFactory, platform

__all__ = ["document_storage"]

pytestmark = pytest.mark.django_db

PAGES = [
    "compliance:profile",
    "compliance:identities",
    "compliance:identity_create",
    "compliance:addresses",
    "compliance:address_create",
    "compliance:documents",
    "compliance:document_upload",
]


def login(client, user):
    client.force_login(user)
    return client


# --- who reaches the pages ----------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_providers_open_the_profile_pages(
    client, customer_admin, customer_member, reseller_admin, name
):
    for user in (customer_admin, customer_member, reseller_admin):
        assert login(client, user).get(reverse(name)).status_code == 200


@pytest.mark.parametrize(
    "role",
    [
        "customer_billing",
        "platform_admin",
        "platform_compliance",
        "platform_finance",
        "reseller_support",
        "reseller_finance",
    ],
)
def test_other_roles_are_refused(client, role):
    kind = role.split("_")[0]
    account = platform() if kind == "platform" else AccountFactory(kind=kind)
    user = UserFactory(account=account, role=role)
    for name in PAGES:
        assert login(client, user).get(reverse(name)).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("compliance:profile"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def _object_urls(identity, address, document):
    return [
        reverse("compliance:identity_edit", args=[identity.pk]),
        reverse("compliance:identity_archive", args=[identity.pk]),
        reverse("compliance:address_edit", args=[address.pk]),
        reverse("compliance:address_archive", args=[address.pk]),
        reverse("compliance:document_archive", args=[document.pk]),
        reverse("compliance:document_file", args=[document.pk]),
    ]


def test_another_accounts_rows_are_404_even_to_its_reseller(client, document_storage):
    reseller = AccountFactory(kind="reseller")
    customer = AccountFactory(parent=reseller)
    owner = UserFactory(account=customer, role="customer_member")
    rows = (
        IdentityFactory(account=customer),
        AddressFactory(account=customer),
        DocumentFactory(account=customer),
    )
    urls = _object_urls(*rows)
    for url in urls:
        assert login(client, owner).get(url).status_code == 200, url
    for outsider in (
        UserFactory(role="customer_admin"),  # a stranger
        UserFactory(account=reseller, role="reseller_admin"),  # the customer's own reseller
    ):
        for url in urls:
            assert login(client, outsider).get(url).status_code == 404, url
            assert login(client, outsider).post(url).status_code == 404, url
    assert not Identity.objects.filter(archived_at__isnull=False).exists()


def test_the_lists_show_only_the_accounts_own_rows(client, customer_admin, stranger):
    IdentityFactory(account=customer_admin.account, first_name="Mine")
    IdentityFactory(account=stranger.account, first_name="Theirs")
    page = login(client, customer_admin).get(reverse("compliance:identities")).content.decode()
    assert "Mine Dupont" in page and "Theirs" not in page


def test_empty_states(client, customer_admin):
    page = login(client, customer_admin).get(reverse("compliance:profile")).content.decode()
    assert "No identity yet" in page and "No address yet" in page and "No document yet" in page
    page = client.get(reverse("compliance:documents") + "?archived=1").content.decode()
    assert "Nothing archived." in page


def test_lists_are_paginated_and_odd_query_strings_do_no_harm(client, customer_admin):
    for n in range(25):
        IdentityFactory(account=customer_admin.account, first_name=f"P{n:02}")
    login(client, customer_admin)
    first = client.get(reverse("compliance:identities")).content.decode()
    assert "Page 1 of 2" in first
    for query in (
        "?page=0",
        "?page=abc",
        "?page=99",
        "?archived=maybe",
        "?page=%00",
        "?archived=1&page=-1",
    ):
        assert client.get(reverse("compliance:identities") + query).status_code == 200


# --- identities and addresses: forms -----------------------------------------------------------


def test_adding_an_identity(client, customer_admin):
    login(client, customer_admin)
    response = client.post(
        reverse("compliance:identity_create"),
        {
            "kind": "business",
            "company_name": "Acme SARL",
            "company_number": "552 100 554",
            "country": "FR",
        },
    )
    identity = Identity.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("compliance:identities")
    assert (identity.account, identity.company_name) == (customer_admin.account, "Acme SARL")


def test_identity_errors_are_shown_on_their_fields(client, customer_admin):
    login(client, customer_admin)
    response = client.post(
        reverse("compliance:identity_create"),
        {"kind": "personal", "first_name": "Marie", "country": "FR", "birth_date": "not a date"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "birth_date" in form.errors  # the form's own parse
    response = client.post(
        reverse("compliance:identity_create"),
        {"kind": "personal", "first_name": "Marie", "country": "FR"},
    )
    assert response.context["form"].errors == {"last_name": ["Enter the person's last name."]}
    assert not Identity.objects.exists()


def test_address_errors_name_the_field_and_the_countrys_rule(client, customer_admin):
    login(client, customer_admin)
    response = client.post(
        reverse("compliance:address_create"),
        {"line1": "Marienplatz 8", "city": "München", "postal_code": "8033", "country": "DE"},
    )
    assert response.context["form"].errors == {
        "postal_code": ["“8033” is not a postal code used in Germany (for example 26133 or 53225)."]
    }
    assert "Postal code, e.g. 26133" in response.content.decode()
    assert not Address.objects.exists()


def test_next_brings_people_back_with_the_new_rows_id(client, customer_admin):
    login(client, customer_admin)
    back = "/compliance/registrations/7/?tab=x#identity"
    response = client.post(
        reverse("compliance:identity_create") + f"?next={back}",
        {
            "kind": "personal",
            "first_name": "Ann",
            "last_name": "Lee",
            "country": "GB",
            "next": back,
        },
    )
    identity = Identity.objects.get()
    assert (
        response["Location"]
        == f"/compliance/registrations/7/?tab=x&identity={identity.pk}#identity"
    )


@pytest.mark.parametrize(
    "evil",
    ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "http:///evil.example"],
)
def test_an_unsafe_next_is_ignored(client, customer_admin, evil):
    login(client, customer_admin)
    page = client.get(reverse("compliance:address_create"), {"next": evil}).content.decode()
    assert "evil.example" not in page and "javascript:" not in page
    response = client.post(
        reverse("compliance:address_create"),
        {
            "line1": "Marienplatz 8",
            "city": "München",
            "postal_code": "80331",
            "country": "DE",
            "next": evil,
        },
    )
    assert response["Location"] == reverse("compliance:addresses")


def test_a_frozen_identity_shows_why_and_refuses_changes(client, customer_admin):
    identity = IdentityFactory(account=customer_admin.account)
    submission_using(customer_admin.account, "approved", identity=identity)
    login(client, customer_admin)
    url = reverse("compliance:identity_edit", args=[identity.pk])
    page = client.get(url).content.decode()
    assert "part of an approved registration, so it is locked" in page
    assert "Save changes" not in page
    response = client.post(
        url, {"kind": "personal", "first_name": "X", "last_name": "Y", "country": "FR"}
    )
    assert response.status_code == 200
    assert "cannot be changed" in str(response.context["form"].non_field_errors())
    assert Identity.objects.get().first_name == "Marie"


def test_archive_asks_first_then_archives(client, customer_member):
    address = AddressFactory(account=customer_member.account)
    login(client, customer_member)
    url = reverse("compliance:address_archive", args=[address.pk])
    page = client.get(url).content.decode()
    assert "Archive this address?" in page
    assert Address.objects.get().archived_at is None  # the question changes nothing
    response = client.post(url)
    assert response["Location"] == reverse("compliance:addresses")
    assert Address.objects.get().archived_at is not None


def test_archiving_a_document_under_review_says_why_not(client, customer_admin, document_storage):
    document = DocumentFactory(account=customer_admin.account)
    submission_using(customer_admin.account, "submitted", documents=[document])
    login(client, customer_admin)
    url = reverse("compliance:document_archive", args=[document.pk])
    assert "can be archived once the review is done" in client.get(url).content.decode()
    response = client.post(url, follow=True)
    assert "awaiting review" in response.content.decode()
    assert Document.objects.get().archived_at is None


# --- uploads ------------------------------------------------------------------------------------


def upload(client, content, name, **extra):
    return client.post(
        reverse("compliance:document_upload") + extra.pop("query", ""),
        {"kind": "identity", "file": SimpleUploadedFile(name, content), **extra},
    )


def test_uploading_a_pdf(client, customer_admin, document_storage):
    login(client, customer_admin)
    identity = IdentityFactory(account=customer_admin.account)
    response = upload(client, TINY_PDF, "passport.pdf", identity=identity.pk)
    document = Document.objects.get()
    assert response["Location"] == reverse("compliance:documents")
    assert (document.identity, document.content_type) == (identity, "application/pdf")
    assert len(stored_files(document_storage)) == 1


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (b"", "empty.pdf", "The file is empty (0 bytes)."),
        (TINY_PNG, "scan.pdf", "The file is named .pdf but is a PNG image"),
        (b"GIF89a....", "cat.gif", "Upload a PDF, JPEG or PNG file: it is a GIF image."),
        (b"%PDF-1.7 broken", "x.pdf", "cannot be read as one"),
    ],
)
def test_refused_uploads_say_why_and_store_nothing(
    client, customer_admin, document_storage, content, name, reason
):
    login(client, customer_admin)
    response = upload(client, content, name)
    assert response.status_code == 200
    assert reason in " ".join(response.context["form"].errors["file"])
    assert not Document.objects.exists() and stored_files(document_storage) == []


def test_an_upload_over_the_cap_is_refused(client, customer_admin, document_storage, settings):
    settings.COMPLIANCE_DOCUMENT_MAX_BYTES = 100
    login(client, customer_admin)
    response = upload(client, TINY_PDF, "passport.pdf")
    assert "The file is larger than 100" in response.content.decode()


def test_an_upload_naming_another_accounts_identity_is_refused(
    client, customer_admin, stranger, document_storage
):
    login(client, customer_admin)
    foreign = IdentityFactory(account=stranger.account)
    response = upload(client, TINY_PDF, "passport.pdf", identity=foreign.pk)
    assert response.context["form"].errors == {"identity": ["Choose one of your own identities."]}
    assert not Document.objects.exists()


def test_the_upload_form_starts_with_what_the_query_string_asks(client, customer_admin):
    login(client, customer_admin)
    address = AddressFactory(account=customer_admin.account)
    form = client.get(
        reverse("compliance:document_upload"), {"kind": "address", "address": address.pk}
    ).context["form"]
    assert (form.initial["kind"], form.initial["address"]) == ("address", address.pk)
    for odd in ({"kind": "selfie"}, {"identity": "abc"}, {"address": "99999999999999999999999"}):
        assert client.get(reverse("compliance:document_upload"), odd).status_code == 200


class RandomUploads(HypothesisTestCase):
    """Whatever bytes and name are posted, the page answers (refusal or success), never 500."""

    @hsettings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        prefix=st.sampled_from([b"", b"%PDF-1.4\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"]),
        body=st.binary(max_size=600),
        name=st.text(min_size=1, max_size=40).filter(lambda s: s.strip("\x00/\\. ")),
        kind=st.sampled_from(["identity", "address", "company", "other", "nope", ""]),
    )
    def test_never_a_server_error(self, prefix, body, name, kind):
        from django.test import Client

        user = UserFactory(role="customer_admin")
        client = Client(raise_request_exception=False)
        client.force_login(user)
        response = client.post(
            reverse("compliance:document_upload"),
            {"kind": kind, "file": SimpleUploadedFile(name, prefix + body)},
        )
        assert response.status_code in (200, 302)


# --- opening a stored file ----------------------------------------------------------------------


def test_the_file_is_served_sandboxed_uncached_and_not_sniffed(
    client, customer_admin, document_storage
):
    document = DocumentFactory(account=customer_admin.account, original_name="Mon passeport.pdf")
    login(client, customer_admin)
    url = reverse("compliance:document_file", args=[document.pk])
    response = client.get(url)
    assert b"".join(response.streaming_content) == TINY_PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Mon" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    inline = client.get(url, {"inline": "1"})
    assert inline["Content-Disposition"].startswith("inline;")
    assert client.get(url, {"inline": "\x00"}).status_code == 200  # odd input: a download


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("customer_admin", 200),
        ("customer_member", 200),
        ("customer_billing", 403),
        ("platform_compliance", 200),
        ("platform_admin", 200),
        ("platform_finance", 403),
    ],
)
def test_who_opens_a_customers_document(client, customer, document_storage, role, status):
    document = DocumentFactory(account=customer)
    account = platform() if role.startswith("platform") else customer
    login(client, UserFactory(account=account, role=role))
    response = client.get(reverse("compliance:document_file", args=[document.pk]))
    assert response.status_code == status


def test_a_stored_file_has_no_public_address(client, customer_admin, document_storage):
    document = DocumentFactory(account=customer_admin.account)
    name = document.file.name
    assert document_storage.base_url is None
    for user in (None, customer_admin):
        if user:
            login(client, user)
        for guess in (
            f"/media/{name}",
            f"/static/{name}",
            f"/{name}",
            f"/var/private/compliance/{name}",
            f"/private/compliance/{name}",
        ):
            assert client.get(guess).status_code == 404, guess


def test_a_missing_file_is_a_404_not_an_error(client, customer_admin, document_storage):
    document = DocumentFactory(account=customer_admin.account)
    document_storage.delete(document.file.name)
    login(client, customer_admin)
    assert client.get(reverse("compliance:document_file", args=[document.pk])).status_code == 404


def test_list_pages_cost_the_same_queries_for_many_rows(client, customer_admin, document_storage):
    account = customer_admin.account
    login(client, customer_admin)

    def queries_for(name):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(name)).status_code == 200
        return len(captured)

    identity, address = IdentityFactory(account=account), AddressFactory(account=account)
    DocumentFactory(account=account, identity=identity, address=address)
    few = {name: queries_for(name) for name in ("compliance:profile", "compliance:documents")}
    for _ in range(6):
        extra_identity = IdentityFactory(account=account)
        extra_address = AddressFactory(account=account)
        DocumentFactory(account=account, identity=extra_identity, address=extra_address)
    many = {name: queries_for(name) for name in few}
    assert many == few
