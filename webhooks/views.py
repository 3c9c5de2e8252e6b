"""The account's webhook pages: endpoints, their delivery log, "send again", test events,
and the order callbacks' log. Account admins only; another account's ids answer 404."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import allow, may_manage_webhooks
from accounts.views import form_errors_to

from . import selectors, services
from .forms import EndpointForm
from .models import CallbackSecret

PER_PAGE = 25
SECRET_SESSION_KEY = "webhooks:new-secret"  # noqa: S105 (a session key's name)


def _page(request, queryset):
    return Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))


def _show_once(request, kind, pk, secret):
    request.session[SECRET_SESSION_KEY] = {"kind": kind, "pk": pk, "secret": secret}


def _pop_secret(request, kind, pk):
    shown = request.session.get(SECRET_SESSION_KEY)
    if isinstance(shown, dict) and shown.get("kind") == kind and shown.get("pk") == pk:
        del request.session[SECRET_SESSION_KEY]
        return shown.get("secret")
    return None


@allow(may_manage_webhooks)
def endpoint_list(request):
    account = request.user.account
    context = {
        "endpoints": selectors.endpoints_of(account),
        "callback_secret": CallbackSecret.objects.filter(account=account).first(),
        "new_callback_secret": _pop_secret(request, "callback", account.pk),
        "callbacks": selectors.callbacks_of(account)[:5],
        "max_endpoints": services.MAX_ENDPOINTS_PER_ACCOUNT,
    }
    return render(request, "webhooks/endpoint_list.html", context)


def _form_page(request, form, endpoint=None):
    status = 400 if form.errors else 200
    context = {"form": form, "endpoint": endpoint, "events": services.EVENTS}
    return render(request, "webhooks/endpoint_form.html", context, status=status)


@allow(may_manage_webhooks)
def endpoint_create(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.endpoint_create(
                actor=request.user, account=request.user.account, **form.cleaned_data
            )
        except ValidationError as exc:
            form_errors_to(form, exc)
        else:
            _show_once(request, "endpoint", endpoint.pk, secret)
            messages.success(request, "Endpoint added. Copy its signing secret now.")
            return redirect("webhooks:endpoint", pk=endpoint.pk)
    return _form_page(request, form)


@allow(may_manage_webhooks)
def endpoint_edit(request, pk):
    endpoint = selectors.endpoint_for(request.user, pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "enabled": endpoint.enabled,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(actor=request.user, endpoint=endpoint, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_to(form, exc)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("webhooks:endpoint", pk=endpoint.pk)
    return _form_page(request, form, endpoint)


@allow(may_manage_webhooks)
def endpoint_detail(request, pk):
    endpoint = selectors.endpoint_for(request.user, pk)
    context = {
        "endpoint": endpoint,
        "event_labels": [(e, services.EVENTS.get(e, e)) for e in endpoint.events],
        "new_secret": _pop_secret(request, "endpoint", endpoint.pk),
        "page": _page(request, selectors.deliveries_of(endpoint)),
        "replay_window": services.REPLAY_WINDOW_SECONDS // 60,
    }
    return render(request, "webhooks/endpoint_detail.html", context)


@allow(may_manage_webhooks)
def endpoint_delete(request, pk):
    endpoint = selectors.endpoint_for(request.user, pk)
    if request.method == "POST":
        services.endpoint_delete(actor=request.user, endpoint=endpoint)
        messages.success(request, f"Endpoint {endpoint.url} deleted.")
        return redirect("webhooks:list")
    return render(request, "webhooks/endpoint_delete.html", {"endpoint": endpoint})


@require_POST
@allow(may_manage_webhooks)
def endpoint_rotate(request, pk):
    endpoint = selectors.endpoint_for(request.user, pk)
    secret = services.endpoint_rotate_secret(actor=request.user, endpoint=endpoint)
    _show_once(request, "endpoint", endpoint.pk, secret)
    messages.success(request, "New signing secret made: it signs every delivery from now on.")
    return redirect("webhooks:endpoint", pk=endpoint.pk)


@require_POST
@allow(may_manage_webhooks)
def endpoint_test(request, pk):
    endpoint = selectors.endpoint_for(request.user, pk)
    try:
        services.endpoint_send_test(actor=request.user, endpoint=endpoint)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Test event queued: it appears below within seconds.")
    return redirect("webhooks:endpoint", pk=endpoint.pk)


@allow(may_manage_webhooks)
def delivery_detail(request, pk):
    delivery = selectors.delivery_for(request.user, pk)
    context = {
        "delivery": delivery,
        "payload": _readable(delivery.body),
        "attempts": delivery.attempt_log.order_by("-pk")[:50],
    }
    return render(request, "webhooks/delivery_detail.html", context)


def _readable(body):
    """A JSON payload indented for reading; a callback's form body as it is."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


@require_POST
@allow(may_manage_webhooks)
def delivery_resend(request, pk):
    delivery = selectors.delivery_for(request.user, pk)
    try:
        services.delivery_resend(actor=request.user, delivery=delivery)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Sending it again now (same delivery id, same body).")
    return redirect("webhooks:delivery", pk=delivery.pk)


@allow(may_manage_webhooks)
def callback_list(request):
    page = _page(request, selectors.callbacks_of(request.user.account))
    return render(request, "webhooks/callback_list.html", {"page": page})


@require_POST
@allow(may_manage_webhooks)
def callback_secret_rotate(request):
    account = request.user.account
    secret = services.callback_secret_rotate(actor=request.user, account=account)
    _show_once(request, "callback", account.pk, secret)
    messages.success(
        request, "New callback secret made: it signs every order callback from now on."
    )
    return redirect("webhooks:list")
