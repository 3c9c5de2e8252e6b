from decimal import Decimal

from rest_framework.response import Response

from billing.selectors import balance_for

from .base import ApiView
from .serializers_balance import BalanceSerializer


class BalanceView(ApiView):
    """``GET /v3/balance``: the key's account's prepaid balance."""

    resource_name = "balances"
    serializer_class = BalanceSerializer

    def get(self, request):
        amount = balance_for(self.account)
        data = {
            "id": str(self.account.pk),
            "balance": amount,
            "credit": Decimal("0.00"),
            "total_balance": amount,
        }
        return Response(BalanceSerializer(data).data)
