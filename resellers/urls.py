from django.urls import path

from . import views, views_registrations

app_name = "resellers"

urlpatterns = [
    path("customers/<int:pk>/statement/", views.statement, name="statement"),
    path("customers/<int:pk>/statement.csv", views.statement_export, name="statement_export"),
    path("customers/<int:pk>/topup/", views.topup, name="topup"),
    path("customers/<int:pk>/numbers/", views.numbers, name="numbers"),
    path("customers/<int:pk>/orders/", views.order_list, name="orders"),
    path("customers/<int:pk>/invoices/", views.invoices, name="invoices"),
    path("customers/<int:pk>/buy/", views.buy, name="buy"),
]
urlpatterns += views_registrations.urlpatterns
