"""Payments' writes, by sub-domain: ``card`` (card payments started and credited),
``webhooks`` (provider events), ``bank`` (statements), ``refunds`` (payouts of unused
balance), ``receipts``, ``autotopup``. Import them by module."""
