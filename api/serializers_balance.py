from rest_framework_json_api import serializers


class BalanceSerializer(serializers.Serializer):
    """DIDWW's balance: ``balance`` is the prepaid money, ``credit`` what may be spent
    beyond it (none: balances never go below zero), ``total_balance`` their sum."""

    id = serializers.CharField()
    total_balance = serializers.DecimalField(max_digits=14, decimal_places=2)
    credit = serializers.DecimalField(max_digits=14, decimal_places=2)
    balance = serializers.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        resource_name = "balances"
