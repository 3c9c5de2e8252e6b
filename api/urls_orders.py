"""/v3/ routes of this part of the API (included by ``api.urls``)."""

urlpatterns = []
