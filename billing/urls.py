from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("balance/", views.balance, name="balance"),
    path("balances/", views.balances, name="balances"),
    path("balances/<int:pk>/", views.statement, name="statement"),
    path("balances/<int:pk>/export.csv", views.statement_export, name="statement_export"),
    path("balances/<int:pk>/topup/", views.topup, name="topup"),
    path("balances/<int:pk>/adjust/", views.adjust, name="adjust"),
    path("tax-rates/", views.tax_rates, name="tax_rates"),
]
