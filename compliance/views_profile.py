"""The customer's compliance profile: identities, addresses and documents (list, add, edit,
archive, upload), and the one way a stored document's file is opened.

Only the account's own providers (``provides_registrations``: customer admins and members,
a reseller's admins for its own account) use the profile pages; the selectors fetch from the
viewer's own account only, so another account's id is a 404 — a reseller's for its customer's
rows too. A document's file is also opened by the platform's reviewers.

Pages that change something honour a safe ``next`` (a page of this site): the submission
page sends people here and gets them back, with the new row's id added (``?identity=12``).
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms.models import model_to_dict
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin

from accounts.permissions import allow, provides_registrations, reviews_registrations
from didportal.forms import add_service_errors

from . import selectors_profile as selectors
from .forms_profile import (
    AddressForm,
    DocumentUploadForm,
    FileQuery,
    IdentityForm,
    ListQuery,
    NextForm,
    UploadQuery,
)
from .services import profile as services

PAGE_SIZE = 20
OVERVIEW_SIZE = 5
IDENTITY_FIELDS = list(IdentityForm.base_fields)
ADDRESS_FIELDS = list(AddressForm.base_fields)


# --- next --------------------------------------------------------------------------------------


def _safe_next(request):
    """The ``next`` parameter (query string or form) when it is a page of this site."""
    source = request.POST if request.method == "POST" else request.GET
    candidate = NextForm(source).values()["next"]
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _with_param(url, **params):
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, str(v)) for k, v in params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _back(request, default, **added):
    """Redirect to the safe ``next`` (with ``added`` in its query string), else ``default``."""
    target = _safe_next(request)
    return redirect(_with_param(target, **added) if target else reverse(default))


def _page_context(request, default, **extra):
    target = _safe_next(request)
    return {"next": target, "back_url": target or reverse(default), **extra}


# --- Overview and lists --------------------------------------------------------------------------


@allow(provides_registrations)
def profile(request):
    user = request.user
    sections = {
        "identities": selectors.identities_of(user),
        "addresses": selectors.addresses_of(user),
        "documents": selectors.documents_of(user),
    }
    context = {
        name: {"rows": rows[:OVERVIEW_SIZE], "count": rows.count()}
        for name, rows in sections.items()
    }
    return render(request, "compliance/profile/overview.html", context)


LISTS = {
    "identities": selectors.identities_of,
    "addresses": selectors.addresses_of,
    "documents": selectors.documents_of,
}


def _list(request, name):
    query = ListQuery(request.GET).values()
    rows = LISTS[name](request.user, archived=query["archived"])
    page = Paginator(rows, PAGE_SIZE).get_page(query["page"])
    context = {"page": page, "archived": query["archived"], "section": name}
    return render(request, f"compliance/profile/{name}.html", context)


@allow(provides_registrations)
def identity_list(request):
    return _list(request, "identities")


@allow(provides_registrations)
def address_list(request):
    return _list(request, "addresses")


@allow(provides_registrations)
def document_list(request):
    return _list(request, "documents")


# --- Identities and addresses: add, edit ---------------------------------------------------------


def _form_page(request, *, obj, form_class, fields, save, noun, list_name, template):
    """Add (``obj`` None) or edit an identity or address through ``save`` (the service)."""
    initial = model_to_dict(obj, fields=fields) if obj else {"country": _home_country(request)}
    initial["country"] = str(initial.get("country") or "")  # a code, not a Country object
    if obj is None and form_class is IdentityForm:
        initial["kind"] = "personal"
    form = form_class(request.POST or None, initial=initial)
    frozen = obj is not None and (obj.in_review or obj.approved or obj.archived_at)
    if frozen:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(
                account=request.user.account, actor=request.user, **{noun: obj}, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            verb = "added" if obj is None else "saved"
            messages.success(request, f"{noun.capitalize()} “{saved}” {verb}.")
            return _back(request, list_name, **{noun: saved.pk})
    context = _page_context(request, list_name, form=form, obj=obj, frozen=frozen)
    return render(request, template, context)


def _home_country(request):
    country = getattr(request.user.account, "country", "")
    return str(country or "")


def _identity_page(request, identity):
    return _form_page(
        request,
        obj=identity,
        form_class=IdentityForm,
        fields=IDENTITY_FIELDS,
        save=services.identity_save,
        noun="identity",
        list_name="compliance:identities",
        template="compliance/profile/identity_form.html",
    )


def _address_page(request, address):
    return _form_page(
        request,
        obj=address,
        form_class=AddressForm,
        fields=ADDRESS_FIELDS,
        save=services.address_save,
        noun="address",
        list_name="compliance:addresses",
        template="compliance/profile/address_form.html",
    )


@allow(provides_registrations)
def identity_create(request):
    return _identity_page(request, None)


@allow(provides_registrations)
def identity_edit(request, pk):
    return _identity_page(request, selectors.identity_of(request.user, pk))


@allow(provides_registrations)
def address_create(request):
    return _address_page(request, None)


@allow(provides_registrations)
def address_edit(request, pk):
    return _address_page(request, selectors.address_of(request.user, pk))


# --- Archive (GET: confirm; POST: archive) -------------------------------------------------------


def _archive_page(request, *, obj, archive, noun, list_name):
    if request.method == "POST":
        try:
            archive(**{noun: obj}, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, f"“{obj}” archived: it is no longer offered for new registrations."
            )
        return _back(request, list_name)
    context = _page_context(request, list_name, obj=obj, noun=noun)
    return render(request, "compliance/profile/archive.html", context)


@allow(provides_registrations)
def identity_archive(request, pk):
    obj = selectors.identity_of(request.user, pk)
    return _archive_page(
        request,
        obj=obj,
        archive=services.identity_archive,
        noun="identity",
        list_name="compliance:identities",
    )


@allow(provides_registrations)
def address_archive(request, pk):
    obj = selectors.address_of(request.user, pk)
    return _archive_page(
        request,
        obj=obj,
        archive=services.address_archive,
        noun="address",
        list_name="compliance:addresses",
    )


@allow(provides_registrations)
def document_archive(request, pk):
    obj = selectors.document_of(request.user, pk)
    return _archive_page(
        request,
        obj=obj,
        archive=services.document_archive,
        noun="document",
        list_name="compliance:documents",
    )


# --- Documents: upload and open ------------------------------------------------------------------


@allow(provides_registrations)
def document_upload(request):
    account = request.user.account
    query = UploadQuery(request.GET).values()
    form = DocumentUploadForm(
        request.POST or None,
        request.FILES or None,
        identities=selectors.identity_choices(account),
        addresses=selectors.address_choices(account),
        initial={name: query[name] for name in ("kind", "identity", "address") if query[name]},
    )
    if request.method == "POST" and form.is_valid():
        try:
            document = services.document_upload(
                account=account, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc, field="file")
        else:
            messages.success(request, f"“{document.original_name}” uploaded.")
            return _back(request, "compliance:documents", document=document.pk)
    context = _page_context(
        request,
        "compliance:documents",
        form=form,
        max_size=settings.COMPLIANCE_DOCUMENT_MAX_BYTES,
        scanning=bool(settings.CLAMD_URL),
    )
    return render(request, "compliance/profile/document_upload.html", context)


@never_cache
@xframe_options_sameorigin
@allow(provides_registrations, reviews_registrations)
def document_file(request, pk):
    """The document's file: inline (``?inline=1``, for a browser tab or the review page's
    frame) or as a download. Sandboxed and never sniffed or cached."""
    document = selectors.document_to_open(request.user, pk)
    inline = FileQuery(request.GET).values()["inline"]
    try:
        handle = document.file.open("rb")
    except OSError as exc:
        raise Http404("The file of this document is missing.") from exc
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; frame-ancestors 'self'"
    response["Referrer-Policy"] = "no-referrer"
    return response


urlpatterns = [
    path("compliance/profile/", profile, name="profile"),
    path("compliance/profile/identities/", identity_list, name="identities"),
    path("compliance/profile/identities/new/", identity_create, name="identity_create"),
    path("compliance/profile/identities/<int:pk>/edit/", identity_edit, name="identity_edit"),
    path(
        "compliance/profile/identities/<int:pk>/archive/",
        identity_archive,
        name="identity_archive",
    ),
    path("compliance/profile/addresses/", address_list, name="addresses"),
    path("compliance/profile/addresses/new/", address_create, name="address_create"),
    path("compliance/profile/addresses/<int:pk>/edit/", address_edit, name="address_edit"),
    path(
        "compliance/profile/addresses/<int:pk>/archive/",
        address_archive,
        name="address_archive",
    ),
    path("compliance/profile/documents/", document_list, name="documents"),
    path("compliance/profile/documents/upload/", document_upload, name="document_upload"),
    path(
        "compliance/profile/documents/<int:pk>/archive/",
        document_archive,
        name="document_archive",
    ),
    path("compliance/documents/<int:pk>/file/", document_file, name="document_file"),
]
