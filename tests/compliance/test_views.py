"""The requirements console (platform admins only), the public text, and agreement pages."""

import pytest
from django.urls import reverse

from compliance.models import Requirement
from compliance.services import agreements_record, requirement_save
from tests.compliance.factories import RequirementFactory
from tests.factories import AccountFactory, UserFactory, platform
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db

POST = {
    "country": "GB",
    "number_type": "local",
    "title": "UK service address",
    "text": "UK geographic numbers are for end users present in the United Kingdom.",
    "internal_notes": "",
    "deadline_days": "30",
}


@pytest.fixture
def admin_client(client, platform_admin):
    client.force_login(platform_admin)
    return client


def _agree(user, requirement, order_id=1):
    return agreements_record(
        user=user,
        account=user.account,
        requirements=[requirement],
        order_id=order_id,
        ip_address="192.0.2.10",
    )[0]


# --- console ----------------------------------------------------------------------------------


def test_empty_state(admin_client):
    page = admin_client.get(reverse("compliance:requirements")).content.decode()
    assert "No registration requirements yet" in page


def test_list_shows_version_blocks_and_agreements(admin_client, customer_admin):
    requirement = RequirementFactory(title="Proof of address", version=4)
    NumberBlockFactory(country="DE", requirement=requirement)
    _agree(customer_admin, requirement)
    _agree(customer_admin, requirement, order_id=2)
    response = admin_client.get(reverse("compliance:requirements"))
    row = response.content.decode().split("Proof of address", 1)[1].split("</tr>")[0]
    assert "v4" in row
    assert '<td data-label="Blocks" class="text-end font-tabular">1</td>' in row  # one block
    assert f'?requirement={requirement.pk}">2</a>' in row  # two agreements, linked


def test_list_filters_by_country_and_status(admin_client):
    RequirementFactory(title="German text", country="DE")
    RequirementFactory(title="French text", country="FR", active=False)
    page = admin_client.get(reverse("compliance:requirements"), {"country": "FR"}).content.decode()
    assert "French text" in page and "German text" not in page
    page = admin_client.get(reverse("compliance:requirements"), {"status": "active"}).content
    assert b"German text" in page and b"French text" not in page


def test_list_query_count_is_flat(admin_client, django_assert_max_num_queries):
    for n in range(30):
        requirement = RequirementFactory(title=f"R{n}")
        NumberBlockFactory(country="DE", requirement=requirement)
    with django_assert_max_num_queries(5):
        response = admin_client.get(reverse("compliance:requirements"))
    assert response.status_code == 200
    assert "Page 1 of 2" in response.content.decode()


def test_create(admin_client, platform_admin):
    response = admin_client.post(reverse("compliance:requirement_create"), POST)
    assert response.status_code == 302
    requirement = Requirement.objects.get(title="UK service address")
    assert (requirement.version, requirement.updated_by) == (1, platform_admin)
    assert requirement.versions.count() == 1


def test_create_shows_field_errors_and_saves_nothing(admin_client):
    response = admin_client.post(
        reverse("compliance:requirement_create"), {**POST, "title": "", "text": "short"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"title", "text"}
    assert not Requirement.objects.exists()


def test_edit_page_announces_the_next_version_and_lists_blocks(admin_client, platform_admin):
    requirement = requirement_save(actor=platform_admin, **POST)
    NumberBlockFactory(country="GB", city="London", area_code="20", requirement=requirement)
    page = admin_client.get(reverse("compliance:requirement_edit", args=[requirement.pk]))
    text = page.content.decode()
    assert "This is <strong>version 1</strong>" in text
    assert "creates <strong>version 2</strong>" in text
    assert "Used by 1 block" in text and "London" in text


def test_edit_with_a_changed_text_creates_the_next_version(admin_client, platform_admin):
    requirement = requirement_save(actor=platform_admin, **POST)
    url = reverse("compliance:requirement_edit", args=[requirement.pk])
    response = admin_client.post(url, {**POST, "text": POST["text"] + " Keep it current."})
    assert response.status_code == 302
    requirement.refresh_from_db()
    assert requirement.version == 2
    # The same words again (as a browser posts them) are no new version.
    admin_client.post(url, {**POST, "text": (POST["text"] + " Keep it current.\r\n")})
    requirement.refresh_from_db()
    assert requirement.version == 2


def test_edit_error_keeps_the_saved_title_in_the_heading(admin_client, platform_admin):
    requirement = requirement_save(actor=platform_admin, **POST)
    url = reverse("compliance:requirement_edit", args=[requirement.pk])
    response = admin_client.post(url, {**POST, "title": "Renamed", "text": "short"})
    assert response.status_code == 200
    assert "Edit “UK service address”" in response.content.decode()
    requirement.refresh_from_db()
    assert (requirement.title, requirement.version) == ("UK service address", 1)


def test_deactivate_asks_first_then_deactivates(admin_client):
    requirement = RequirementFactory(title="Proof")
    NumberBlockFactory(country="DE", requirement=requirement)
    url = reverse("compliance:requirement_deactivate", args=[requirement.pk])
    confirm = admin_client.get(url)
    assert "Checkout stops asking" in confirm.content.decode()
    assert "1 block that names it" in confirm.content.decode()
    requirement.refresh_from_db()
    assert requirement.active
    assert admin_client.post(url).status_code == 302
    requirement.refresh_from_db()
    assert not requirement.active

    admin_client.post(reverse("compliance:requirement_reactivate", args=[requirement.pk]))
    requirement.refresh_from_db()
    assert requirement.active and requirement.version == 1


def test_reactivate_is_post_only(admin_client):
    requirement = RequirementFactory(active=False)
    url = reverse("compliance:requirement_reactivate", args=[requirement.pk])
    assert admin_client.get(url).status_code == 405


def test_unknown_requirement_is_404(admin_client):
    assert admin_client.get(reverse("compliance:requirement_edit", args=[999])).status_code == 404


@pytest.mark.parametrize(
    "role", ["platform_finance", "reseller_admin", "customer_admin", "customer_member"]
)
def test_console_refuses_every_other_role(client, role):
    kind = role.split("_")[0]
    account = platform() if kind == "platform" else AccountFactory(kind=kind)
    client.force_login(UserFactory(account=account, role=role))
    requirement = RequirementFactory()
    for url in (
        reverse("compliance:requirements"),
        reverse("compliance:requirement_create"),
        reverse("compliance:requirement_edit", args=[requirement.pk]),
        reverse("compliance:requirement_deactivate", args=[requirement.pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("compliance:requirement_create"), POST).status_code == 403
    assert not Requirement.objects.filter(title=POST["title"]).exists()


def test_console_sends_visitors_to_sign_in(client):
    response = client.get(reverse("compliance:requirements"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_admins_navigation_has_compliance(admin_client):
    items = admin_client.get(reverse("compliance:requirements")).context["nav_items"]
    compliance = next(item for item in items if item["label"] == "Compliance")
    assert compliance["available"] and compliance["active"]


# --- public text ------------------------------------------------------------------------------


def test_public_page_shows_the_current_text_escaped(client, platform_admin):
    requirement = requirement_save(
        actor=platform_admin,
        **{**POST, "text": "First paragraph <script>alert(1)</script>\n\nSecond paragraph."},
    )
    requirement = requirement_save(
        actor=platform_admin, requirement=requirement, text=requirement.text + " Now v2."
    )
    page = client.get(reverse("compliance:requirement", args=[requirement.pk])).content.decode()
    assert "UK service address" in page and "Version 2" in page
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    assert "<p>Second paragraph. Now v2.</p>" in page


def test_public_page_of_an_inactive_requirement_says_so(client):
    requirement = RequirementFactory(active=False)
    page = client.get(reverse("compliance:requirement", args=[requirement.pk])).content.decode()
    assert "no longer applies" in page


def test_catalog_badge_links_to_the_requirement(client):
    from tests.inventory.factories import DIDFactory

    requirement = RequirementFactory(country="DE")
    block = NumberBlockFactory(
        country="DE", region="Bavaria", city="München", area_code="89", requirement=requirement
    )
    DIDFactory(block=block, number="+49891234500")
    page = client.get(reverse("catalog:country", args=["DE"])).content.decode()
    assert reverse("compliance:requirement", args=[requirement.pk]) in page


# --- agreements -------------------------------------------------------------------------------


def test_my_agreements_lists_the_accounts_own(client, customer_admin, customer_member, stranger):
    requirement = RequirementFactory(title="Proof of address")
    mine = _agree(customer_admin, requirement, order_id=1234)
    _agree(stranger, requirement, order_id=9999)
    client.force_login(customer_member)  # a teammate sees the account's agreements
    response = client.get(reverse("compliance:agreements"))
    page = response.content.decode()
    assert "My agreements" in page and "#1234" in page and "#9999" not in page
    assert list(response.context["page"].object_list) == [mine]


def test_my_agreements_empty_state(client, customer_admin):
    client.force_login(customer_admin)
    assert b"No agreements yet" in client.get(reverse("compliance:agreements")).content


def test_staff_agreements_filter_by_requirement(admin_client, customer_admin, stranger):
    first, second = RequirementFactory(title="First"), RequirementFactory(title="Second")
    _agree(customer_admin, first)
    other = _agree(stranger, second)
    response = admin_client.get(reverse("compliance:agreements"), {"requirement": second.pk})
    assert list(response.context["page"].object_list) == [other]
    assert "Showing agreements to <strong>Second</strong>" in response.content.decode()


def test_agreement_detail_shows_the_words_agreed(client, platform_admin, customer_admin):
    requirement = requirement_save(actor=platform_admin, **POST)
    agreement = _agree(customer_admin, requirement, order_id=77)
    requirement_save(actor=platform_admin, requirement=requirement, text="Completely new words.")
    client.force_login(customer_admin)
    page = client.get(reverse("compliance:agreement_detail", args=[agreement.pk])).content
    page = page.decode()
    assert POST["text"] in page and "Completely new words." not in page
    assert "the current text is" in page and "version 2" in page
    assert "192.0.2.10" in page and "#77" in page


def test_agreement_pages_need_sign_in(client):
    assert client.get(reverse("compliance:agreements")).status_code == 302
