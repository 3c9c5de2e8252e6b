"""The platform admins' stock console: operators, blocks, numbers, packages and the audit log.

Admins change things; finance may read the lists (numbers, blocks, audit log) and export.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.permissions import allow, is_finance, is_platform_admin
from didportal.csv_export import csv_download
from didportal.forms import add_service_errors, parse_id
from didportal.htmx import render_page_or_results

from . import selectors, services
from .choices import DIDStatus
from .forms import (
    AddNumbersForm,
    AuditFilterForm,
    AuditPageQuery,
    BlockFilterForm,
    BulkAfterHoldForm,
    BulkBlockForm,
    BulkDeleteForm,
    BulkNotesForm,
    BulkStatusForm,
    BulkTagForm,
    ClientPackageForm,
    DIDAssignForm,
    DIDDetailsForm,
    DIDFilterForm,
    DIDStatusForm,
    NumberBlockForm,
    NumberPageQuery,
    OperatorForm,
    PackageForm,
)
from .models import ClientPackage, NumberBlock, Operator, Package
from .numbers import local_prefix
from .services.transitions import STATUS_WORDS

READERS = (is_platform_admin, is_finance)


def _save_form(request, form, save, *, title, done, next_url):
    """The create/edit page pattern: valid form → service → message and redirect."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done.format(saved))
            return redirect(next_url(saved) if callable(next_url) else next_url)
    return render(request, "inventory/form_page.html", {"form": form, "title": title})


# --- Operators -----------------------------------------------------------------------------


@allow(is_platform_admin)
def operator_list(request):
    operators = selectors.operators_with_block_counts()
    return render(request, "inventory/operator_list.html", {"operators": operators})


@allow(is_platform_admin)
def operator_create(request):
    return _save_form(
        request,
        OperatorForm(request.POST or None),
        lambda data: services.operator_create(actor=request.user, **data),
        title="New operator",
        done="Operator {} created.",
        next_url="inventory:operators",
    )


@allow(is_platform_admin)
def operator_edit(request, pk):
    operator = get_object_or_404(Operator, pk=pk)
    return _save_form(
        request,
        OperatorForm(request.POST or None, instance=operator),
        lambda data: services.operator_update(operator=operator, actor=request.user, **data),
        title=f"Edit {operator}",
        done="Operator {} saved.",
        next_url="inventory:operators",
    )


# --- Number blocks and their price plans --------------------------------------------------------


@allow(*READERS)
def block_list(request):
    filter_form = BlockFilterForm(request.GET)
    blocks = selectors.blocks_filtered(**filter_form.filters())
    page = Paginator(blocks, 25).get_page(request.GET.get("page"))
    counts = selectors.block_status_counts(page.object_list)
    rows = [(block, counts[block.pk]) for block in page.object_list]
    return render(
        request,
        "inventory/block_list.html",
        {
            "filter_form": filter_form,
            "page": page,
            "rows": rows,
            "statuses": DIDStatus,
            "can_manage": is_platform_admin(request.user),
        },
    )


@allow(is_platform_admin)
def block_create(request):
    return _save_form(
        request,
        NumberBlockForm(request.POST or None),
        lambda data: services.block_create(actor=request.user, **data),
        title="New number block",
        done="Block {} created. Now add its numbers.",
        next_url=lambda block: reverse("inventory:block_add_numbers", args=[block.pk]),
    )


@allow(is_platform_admin)
def block_edit(request, pk):
    block = get_object_or_404(NumberBlock, pk=pk)
    return _save_form(
        request,
        NumberBlockForm(request.POST or None, instance=block),
        lambda data: services.block_update(block=block, actor=request.user, **data),
        title=f"Edit block {block.pk}: {block}",
        done="Block {} saved.",
        next_url="inventory:blocks",
    )


@allow(is_platform_admin)
def block_add_numbers(request, pk):
    block = get_object_or_404(NumberBlock.objects.select_related("operator"), pk=pk)
    form = AddNumbersForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            added = services.dids_add(block=block, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc, field="spec_text")
        else:
            messages.success(request, f"{added:,} number{pluralize(added)} added to {block}.")
            return redirect(f"{reverse('inventory:dids')}?block={block.pk}")
    return render(
        request,
        "inventory/add_numbers.html",
        {"form": form, "number_block": block, "local_prefix": local_prefix(block)},
    )


# --- Numbers: list, export, bulk actions -------------------------------------------------------


def _filter_query(params):
    """The list's filters as a query string, without its page cursors."""
    query = params.copy()
    for cursor in ("after", "before"):
        query.pop(cursor, None)
    return query.urlencode()


@allow(*READERS)
def did_list(request):
    filter_form = DIDFilterForm(request.GET)
    filters = filter_form.filters()
    dids = selectors.dids_filtered(**filters)
    cursor = NumberPageQuery(request.GET).values()
    page = selectors.keyset_page(
        selectors.dids_for_console_page(dids),
        key="number",
        size=cursor["size"],
        after=cursor["after"] or None,
        before=cursor["before"] or None,
    )
    context = {
        "filter_form": filter_form,
        "page": page,
        "number_block": filters.get("block"),
        # Counting is cheap within one block (an index range); over the whole stock it is not.
        "total": dids.count() if "block" in filters else None,
        "is_filtered": bool(filters),
        "filter_query": _filter_query(request.GET),
        "bulk_actions": BULK_ACTIONS,
        "can_manage": is_platform_admin(request.user),
    }
    return render_page_or_results(
        request, "inventory/did_list.html", "inventory/_did_results.html", context
    )


@allow(*READERS)
def did_export(request):
    dids = selectors.dids_filtered(**DIDFilterForm(request.GET).filters())
    header, rows = selectors.dids_for_export(dids)
    return csv_download(f"dids-{timezone.localdate():%Y%m%d}.csv", header, rows)


@dataclass(frozen=True)
class BulkAction:
    label: str  # "Change status"; the confirm button adds "of N numbers"
    form_class: type
    run: object  # (dids, cleaned_data, actor) -> count
    danger: bool = False


def _bulk_status(dids, data, actor):
    return services.dids_transition(
        dids_queryset_or_ids=dids,
        to_status=data["to_status"],
        reason=data["reason"] or "bulk status change",
        actor=actor,
    )


def _bulk_edit(field):
    def run(dids, data, actor):
        return services.dids_bulk_edit(
            dids_queryset_or_ids=dids, actor=actor, reason=data["reason"], **{field: data[field]}
        )

    return run


def _bulk_delete(dids, data, actor):
    return services.dids_delete_unsold(
        dids_queryset_or_ids=dids, actor=actor, reason=data["reason"]
    )


BULK_ACTIONS = {
    "status": BulkAction("Change status", BulkStatusForm, _bulk_status),
    "tag": BulkAction("Set tag", BulkTagForm, _bulk_edit("tag")),
    "notes": BulkAction("Set notes", BulkNotesForm, _bulk_edit("notes")),
    "after_hold": BulkAction(
        "Set after-hold status", BulkAfterHoldForm, _bulk_edit("after_hold_status")
    ),
    "block": BulkAction("Move to another block", BulkBlockForm, _bulk_edit("block")),
    "delete": BulkAction("Delete never-sold numbers", BulkDeleteForm, _bulk_delete, danger=True),
}


def _bulk_selection(post):
    """The ticked numbers, or every number matching the list's filter ("select all")."""
    if post.get("select_all"):
        query = QueryDict(post.get("query", ""))
        return selectors.dids_filtered(**DIDFilterForm(query).filters())
    ids = (parse_id(value) for value in post.getlist("ids"))
    return selectors.dids_by_ids([pk for pk in ids if pk is not None])


@require_POST
@allow(is_platform_admin)
def did_bulk(request):
    """First post: a confirmation page stating how many numbers; with ``confirm``: apply."""
    action = BULK_ACTIONS.get(request.POST.get("action", ""))
    list_url = f"{reverse('inventory:dids')}?{request.POST.get('query', '')}"
    dids = _bulk_selection(request.POST)
    count = dids.count()
    if action is None or count == 0:
        messages.error(request, "Tick at least one number and choose an action.")
        return redirect(list_url)
    statuses = selectors.statuses_of(dids) if action.form_class is BulkStatusForm else []
    form = action.form_class(request.POST if "confirm" in request.POST else None, statuses=statuses)
    if form.is_bound and form.is_valid():
        try:
            changed = action.run(dids, form.cleaned_data, request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"{action.label}: done for {changed:,} number{pluralize(changed)}."
            )
            return redirect(list_url)
    context = {
        "action": action,
        "form": form,
        "count": count,
        "ids": request.POST.getlist("ids"),
        "list_url": list_url,
        "statuses": [STATUS_WORDS[status] for status in statuses],
    }
    if action.danger:
        context["undeletable"] = selectors.sold_or_owned_count(dids)
    return render(request, "inventory/did_bulk_confirm.html", context)


# --- One number ----------------------------------------------------------------------------


def _render_did(request, did, **bound_forms):
    forms = {
        "status_form": DIDStatusForm(did=did),
        "assign_form": DIDAssignForm(client_packages=selectors.client_packages_with_room()),
        "details_form": DIDDetailsForm(
            initial={"tag": did.tag, "notes": did.notes, "destination": did.destination}
        ),
        **bound_forms,
    }
    context = {
        "did": did,
        "history": selectors.did_history(did),
        "can_assign": did.status in (DIDStatus.IN_STOCK, DIDStatus.RESERVED),
        "can_manage": is_platform_admin(request.user),
        **forms,
    }
    return render(request, "inventory/did_detail.html", context)


def _did_or_404(pk):
    return get_object_or_404(selectors.dids_for_detail(), pk=pk)


@allow(*READERS)
def did_detail(request, pk):
    return _render_did(request, _did_or_404(pk))


def _did_action(request, did, form, run, done):
    """A form on the number's page: valid → service → back to the page; else show errors."""
    if form.is_valid():
        try:
            run(form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("inventory:did_detail", pk=did.pk)
    return None


@require_POST
@allow(is_platform_admin)
def did_change_status(request, pk):
    did = _did_or_404(pk)
    form = DIDStatusForm(request.POST, did=did)

    def run(data):
        services.did_transition(did=did, actor=request.user, **data)

    done = f"{did.number}: status changed."
    return _did_action(request, did, form, run, done) or _render_did(request, did, status_form=form)


@require_POST
@allow(is_platform_admin)
def did_assign(request, pk):
    did = _did_or_404(pk)
    form = DIDAssignForm(request.POST, client_packages=selectors.client_packages_with_room())

    def run(data):
        package = data["client_package"]
        services.did_assign(
            did=did, account=package.account, client_package=package, actor=request.user
        )

    done = f"{did.number} assigned."
    # Read the number again: a refused assignment (e.g. the balance) rolled back its move.
    return _did_action(request, did, form, run, done) or _render_did(
        request, _did_or_404(pk), assign_form=form
    )


@require_POST
@allow(is_platform_admin)
def did_edit_details(request, pk):
    did = _did_or_404(pk)
    form = DIDDetailsForm(request.POST)

    def run(data):
        services.did_update_details(did=did, actor=request.user, **data)

    done = f"{did.number}: details saved."
    return _did_action(request, did, form, run, done) or _render_did(
        request, did, details_form=form
    )


# --- Audit log -------------------------------------------------------------------------------


@allow(*READERS)
def audit_log(request):
    filter_form = AuditFilterForm(request.GET)
    cursor = AuditPageQuery(request.GET).values()
    page = selectors.keyset_page(
        selectors.audit_log_filtered(**filter_form.filters()),
        key="history_id",
        size=50,
        descending=True,
        after=cursor["after"],
        before=cursor["before"],
    )
    entries = selectors.audit_entries(page.object_list)
    return render(
        request,
        "inventory/audit_log.html",
        {"filter_form": filter_form, "page": page, "entries": entries},
    )


# --- Packages and client packages --------------------------------------------------------------


@allow(is_platform_admin)
def package_list(request):
    client_packages = Paginator(selectors.client_packages_overview(), 50)
    return render(
        request,
        "inventory/package_list.html",
        {
            "packages": selectors.packages_with_usage(),
            "page": client_packages.get_page(request.GET.get("page")),
        },
    )


@allow(is_platform_admin)
def package_create(request):
    return _save_form(
        request,
        PackageForm(request.POST or None),
        lambda data: services.package_create(actor=request.user, **data),
        title="New package",
        done="Package {} created.",
        next_url="inventory:packages",
    )


@allow(is_platform_admin)
def package_edit(request, pk):
    package = get_object_or_404(Package, pk=pk)
    return _save_form(
        request,
        PackageForm(request.POST or None, instance=package),
        lambda data: services.package_update(package=package, actor=request.user, **data),
        title=f"Edit package {package}",
        done="Package {} saved.",
        next_url="inventory:packages",
    )


@allow(is_platform_admin)
def client_package_create(request):
    form = ClientPackageForm(request.POST or None, initial={"start_date": timezone.localdate()})
    return _save_form(
        request,
        form,
        lambda data: services.client_package_assign(actor=request.user, **data),
        title="Assign a package to a customer",
        done="{} assigned.",
        next_url="inventory:packages",
    )


def _client_package_switch(request, pk, *, activate):
    """GET: a confirmation page saying how many numbers change; POST: do it."""
    client_package = get_object_or_404(
        ClientPackage.objects.select_related("package", "account"), pk=pk, active=not activate
    )
    affected_status = DIDStatus.HOLD if activate else DIDStatus.ACTIVE
    if request.method == "POST":
        switch = (
            services.client_package_reactivate if activate else services.client_package_deactivate
        )
        switch(client_package=client_package, actor=request.user)
        verb = "reactivated" if activate else "deactivated"
        messages.success(request, f"{client_package} {verb}.")
        return redirect("inventory:packages")
    return render(
        request,
        "inventory/client_package_confirm.html",
        {
            "client_package": client_package,
            "activate": activate,
            "affected": selectors.numbers_under(client_package, status=affected_status),
        },
    )


@allow(is_platform_admin)
def client_package_deactivate(request, pk):
    return _client_package_switch(request, pk, activate=False)


@allow(is_platform_admin)
def client_package_reactivate(request, pk):
    return _client_package_switch(request, pk, activate=True)
