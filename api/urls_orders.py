"""/v3/ routes of reservations and orders (included by ``api.urls``). Ids are matched as
text so an id that is not a number answers the API's 404, not the site's page."""

from django.urls import path

from .views_orders import DidReservationViewSet, OrderViewSet

reservations = DidReservationViewSet.as_view({"get": "list", "post": "create"})
reservation = DidReservationViewSet.as_view({"get": "retrieve", "delete": "destroy"})
orders = OrderViewSet.as_view({"get": "list", "post": "create"})
order = OrderViewSet.as_view({"get": "retrieve"})

urlpatterns = [
    path("did_reservations", reservations, name="did-reservations"),
    path("did_reservations/<str:pk>", reservation, name="did-reservation"),
    path("orders", orders, name="orders"),
    path("orders/<str:pk>", order, name="order"),
]
