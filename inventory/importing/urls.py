from django.urls import path

from . import views

urlpatterns = [
    path("import/", views.import_start, name="import"),
    path("import/template.csv", views.import_template, name="import_template"),
    path("import/<int:pk>/", views.import_job, name="import_job"),
    path("import/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("import/<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
]
