"""The account's API keys pages (signed in, the account's admins): list, create (the secret
shown once), details with the key's recent writes, agree to changed requirement texts,
revoke. Another account's key answers 404."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.permissions import allow, may_manage_api_keys
from accounts.throttles import client_ip

from . import selectors, services
from .forms_keys import KeyAgreementForm, KeyCreateForm


def _posted(request):
    """The posted data, or None for a GET (an empty POST still binds the form)."""
    return request.POST if request.method == "POST" else None


def _errors_to(form, error: ValidationError):
    form.add_error(None, error.messages)


def _docs_url():
    try:
        return reverse("api:docs")
    except NoReverseMatch:  # the browsable docs are not there yet
        return None


@allow(may_manage_api_keys)
def key_list(request):
    keys = list(selectors.keys_for(request.user))
    pending = selectors.pending_requirements(keys)
    for key in keys:
        key.pending = pending.get(key.pk, [])
    active = [key for key in keys if key.is_active]
    return render(
        request,
        "api/keys/list.html",
        {
            "keys": keys,
            "active_count": len(active),
            "cap": services.keys_per_account(),
            "needs_agreement": [key for key in active if key.pending],
            "docs_url": _docs_url(),
        },
    )


@never_cache
@allow(may_manage_api_keys)
@require_http_methods(["GET", "POST"])
def key_create(request):
    requirements = selectors.requirements_in_force()
    form = KeyCreateForm(_posted(request))
    agreement = KeyAgreementForm(_posted(request), requirements=requirements)
    if request.method == "POST" and form.is_valid():
        full = not form.read_only
        if not full or agreement.is_valid():
            try:
                key, secret = services.api_key_create(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    read_only=not full,
                    allowed_networks=form.cleaned_data["allowed_networks"],
                    agreed=agreement.agreed_requirements() if full else (),
                    ip_address=client_ip(request),
                )
            except ValidationError as error:
                _errors_to(form, error)
            else:
                # Shown in this answer only (never stored, never in a redirect or session).
                return render(
                    request,
                    "api/keys/created.html",
                    {"key": key, "secret": secret, "docs_url": _docs_url()},
                )
    return render(
        request,
        "api/keys/create.html",
        {
            "form": form,
            "agreement_form": agreement,
            "full_chosen": form["access"].value() == "full",
        },
    )


@allow(may_manage_api_keys)
def key_detail(request, pk):
    key = selectors.key_for(request.user, pk)
    return render(
        request,
        "api/keys/detail.html",
        {
            "key": key,
            "pending": selectors.pending_requirements([key]).get(key.pk, []),
            "agreements": selectors.key_agreements(key),
            "writes": selectors.key_recent_writes(key),
        },
    )


@allow(may_manage_api_keys)
@require_http_methods(["GET", "POST"])
def key_agree(request, pk):
    key = selectors.key_for(request.user, pk)
    pending = selectors.pending_requirements([key]).get(key.pk, [])
    form = KeyAgreementForm(_posted(request), requirements=pending)
    mine = key.created_by_id == request.user.pk
    if request.method == "POST" and mine and pending and form.is_valid():
        try:
            services.api_key_agree(
                key=key,
                user=request.user,
                requirements=form.agreed_requirements(),
                ip_address=client_ip(request),
            )
        except ValidationError as error:
            _errors_to(form, error)
        else:
            messages.success(request, f"Recorded: “{key.name}” may order under the new texts.")
            return redirect("api_keys:detail", pk=key.pk)
    return render(
        request, "api/keys/agree.html", {"key": key, "pending": pending, "form": form, "mine": mine}
    )


@allow(may_manage_api_keys)
@require_http_methods(["GET", "POST"])
def key_revoke(request, pk):
    key = selectors.key_for(request.user, pk)
    if request.method == "POST" and key.is_active:
        services.api_key_revoke(key=key, user=request.user)
        messages.success(
            request, f"“{key.name}” ({key.prefix}…) is revoked: requests with it are refused now."
        )
        return redirect("api_keys:list")
    return render(request, "api/keys/revoke.html", {"key": key})
