"""Reads of the bank lane: a seller's statements and lines, and the accounts to assign to.

Every read starts from the seller (the user's account): another seller's statement or
line is not found (a 404 in the views)."""

from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404

from . import references
from .models import BankStatement, BankStatementLine
from .services.bank import collected_accounts

Status = BankStatementLine.Status


def statements_for(seller):
    return (
        BankStatement.objects.filter(seller=seller)
        .annotate(
            proposed=Count("lines", filter=Q(lines__status=Status.PROPOSED)),
            unmatched=Count("lines", filter=Q(lines__status=Status.UNMATCHED)),
            booked=Count("lines", filter=Q(lines__status=Status.BOOKED)),
        )
        .select_related("uploaded_by")
        .order_by("-pk")
    )


def statement_for(seller, pk):
    return get_object_or_404(
        BankStatement.objects.select_related("uploaded_by"), seller=seller, pk=pk
    )


def lines_of(statement, status=""):
    lines = statement.lines.select_related("account", "decided_by", "ledger_entry")
    return lines.filter(status=status) if status else lines


def status_counts(statement) -> dict:
    counts = {status: 0 for status in Status.values}
    for row in statement.lines.values("status").annotate(n=Count("pk"), total=Sum("amount")):
        counts[row["status"]] = row["n"]
    return counts


def proposed_lines(seller, ids):
    return (
        BankStatementLine.objects.filter(seller=seller, pk__in=ids, status=Status.PROPOSED)
        .select_related("account")
        .order_by("pk")
    )


def unmatched_for(seller):
    return (
        BankStatementLine.objects.filter(seller=seller, status=Status.UNMATCHED)
        .select_related("statement")
        .order_by("-booking_date", "-pk")
    )


def unmatched_count(seller) -> int:
    return BankStatementLine.objects.filter(seller=seller, status=Status.UNMATCHED).count()


def line_for(seller, pk):
    return get_object_or_404(
        BankStatementLine.objects.select_related(
            "statement", "account", "ledger_entry", "decided_by"
        ),
        seller=seller,
        pk=pk,
    )


def accounts_matching(seller, search, limit=20):
    """Accounts ``seller`` collects for whose name, legal name, id or payment reference
    matches ``search``."""
    accounts = collected_accounts(seller).order_by("name")
    search = (search or "").strip()
    if not search:
        return accounts.none()
    condition = Q(name__icontains=search) | Q(legal_name__icontains=search)
    found = references.account_id_of(search)
    if found is not None:
        condition |= Q(pk=found)
    if search.isascii() and search.isdigit() and len(search) <= 18:
        condition |= Q(pk=int(search))
    return accounts.filter(condition)[:limit]
