from django.urls import path

from . import views, views_checkout, views_numbers

app_name = "cart"

urlpatterns = [
    path("", views.cart, name="cart"),
    path("add/", views.add, name="add"),
    path("add/pending/", views.add_pending, name="add_pending"),
    path("added/", views.added, name="added"),
    path("items/<int:pk>/", views.item_update, name="item_update"),
    path("items/<int:pk>/remove/", views.item_remove, name="item_remove"),
    path("clear/", views.clear, name="clear"),
    path("drop/", views.drop, name="drop"),
    path("hold/", views.hold_again, name="hold_again"),
    path("checkout/", views_checkout.checkout, name="checkout"),
    path("checkout/code/", views_checkout.checkout_code, name="checkout_code"),
    path("orders/", views_checkout.order_list, name="orders"),
    path("orders/<int:pk>/", views_checkout.order_detail, name="order"),
    path("orders/<int:pk>/complete/", views_checkout.order_complete, name="order_complete"),
    path("orders/all/", views_checkout.orders_admin, name="orders_admin"),
    path("numbers/", views_numbers.my_numbers, name="my_numbers"),
    path("numbers/<int:pk>/", views_numbers.my_number, name="my_number"),
    path(
        "numbers/<int:pk>/destination/",
        views_numbers.my_number_destination,
        name="my_number_destination",
    ),
    path("numbers/<int:pk>/users/", views_numbers.my_number_users, name="my_number_users"),
    path("numbers/<int:pk>/channels/", views_numbers.my_number_channels, name="my_number_channels"),
    path("numbers/<int:pk>/cancel/", views_numbers.my_number_cancel, name="my_number_cancel"),
    path("numbers/<int:pk>/keep/", views_numbers.my_number_keep, name="my_number_keep"),
]
