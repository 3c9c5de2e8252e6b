"""The customer's registrations: what its numbers wait for, and each submission's page
(to be built)."""

from django.http import Http404
from django.urls import path


def registration_list(request):
    raise Http404


def submission_detail(request, pk):
    raise Http404


urlpatterns = [
    path("compliance/registrations/", registration_list, name="registrations"),
    path("compliance/registrations/<int:pk>/", submission_detail, name="submission"),
]
