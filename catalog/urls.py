from django.urls import path

from . import views, views_prices

app_name = "catalog"

urlpatterns = [
    path("", views.coverage, name="coverage"),
    # A reseller's price list (before "<code>/": "price-list" is no country).
    path("price-list/", views_prices.price_list, name="reseller_pricing"),
    path("price-list/rules/new/", views_prices.rule_new, name="price_rule_new"),
    path("price-list/rules/<int:pk>/", views_prices.rule_edit, name="price_rule_edit"),
    path("price-list/rules/<int:pk>/delete/", views_prices.rule_delete, name="price_rule_delete"),
    path("price-list/history/", views_prices.price_list_history, name="price_list_history"),
    path(
        "price-list/renewal-changes/<int:pk>/cancel/",
        views_prices.renewal_change_cancel,
        name="renewal_price_change_cancel",
    ),
    path("<str:code>/", views.country, name="country"),
    path("<str:code>/search/", views.numbers, name="numbers"),
]
