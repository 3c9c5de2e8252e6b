"""Compliance pages (namespace ``compliance``), included at the site root:

- ``/staff/compliance/…``: the platform admins' requirements console, next to the stock console;
- ``/compliance/requirements/<id>/``: a requirement's current text, public (the catalog's
  "Documents required" badge links here);
- ``/compliance/agreements/…``: recorded agreements, scoped to the viewer's tenant.
"""

from django.urls import path

from . import views, views_profile, views_registrations, views_review

app_name = "compliance"

urlpatterns = [
    path("staff/compliance/requirements/", views.requirement_list, name="requirements"),
    path("staff/compliance/requirements/new/", views.requirement_create, name="requirement_create"),
    path(
        "staff/compliance/requirements/<int:pk>/",
        views.requirement_view,
        name="requirement_view",
    ),
    path(
        "staff/compliance/requirements/<int:pk>/edit/",
        views.requirement_edit,
        name="requirement_edit",
    ),
    path(
        "staff/compliance/requirements/<int:pk>/deactivate/",
        views.requirement_deactivate,
        name="requirement_deactivate",
    ),
    path(
        "staff/compliance/requirements/<int:pk>/reactivate/",
        views.requirement_reactivate,
        name="requirement_reactivate",
    ),
    path("compliance/requirements/<int:pk>/", views.requirement_detail, name="requirement"),
    path("compliance/agreements/", views.agreement_list, name="agreements"),
    path("compliance/agreements/<int:pk>/", views.agreement_detail, name="agreement_detail"),
]
urlpatterns += views_profile.urlpatterns + views_registrations.urlpatterns
urlpatterns += views_review.urlpatterns
