from django.urls import path

from . import views, views_invoices, views_reports, views_repricing

app_name = "billing"

urlpatterns = [
    path("balance/", views.balance, name="balance"),
    path("balances/", views.balances, name="balances"),
    path("balances/<int:pk>/", views.statement, name="statement"),
    path("balances/<int:pk>/export.csv", views.statement_export, name="statement_export"),
    path("balances/<int:pk>/topup/", views.topup, name="topup"),
    path("balances/<int:pk>/adjust/", views.adjust, name="adjust"),
    path("tax-rates/", views.tax_rates, name="tax_rates"),
    path("invoices/", views_invoices.invoices, name="invoices"),
    path("invoices/all/", views_invoices.invoice_list, name="invoice_list"),
    path("invoices/all/export.csv", views_invoices.invoice_export, name="invoice_export"),
    path("invoices/<int:pk>/", views_invoices.invoice, name="invoice"),
    path("invoices/<int:pk>/pdf/", views_invoices.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:pk>/void/", views_invoices.invoice_void, name="invoice_void"),
    path("credit-notes/<int:pk>/pdf/", views_invoices.credit_note_pdf, name="credit_note_pdf"),
    path("reports/", views_invoices.reports, name="reports"),
    path("reports/wholesale.csv", views_reports.wholesale_export, name="wholesale_export"),
    path("margin/", views_reports.margin_report, name="margin_report"),
    path("margin/export.csv", views_reports.margin_export, name="margin_export"),
    path(
        "renewal-price-changes/",
        views_repricing.renewal_price_change_schedule_view,
        name="renewal_price_change_schedule",
    ),
]
