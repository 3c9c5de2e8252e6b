"""The requirements console: what a registration needs (edited by admins, read by compliance
officers), its consistency rules on the form and in the service, and the list's summary."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from compliance.forms import RequirementForm
from compliance.models import Requirement
from compliance.needs import needs_lines
from compliance.services import requirement_save
from tests.billing.factories import fund
from tests.compliance.conftest import buy
from tests.compliance.factories import RequirementFactory
from tests.factories import AccountFactory, UserFactory, platform
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db

POST = {
    "country": "FR",
    "number_type": "local",
    "area": "",
    "title": "French geographic numbers",
    "text": "French geographic numbers need the end user's identity and an address in France.",
    "identity_type": "",
    "address_scope": "",
    "identity_proofs": "0",
    "address_proofs": "0",
    "company_proofs": "0",
    "other_proofs": "0",
    "deadline_days": "30",
    "internal_notes": "",
}


def form(instance=None, **changes):
    data = {**POST, **changes}
    return RequirementForm(data, instance=instance)


def saved(admin, **changes):
    """A requirement saved through the console's form and service."""
    bound = form(**changes)
    assert bound.is_valid(), bound.errors
    return requirement_save(actor=admin, **bound.cleaned_data)


@pytest.fixture
def officer(db):
    return UserFactory(account=platform(), role="platform_compliance")


# --- the form: fields and consistency -------------------------------------------------------


def test_form_saves_every_need_through_the_service(client, platform_admin):
    client.force_login(platform_admin)
    data = {
        **POST,
        "area": "  Paris ",
        "identity_type": "business",
        "identity_fields": ["company_number", "tax_id"],
        "address_scope": "area",
        "identity_proofs": "1",
        "address_proofs": "1",
        "company_proofs": "2",
        "other_proofs": "",  # blank: none
        "deadline_days": "14",
    }
    response = client.post(reverse("compliance:requirement_create"), data)
    requirement = Requirement.objects.get(title=POST["title"])
    assert response.status_code == 302
    assert response["Location"] == reverse("compliance:requirement_view", args=[requirement.pk])
    assert (requirement.area, requirement.identity_type, requirement.address_scope) == (
        "Paris",
        "business",
        "area",
    )
    assert requirement.identity_fields == ["company_number", "tax_id"]
    assert (
        requirement.identity_proofs,
        requirement.address_proofs,
        requirement.company_proofs,
        requirement.other_proofs,
        requirement.deadline_days,
    ) == (1, 1, 2, 0, 14)
    assert requirement.needs_registration and requirement.version == 1


def test_form_renders_identity_details_as_checkboxes():
    html = RequirementForm().as_p()
    for value in ("birth_date", "id_number", "company_number", "tax_id"):
        assert f'type="checkbox" name="identity_fields" value="{value}"' in html
    assert 'name="deadline_days"' in html and 'max="365"' in html


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"identity_proofs": "6"}, "identity_proofs", "less than or equal to 5"),
        ({"other_proofs": "-1"}, "other_proofs", "greater than or equal to 0"),
        ({"deadline_days": "0"}, "deadline_days", "greater than or equal to 1"),
        ({"deadline_days": "366"}, "deadline_days", "less than or equal to 365"),
        ({"deadline_days": "soon"}, "deadline_days", "whole number"),
        ({"identity_type": "robot"}, "identity_type", "valid choice"),
        ({"address_scope": "moon"}, "address_scope", "valid choice"),
        ({"identity_fields": ["shoe_size"]}, "identity_fields", "valid choice"),
        (
            {"identity_fields": ["birth_date"]},
            "identity_fields",
            "Choose an identity type before",
        ),
        (
            {"identity_type": "personal", "identity_fields": ["company_number"]},
            "identity_fields",
            "A personal identity has no company registration number",
        ),
        (
            {"identity_type": "business", "identity_fields": ["birth_date"]},
            "identity_fields",
            "A business has no date of birth",
        ),
        (
            {"identity_type": "personal", "company_proofs": "1"},
            "company_proofs",
            "A personal identity has no company registration to prove",
        ),
        ({"address_proofs": "1"}, "address_proofs", "Ask for an address"),
        (
            {"number_type": "toll_free", "area": "Paris"},
            "area",
            "Toll-free numbers have no area",
        ),
        (
            {"number_type": "mobile", "address_scope": "area"},
            "address_scope",
            "Mobile numbers have no city or area",
        ),
    ],
)
def test_each_inconsistency_is_an_error_on_its_field(changes, field, message):
    bound = form(**changes)
    assert not bound.is_valid()
    assert list(bound.errors) == [field], bound.errors
    assert message in bound.errors[field][0]


def test_consistent_needs_are_valid():
    assert form(
        identity_type="any",
        identity_fields=["birth_date", "company_number"],
        address_scope="area",
        area="Paris",
        identity_proofs="1",
    ).is_valid()
    # A personal identity may have to give a tax id; an ID number for a business is its
    # representative's.
    assert form(identity_type="personal", identity_fields=["tax_id", "id_number"]).is_valid()
    assert form(identity_type="business", identity_fields=["id_number"]).is_valid()


def test_an_area_address_needs_blocks_with_a_place(platform_admin):
    requirement = saved(platform_admin)
    NumberBlockFactory(country="FR", city="", region="", requirement=requirement)
    bound = form(instance=requirement, address_scope="area")
    assert not bound.is_valid()
    assert "have no city or region" in bound.errors["address_scope"][0]
    # Naming the area, or blocks that say where they are, make it checkable.
    assert form(instance=requirement, address_scope="area", area="Lyon").is_valid()
    requirement.blocks.update(city="Lyon")
    assert form(instance=requirement, address_scope="area").is_valid()


def test_the_service_refuses_what_the_form_refuses(platform_admin):
    """No caller skips a rule: the service checks the same things and saves nothing."""
    bound = form()
    assert bound.is_valid()
    cleaned = bound.cleaned_data
    with pytest.raises(ValidationError) as refused:
        requirement_save(
            actor=platform_admin,
            **{**cleaned, "identity_fields": ["birth_date"], "address_proofs": 2},
        )
    assert set(refused.value.message_dict) == {"identity_fields", "address_proofs"}
    assert not Requirement.objects.exists()


@pytest.mark.postgres
def test_a_requirement_with_numbers_awaiting_keeps_asking(platform_admin, customer_admin, paris):
    fund(customer_admin.account, "100.00")
    buy(customer_admin, "+33155500000")
    requirement = paris.requirement
    stripped = {
        "identity_type": "",
        "identity_fields": [],
        "address_scope": "",
        "identity_proofs": "0",
        "address_proofs": "0",
        "area": "Paris",
    }
    bound = form(instance=requirement, **stripped)
    assert not bound.is_valid()
    assert "1 number is awaiting registration" in bound.errors["identity_type"][0]
    with pytest.raises(ValidationError):
        requirement_save(
            actor=platform_admin,
            requirement=requirement,
            identity_type="",
            identity_fields=[],
            address_scope="",
            identity_proofs=0,
            address_proofs=0,
        )
    requirement.refresh_from_db()
    assert requirement.needs_registration
    # Asking for less (but something) is allowed, and no new version: the words are the same.
    assert form(instance=requirement, **{**stripped, "identity_type": "any"}).is_valid()


def test_needs_change_no_version_but_words_do(client, platform_admin):
    client.force_login(platform_admin)
    requirement = saved(platform_admin)
    url = reverse("compliance:requirement_edit", args=[requirement.pk])
    client.post(url, {**POST, "identity_type": "personal", "deadline_days": "10"})
    requirement.refresh_from_db()
    assert (requirement.identity_type, requirement.deadline_days, requirement.version) == (
        "personal",
        10,
        1,
    )
    client.post(url, {**POST, "identity_type": "personal", "title": "French numbers"})
    requirement.refresh_from_db()
    assert requirement.version == 2


# --- the summary ----------------------------------------------------------------------------


def test_needs_lines_say_what_a_registration_needs():
    requirement = Requirement(
        country="FR",
        area="Paris",
        identity_type="business",
        identity_fields=["company_number", "tax_id"],
        address_scope="area",
        identity_proofs=1,
        address_proofs=2,
        deadline_days=14,
    )
    assert needs_lines(requirement) == [
        "The end user's identity (a business) with its company registration number and "
        "tax ID / VAT number",
        "An address in Paris",
        "1 identity document",
        "2 proofs of address",
        "Within 14 days of purchase",
    ]
    assert needs_lines(Requirement(country="GB")) == ["Agreement only: numbers go live at once"]
    assert needs_lines(Requirement(country="DE", address_scope="country", deadline_days=1)) == [
        "An address in Germany",
        "Within 1 day of purchase",
    ]


def test_list_summarises_each_requirements_needs(client, platform_admin):
    client.force_login(platform_admin)
    RequirementFactory(
        title="Berlin", country="DE", identity_type="personal", address_scope="country"
    )
    RequirementFactory(title="Agree only", country="GB")
    page = client.get(reverse("compliance:requirements")).content.decode()
    berlin = page.split(">Berlin</a>", 1)[1].split("</tr>")[0]
    assert "The end user&#x27;s identity (a person)" in berlin
    assert "An address in Germany" in berlin
    assert "Within 30 days of purchase" in berlin
    agree = page.split(">Agree only</a>", 1)[1].split("</tr>")[0]
    assert "Agreement only: numbers go live at once" in agree


# --- who reads, who edits -------------------------------------------------------------------


def test_compliance_officers_read_the_console_without_edit_buttons(client, officer):
    requirement = RequirementFactory(title="Berlin", internal_notes="Ask Operator X first.")
    client.force_login(officer)
    listing = client.get(reverse("compliance:requirements"))
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "Berlin" in html
    assert reverse("compliance:requirement_edit", args=[requirement.pk]) not in html
    assert reverse("compliance:requirement_create") not in html
    assert reverse("compliance:requirement_deactivate", args=[requirement.pk]) not in html

    detail = client.get(reverse("compliance:requirement_view", args=[requirement.pk]))
    assert detail.status_code == 200
    text = detail.content.decode()
    assert "Ask Operator X first." in text and "A registration needs" in text
    assert reverse("compliance:requirement_edit", args=[requirement.pk]) not in text

    for url in (
        reverse("compliance:requirement_create"),
        reverse("compliance:requirement_edit", args=[requirement.pk]),
        reverse("compliance:requirement_deactivate", args=[requirement.pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("compliance:requirement_create"), POST).status_code == 403
    response = client.post(reverse("compliance:requirement_reactivate", args=[requirement.pk]))
    assert response.status_code == 403
    assert Requirement.objects.count() == 1


def test_admins_see_edit_buttons_and_the_detail(client, platform_admin):
    requirement = RequirementFactory(title="Berlin")
    client.force_login(platform_admin)
    html = client.get(reverse("compliance:requirements")).content.decode()
    assert reverse("compliance:requirement_edit", args=[requirement.pk]) in html
    detail = client.get(reverse("compliance:requirement_view", args=[requirement.pk]))
    assert reverse("compliance:requirement_edit", args=[requirement.pk]) in detail.content.decode()
    assert client.get(reverse("compliance:requirement_view", args=[99999])).status_code == 404


@pytest.mark.parametrize(
    "role", ["platform_finance", "reseller_admin", "customer_admin", "customer_member"]
)
def test_requirement_detail_refuses_other_roles(client, role):
    kind = role.split("_")[0]
    account = platform() if kind == "platform" else AccountFactory(kind=kind)
    client.force_login(UserFactory(account=account, role=role))
    requirement = RequirementFactory()
    response = client.get(reverse("compliance:requirement_view", args=[requirement.pk]))
    assert response.status_code == 403


def test_officers_navigation_reaches_requirements(client, officer):
    client.force_login(officer)
    items = client.get(reverse("compliance:requirements")).context["nav_items"]
    entry = next(item for item in items if item["label"] == "Requirements")
    assert entry["available"] and entry["active"]


def test_deactivating_is_not_held_up_by_needs_saved_before(client, platform_admin):
    """A requirement made before these rules (an "area" address, blocks without a place)
    still deactivates and reactivates."""
    requirement = RequirementFactory(address_scope="area", number_type="local")
    NumberBlockFactory(country="DE", city="", region="", requirement=requirement)
    client.force_login(platform_admin)
    response = client.post(reverse("compliance:requirement_deactivate", args=[requirement.pk]))
    assert response.status_code == 302
    requirement.refresh_from_db()
    assert not requirement.active


def test_platform_admins_can_add_a_compliance_officer_to_the_team(client, platform_admin):
    client.force_login(platform_admin)
    response = client.get(reverse("accounts:team_add"))
    assert response.status_code == 200
    assert 'value="platform_compliance"' in response.content.decode()
    assert "approves or" in response.content.decode()
