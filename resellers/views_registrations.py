"""The reseller's view of its customers' registrations: which numbers wait for one, until
when, and where each registration stands (the reviewer's reasons and comment after a
rejection), so the reseller can chase its customers. Statuses only: a reseller never sees
its customers' identities, addresses or documents (``accounts.permissions``), and its own
account's registrations are on the customer pages (``compliance:registrations``).

Its admins and support (``serves_customers``), like the customer's numbers.
"""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path

from accounts.permissions import allow, may_serve_customer, provides_registrations, serves_customers

from . import selectors_registrations as chase
from .forms_registrations import RegistrationsQuery
from .views import _customer, _render

PAGE_SIZE = 25


def _with_reasons(rows, attribute=None):
    for row in rows:
        submission = getattr(row, attribute) if attribute else row
        row.reasons = chase.reason_labels(submission.rejection_reasons) if submission else []
    return rows


@allow(serves_customers)
def registrations(request):
    customers = chase.reseller_customers(request.user)
    query = RegistrationsQuery(request.GET, customers=customers)
    values = query.values()
    rows = chase.awaiting_numbers(
        request.user, customer_id=values["customer"], status=values["status"]
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    _with_reasons(page.object_list, "submission")
    context = {
        "query": query,
        "page": page,
        "is_filtered": bool(values["customer"] or values["status"]),
        "has_customers": customers.exists(),
        "own_registrations": provides_registrations(request.user),
    }
    return render(request, "resellers/registrations.html", context)


@allow(serves_customers)
def customer_registrations(request, pk):
    customer = _customer(request, pk, may_serve_customer)
    submissions = _with_reasons(list(chase.customer_submissions(request.user, customer)))
    awaiting = Paginator(chase.awaiting_numbers(request.user, customer_id=customer.pk), PAGE_SIZE)
    context = {
        "submissions": submissions,
        "page": awaiting.get_page(request.GET.get("page")),
        "cancelled": chase.customer_cancelled(request.user, customer),
    }
    return _render(
        request, "resellers/customer_registrations.html", customer, "registrations", context
    )


urlpatterns = [
    path("registrations/", registrations, name="registrations"),
    path(
        "customers/<int:pk>/registrations/",
        customer_registrations,
        name="customer_registrations",
    ),
]
