from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.coverage, name="coverage"),
    path("<str:code>/", views.country, name="country"),
    path("<str:code>/search/", views.numbers, name="numbers"),
]
