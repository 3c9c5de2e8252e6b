"""The admins' requirement form and the buyer's "I agree" boxes: errors name the field."""

import re

import pytest

from compliance.forms import AgreementForm, RequirementFilterForm, RequirementForm
from compliance.models import Requirement
from tests.compliance.factories import RequirementFactory

pytestmark = pytest.mark.django_db

VALID = {
    "country": "DE",
    "number_type": "local",
    "title": "Proof of address",
    "text": "German geographic numbers need an address in the area.",
    "internal_notes": "",
    "deadline_days": "30",
}


def test_valid_form_cleans_title_and_text():
    form = RequirementForm(
        {**VALID, "title": "  Proof   of address ", "text": VALID["text"] + " \r\n"}
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["title"] == "Proof of address"
    assert form.cleaned_data["text"] == VALID["text"]


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("title", "", "required"),
        ("title", "   ", "required"),
        ("text", "Too short", "at least 20 characters"),
        ("text", "", "required"),
        ("country", "XX", "valid choice"),
        ("number_type", "pager", "valid choice"),
    ],
)
def test_field_errors_are_on_the_field(field, value, message):
    form = RequirementForm({**VALID, field: value})
    assert not form.is_valid()
    assert list(form.errors) == [field]
    assert message in form.errors[field][0]


def test_duplicate_title_is_an_error_on_the_title():
    RequirementFactory(country="DE", number_type="local", title="Proof of address")
    form = RequirementForm(VALID)
    assert not form.is_valid()
    assert list(form.errors) == ["title"] and "already exists" in form.errors["title"][0]


def test_editing_keeps_its_own_title():
    requirement = RequirementFactory(country="DE", number_type="local", title="Proof of address")
    assert RequirementForm(VALID, instance=requirement).is_valid()


def test_all_types_is_the_blank_choice():
    choices = dict(RequirementForm().fields["number_type"].choices)
    assert choices[""] == "All number types"


def test_filter_form_ignores_bad_values():
    assert RequirementFilterForm({"country": "XX", "status": "active"}).filters() == {
        "active": True
    }
    assert RequirementFilterForm({"country": "DE", "status": ""}).filters() == {"country": "DE"}


# --- AgreementForm --------------------------------------------------------------------------


@pytest.fixture
def requirements():
    return [RequirementFactory(title="A", version=2), RequirementFactory(title="B")]


def test_every_box_must_be_ticked(requirements):
    a, b = requirements
    form = AgreementForm({f"agree_{a.pk}": "2"}, requirements=requirements)
    assert not form.is_valid()
    assert list(form.errors) == [f"agree_{b.pk}"]
    assert form.errors[f"agree_{b.pk}"] == ["Tick “I agree” for “B”."]


def test_ticked_boxes_give_the_requirements_at_the_version_shown(requirements):
    a, b = requirements
    form = AgreementForm({f"agree_{a.pk}": "2", f"agree_{b.pk}": "1"}, requirements=requirements)
    assert form.is_valid(), form.errors
    assert [(r.pk, r.version) for r in form.agreed_requirements()] == [(a.pk, 2), (b.pk, 1)]


def test_a_text_changed_since_the_page_was_shown_is_an_error_on_its_box(requirements):
    a, b = requirements
    Requirement.objects.filter(pk=a.pk).update(version=3)
    current = list(Requirement.objects.filter(pk__in=[a.pk, b.pk]).order_by("title"))
    form = AgreementForm({f"agree_{a.pk}": "2", f"agree_{b.pk}": "1"}, requirements=current)
    assert not form.is_valid()
    assert list(form.errors) == [f"agree_{a.pk}"]
    assert "updated to version 3" in form.errors[f"agree_{a.pk}"][0]


def test_the_box_posts_the_version_and_stays_ticked_on_redisplay(requirements):
    a, _ = requirements
    unbound = str(AgreementForm(requirements=requirements)[f"agree_{a.pk}"])
    assert 'type="checkbox"' in unbound and 'value="2"' in unbound and "checked" not in unbound
    bound = str(AgreementForm({f"agree_{a.pk}": "2"}, requirements=requirements)[f"agree_{a.pk}"])
    assert "checked" in bound


def test_checkout_partial_shows_each_text_box_and_error(requirements):
    from django.template.loader import render_to_string

    a, b = requirements
    a.text = "Line <b>one</b>"
    form = AgreementForm({f"agree_{a.pk}": "2"}, requirements=[a, b])
    form.is_valid()
    html = render_to_string("compliance/_agreement_fields.html", {"form": form})
    assert "Line &lt;b&gt;one&lt;/b&gt;" in html  # legal text is escaped
    assert html.count('type="checkbox"') == 2
    box = re.search(rf'<input[^>]*name="agree_{a.pk}"[^>]*>', html).group()
    assert 'value="2"' in box and "checked" in box
    assert "Tick “I agree” for “B”." in html
    assert (
        render_to_string(
            "compliance/_agreement_fields.html", {"form": AgreementForm(requirements=[])}
        ).strip()
        == ""
    )
