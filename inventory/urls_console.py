"""The platform admins' stock console, under /staff/inventory/ (namespace ``inventory``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("dids/", views.did_list, name="dids"),
    path("dids/export.csv", views.did_export, name="did_export"),
    path("dids/bulk/", views.did_bulk, name="did_bulk"),
    path("dids/<int:pk>/", views.did_detail, name="did_detail"),
    path("dids/<int:pk>/status/", views.did_change_status, name="did_change_status"),
    path("dids/<int:pk>/assign/", views.did_assign, name="did_assign"),
    path("dids/<int:pk>/details/", views.did_edit_details, name="did_edit_details"),
    path("blocks/", views.block_list, name="blocks"),
    path("blocks/new/", views.block_create, name="block_create"),
    path("blocks/<int:pk>/edit/", views.block_edit, name="block_edit"),
    path("blocks/<int:pk>/add-numbers/", views.block_add_numbers, name="block_add_numbers"),
    path("operators/", views.operator_list, name="operators"),
    path("operators/new/", views.operator_create, name="operator_create"),
    path("operators/<int:pk>/edit/", views.operator_edit, name="operator_edit"),
    path("packages/", views.package_list, name="packages"),
    path("packages/new/", views.package_create, name="package_create"),
    path("packages/<int:pk>/edit/", views.package_edit, name="package_edit"),
    path("client-packages/new/", views.client_package_create, name="client_package_create"),
    path(
        "client-packages/<int:pk>/deactivate/",
        views.client_package_deactivate,
        name="client_package_deactivate",
    ),
    path(
        "client-packages/<int:pk>/reactivate/",
        views.client_package_reactivate,
        name="client_package_reactivate",
    ),
    path("audit/", views.audit_log, name="audit_log"),
]
