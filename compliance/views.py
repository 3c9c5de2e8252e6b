"""Compliance pages: the admins' requirements console, a requirement's public text, and the
recorded agreements (each viewer sees its own tenant's)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import (
    allow,
    is_customer,
    is_platform_admin,
    is_portal_user,
    reviews_registrations,
)
from didportal.forms import add_service_errors

from . import selectors, services
from .forms import AgreementListQuery, RequirementFilterForm, RequirementForm
from .models import Requirement
from .needs import needs_lines
from .selectors_checkout import requirement_page
from .selectors_console import requirement_registration_counts

PAGE_SIZE = 25


# --- The console: platform admins edit, compliance officers read ------------------------------


@allow(reviews_registrations)
def requirement_list(request):
    filter_form = RequirementFilterForm(request.GET)
    filters = filter_form.filters()
    requirements = selectors.requirements_for_console(**filters)
    page = Paginator(requirements, PAGE_SIZE).get_page(request.GET.get("page"))
    for requirement in page.object_list:
        requirement.needs = needs_lines(requirement)
    context = {
        "filter_form": filter_form,
        "page": page,
        "is_filtered": bool(filters),
        "can_edit": is_platform_admin(request.user),
    }
    return render(request, "compliance/requirement_list.html", context)


@allow(reviews_registrations)
def requirement_view(request, pk):
    """Everything about one requirement for platform staff: what it needs, its text and
    notes, versions, blocks and registrations (admins get the edit buttons)."""
    requirement = get_object_or_404(selectors.requirements_for_console(), pk=pk)
    context = {
        "requirement": requirement,
        "needs": needs_lines(requirement),
        "versions": selectors.requirement_versions(requirement),
        "blocks": requirement.blocks.all()[:12],
        "registrations": requirement_registration_counts(requirement),
        "can_edit": is_platform_admin(request.user),
    }
    return render(request, "compliance/requirement_view.html", context)


def _requirement_form_page(request, requirement=None):
    form = RequirementForm(request.POST or None, instance=requirement)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.requirement_save(
                actor=request.user, requirement=requirement, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if requirement is None:
                messages.success(request, f"Requirement “{saved.title}” created (version 1).")
            elif saved.version != requirement.version:
                messages.success(request, f"“{saved.title}” saved as version {saved.version}.")
            else:
                messages.success(request, f"“{saved.title}” saved (still version {saved.version}).")
            return redirect("compliance:requirement_view", pk=saved.pk)
    context = {"form": form, "requirement": requirement}
    if requirement is not None:
        # The form writes its input onto the instance; the page shows the saved values.
        context["saved"] = Requirement.objects.get(pk=requirement.pk)
        context["needs"] = needs_lines(context["saved"])
        context["versions"] = selectors.requirement_versions(requirement)
        context["blocks"] = requirement.blocks.all()[:12]
        context["block_count"] = requirement.blocks.count()
    return render(request, "compliance/requirement_form.html", context)


@allow(is_platform_admin)
def requirement_create(request):
    return _requirement_form_page(request)


@allow(is_platform_admin)
def requirement_edit(request, pk):
    return _requirement_form_page(request, get_object_or_404(Requirement, pk=pk))


@allow(is_platform_admin)
def requirement_deactivate(request, pk):
    """GET: what deactivating means, and a confirm button; POST: deactivate."""
    requirement = get_object_or_404(selectors.requirements_for_console(), pk=pk)
    if request.method == "POST":
        services.requirement_save(actor=request.user, requirement=requirement, active=False)
        messages.success(
            request, f"“{requirement.title}” deactivated: checkout no longer asks for it."
        )
        return redirect("compliance:requirements")
    return render(request, "compliance/requirement_deactivate.html", {"requirement": requirement})


@require_POST
@allow(is_platform_admin)
def requirement_reactivate(request, pk):
    requirement = get_object_or_404(Requirement, pk=pk)
    services.requirement_save(actor=request.user, requirement=requirement, active=True)
    messages.success(request, f"“{requirement.title}” is active again.")
    return redirect("compliance:requirements")


# --- Public text ----------------------------------------------------------------------------


def requirement_detail(request, pk):
    """A requirement's current text: public, like the coverage pages that link to it."""
    requirement = selectors.requirement_public(pk)
    context = {"requirement": requirement, **requirement_page(requirement)}
    return render(request, "compliance/requirement_detail.html", context)


# --- Recorded agreements --------------------------------------------------------------------


@allow(is_portal_user)
def agreement_list(request):
    requirement_id = AgreementListQuery(request.GET).values()["requirement"]
    agreements = selectors.agreements_for(request.user, requirement=requirement_id)
    page = Paginator(agreements, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "own_only": is_customer(request.user),
        "requirement": Requirement.objects.filter(pk=requirement_id).first()
        if requirement_id
        else None,
    }
    return render(request, "compliance/agreement_list.html", context)


@allow(is_portal_user)
def agreement_detail(request, pk):
    agreement = selectors.agreement_for(request.user, pk)
    context = {
        "agreement": agreement,
        "agreed": selectors.agreed_text(agreement),
        "own_only": is_customer(request.user),
    }
    return render(request, "compliance/agreement_detail.html", context)
