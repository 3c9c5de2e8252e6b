"""Role-aware navigation. Items whose page is not built yet show as disabled."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from . import permissions


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str


NAVIGATION = [
    (
        lambda u: permissions.is_customer(u) and permissions.may_buy(u),
        [
            NavItem("Buy numbers", "catalog:coverage"),
            NavItem("My numbers", "cart:my_numbers"),
            NavItem("Orders", "cart:orders"),
            NavItem("Cart", "cart:cart"),
            NavItem("Registrations", "compliance:registrations"),
            NavItem("Balance & invoices", "billing:balance"),
        ],
    ),
    (
        permissions.is_customer,  # members who may not buy, billing users
        [
            NavItem("My numbers", "cart:my_numbers"),
            NavItem("Orders", "cart:orders"),
            NavItem("Registrations", "compliance:registrations"),
            NavItem("Balance & invoices", "billing:balance"),
        ],
    ),
    (
        permissions.is_platform_admin,
        [
            NavItem("Inventory", "inventory:dids"),
            NavItem("Pricing", "inventory:blocks"),
            NavItem("Customers", "accounts:customers"),
            NavItem("Resellers", "accounts:resellers"),
            NavItem("Orders", "cart:orders_admin"),
            NavItem("Invoices", "billing:invoice_list"),
            NavItem("Payments", "payments:home"),
            NavItem("Compliance", "compliance:requirements"),
            NavItem("Review queue", "compliance:review_queue"),
        ],
    ),
    (
        permissions.reviews_registrations,  # the platform's compliance officers
        [
            NavItem("Review queue", "compliance:review_queue"),
            NavItem("Requirements", "compliance:requirements"),
        ],
    ),
    (
        lambda u: permissions.is_finance(u) and not permissions.is_platform_admin(u),
        [
            NavItem("Balances", "billing:balances"),
            NavItem("Payments", "payments:home"),
            NavItem("Invoices", "billing:invoice_list"),
            NavItem("Reports", "billing:reports"),
            NavItem("Customers", "accounts:customers"),
            NavItem("Resellers", "accounts:resellers"),
        ],
    ),
    (
        permissions.is_reseller_admin,
        [
            NavItem("Customers", "accounts:customers"),
            NavItem("Buy numbers", "catalog:coverage"),
            NavItem("Our numbers", "cart:my_numbers"),
            NavItem("Orders", "cart:orders"),
            NavItem("Cart", "cart:cart"),
            NavItem("Registrations", "resellers:registrations"),
            NavItem("Balance & invoices", "billing:balance"),
            NavItem("Payments", "payments:home"),
            NavItem("Pricing", "catalog:reseller_pricing"),
            NavItem("Brand", "accounts:brand"),
        ],
    ),
    (
        permissions.is_reseller_support,
        [
            NavItem("Customers", "accounts:customers"),
            NavItem("Our numbers", "cart:my_numbers"),
            NavItem("Orders", "cart:orders"),
            NavItem("Registrations", "resellers:registrations"),
        ],
    ),
    (
        permissions.is_reseller_finance,
        [
            NavItem("Customers", "accounts:customers"),
            NavItem("Balance & invoices", "billing:balance"),
            NavItem("Payments", "payments:home"),
            NavItem("Orders", "cart:orders"),
        ],
    ),
]


def navigation_for(user, current_path=""):
    """List of dicts (label, url, active, available) for the user's role."""
    for predicate, items in NAVIGATION:
        if predicate(user):
            return _one_active([_resolve(item, current_path) for item in items])
    return []


def _one_active(entries):
    """Only the longest matching URL stays active (/cart/numbers/ is My numbers, not Cart)."""
    active = [entry for entry in entries if entry["active"]]
    longest = max(active, key=lambda entry: len(entry["url"]), default=None)
    for entry in active:
        entry["active"] = entry is longest
    return entries


def _resolve(item, current_path):
    try:
        url = reverse(item.url_name)
    except NoReverseMatch:
        return {"label": item.label, "url": None, "active": False, "available": False}
    active = current_path.startswith(url) and url != "/"
    return {"label": item.label, "url": url, "active": active, "available": True}
