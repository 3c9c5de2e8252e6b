"""Receipts of top-ups and payouts of unused balance (being built)."""

from django.http import Http404
from django.urls import path


def receipt_pdf(request, pk):
    raise Http404("Receipts are being built.")


urlpatterns = [
    path("receipts/<int:pk>/pdf/", receipt_pdf, name="receipt_pdf"),
]
