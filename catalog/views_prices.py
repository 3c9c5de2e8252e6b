"""A reseller's price list: its rules, adding or changing one with a preview first, its
history, and its scheduled renewal price changes. Admins edit; finance members read."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.permissions import allow, may_edit_price_list, may_view_price_list
from accounts.scoping import get_scoped_or_404
from didportal.forms import add_service_errors

from . import selectors_prices, services
from .forms import MarkupRuleForm, PreviewPage
from .models import MarkupRule, RenewalPriceChange

PREVIEW_PAGE_SIZE = 25
RENEWAL_NOTICE_DAYS = 30  # billing.services.repricing.NOTICE_DAYS checks it


@allow(may_view_price_list)
def price_list(request):
    reseller = request.user.account
    rules = selectors_prices.price_list_rules(reseller)
    context = {
        "rules": [(rule, selectors_prices.rule_summary(rule)) for rule in rules],
        "changes": selectors_prices.renewal_price_changes(reseller),
        "may_edit": may_edit_price_list(request.user),
        "discount": reseller.wholesale_discount,
        "earliest": timezone.localdate() + timedelta(days=RENEWAL_NOTICE_DAYS),
    }
    return render(request, "catalog/price_list.html", context)


def _rule_page(request, rule=None):
    """The form of a new or changed rule: "preview" shows the blocks it reaches; "save"
    saves it; "edit" goes back to the form."""
    reseller = request.user.account
    if request.method != "POST":
        initial = MarkupRuleForm.initial_of(rule) if rule else None
        return _form(request, MarkupRuleForm(initial=initial), rule)
    form = MarkupRuleForm(request.POST)
    action = request.POST.get("action", "preview")
    if not form.is_valid() or action == "edit":
        return _form(request, form, rule, status=200 if form.is_valid() else 400)
    try:
        if action == "save":
            saved = services.markup_rule_save(
                reseller=reseller, actor=request.user, rule=rule, **form.rule_fields()
            )
            messages.success(request, f"Saved the rule for {saved.target_label}.")
            return redirect("catalog:reseller_pricing")
        draft = services.markup_rule_build(reseller=reseller, rule=rule, **form.rule_fields())
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _form(request, form, rule, status=400)
    rows = selectors_prices.price_list_preview(reseller=reseller, rule=draft)
    return _preview(request, form=form, rule=rule, draft=draft, rows=rows)


def _form(request, form, rule, status=200):
    parts = [(form[f"{part}_percent"], form[f"{part}_fixed"]) for part, _ in MarkupRule.PARTS]
    context = {"form": form, "rule": rule, "part_fields": parts}
    return render(request, "catalog/price_rule_form.html", context, status=status)


def _preview(request, *, form, rule, draft, rows, delete=False):
    number = PreviewPage(request.POST).values()["page"] or 1
    page = Paginator(rows, PREVIEW_PAGE_SIZE).get_page(number)
    context = {
        "form": form,
        "rule": rule,
        "draft": draft,
        "summary": selectors_prices.rule_summary(draft),
        "page": page,
        "count": len(rows),
        "changed": sum(1 for row in rows if row.changed),
        "delete": delete,
    }
    return render(request, "catalog/price_rule_preview.html", context)


@allow(may_edit_price_list)
def rule_new(request):
    return _rule_page(request)


@allow(may_edit_price_list)
def rule_edit(request, pk):
    rule = get_scoped_or_404(MarkupRule.objects.select_related("block"), request.user, pk=pk)
    return _rule_page(request, rule)


@allow(may_edit_price_list)
def rule_delete(request, pk):
    """GET or POST "preview": the blocks whose price the removal changes; POST "delete"."""
    rule = get_scoped_or_404(MarkupRule.objects.select_related("block"), request.user, pk=pk)
    if request.method == "POST" and request.POST.get("action") == "delete":
        services.markup_rule_delete(rule=rule, actor=request.user)
        messages.success(request, f"Removed the rule for {rule.target_label}.")
        return redirect("catalog:reseller_pricing")
    rows = selectors_prices.price_list_preview(
        reseller=request.user.account, rule=rule, delete=True
    )
    return _preview(request, form=None, rule=rule, draft=rule, rows=rows, delete=True)


@allow(may_view_price_list)
def price_list_history(request):
    records = selectors_prices.price_list_history(request.user.account)
    page = Paginator(records, 25).get_page(request.GET.get("page"))
    rows = [(record, selectors_prices.rule_summary(record)) for record in page.object_list]
    return render(request, "catalog/price_list_history.html", {"page": page, "rows": rows})


@require_POST
@allow(may_edit_price_list)
def renewal_change_cancel(request, pk):
    change = get_scoped_or_404(RenewalPriceChange.objects, request.user, pk=pk)
    try:
        services.renewal_price_change_cancel(change=change, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Cancelled the change of {change.effective_on:%d %B %Y}: your customers keep "
            "their prices, and we told them so.",
        )
    return redirect("catalog:reseller_pricing")
