"""The DID import pages (platform admins): upload → dry run → preview → confirm."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import allow, is_platform_admin
from didportal.csv_export import csv_download

from .. import tasks
from ..models import ImportJob
from . import services
from .columns import COLUMNS, EXPORT_ONLY
from .forms import ImportUploadForm
from .reader import max_bytes


@allow(is_platform_admin)
def import_start(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = services.import_job_create(
            uploaded_file=form.cleaned_data["file"], actor=request.user
        )
        if services.runs_inline(name=job.original_name, size=job.size):
            services.import_job_check(job_id=job.pk)
        else:
            transaction.on_commit(lambda: tasks.check_import.delay(job.pk))
        return redirect("inventory:import_job", pk=job.pk)
    context = {
        "form": form,
        "columns": COLUMNS,
        "export_only": EXPORT_ONLY,
        "max_mb": max_bytes() // services.MB,
        "jobs": ImportJob.objects.select_related("created_by")[:10],
    }
    return render(request, "inventory/import/start.html", context)


@allow(is_platform_admin)
def import_template(request):
    header = [column.name for column in COLUMNS]
    return csv_download("did-import-template.csv", header, [[c.example for c in COLUMNS]])


@allow(is_platform_admin)
def import_job(request, pk):
    job = get_object_or_404(ImportJob.objects.select_related("created_by"), pk=pk)
    return render(request, "inventory/import/job.html", {"job": job})


@allow(is_platform_admin)
def import_progress(request, pk):
    """The progress bar, polled by htmx; once the job stops moving the page reloads."""
    job = get_object_or_404(ImportJob, pk=pk)
    response = render(request, "inventory/import/_progress.html", {"job": job})
    if not job.in_progress:
        response["HX-Refresh"] = "true"
    return response


@allow(is_platform_admin)
@require_POST
def import_confirm(request, pk):
    job = get_object_or_404(ImportJob, pk=pk)
    if services.import_job_confirm(job_id=job.pk) is None:
        messages.error(request, "This file is not waiting to be imported.")
    elif services.runs_inline(name=job.original_name, size=job.size):
        services.import_job_run(job_id=job.pk)
    else:
        transaction.on_commit(lambda: tasks.run_import.delay(job.pk))
    return redirect("inventory:import_job", pk=job.pk)
