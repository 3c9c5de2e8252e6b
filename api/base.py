"""What every /v3/ view shares. Views parse and render; reads go through selectors scoped
to ``request.auth.account`` (the key's account), writes through the apps' services."""

from rest_framework import viewsets
from rest_framework.views import APIView


class ApiMixin:
    """The key's account is the tenant of every query (``self.account``)."""

    @property
    def account(self):
        return self.request.auth.account


class ApiView(ApiMixin, APIView):
    pass


class ReadOnlyViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ModelViewSet(ApiMixin, viewsets.ModelViewSet):
    pass
