"""Forms of the cart: they parse and check one field each; the services hold the rules."""

from django import forms

from catalog.pricing import PER_PERIOD, block_prices
from didportal.forms import IdListField, QueryForm, parse_id
from didportal.templatetags.portal import money as money_text
from inventory.models import NumberBlock

from .models import PERIOD_LABELS, Order, offered_periods
from .services import MAX_CHANNELS, MAX_QUANTITY


def _channels_help(item):
    """ "2 included, extra 1.50 each per month" in the buyer's prices, for the line's period."""
    prices = block_prices(item.block, item.cart.account)
    included = f"{prices.channels_included} included"
    if not prices.extra_channel_monthly:
        return f"{included}, extra ones free."
    extra = money_text(prices.extra_channel_price(item.billing_period))
    return f"{included}, extra {extra} each {PER_PERIOD[item.billing_period]}."


def agreed_requirements(post):
    """{requirement id: version shown} from a checkout's ticked ``agree_<id>`` boxes (the
    cart's checkout and a reseller buying for its customer)."""
    agreed = {}
    for name, value in post.items():
        suffix = name.removeprefix("agree_")
        requirement_id, version = parse_id(suffix), parse_id(value)
        if suffix != name and requirement_id is not None and version is not None:
            agreed[requirement_id] = version
    return agreed


def quantity_field():
    """How many numbers of an "any N" line, with messages that name the field."""
    return forms.IntegerField(
        label="Quantity",
        min_value=1,
        max_value=MAX_QUANTITY,
        error_messages={
            "required": "Quantity: say how many numbers you want.",
            "invalid": "Quantity must be a whole number.",
            "min_value": "Quantity must be at least 1.",
            "max_value": f"Quantity must be at most {MAX_QUANTITY}.",
        },
    )


class CartItemForm(forms.Form):
    """Channels, billing period and (for "any N") quantity of one cart line."""

    channels = forms.IntegerField(
        label="Channels",
        min_value=1,
        max_value=MAX_CHANNELS,
    )
    billing_period = forms.ChoiceField(label="Billing period")
    quantity = quantity_field()

    def __init__(self, *args, item, **kwargs):
        kwargs.setdefault("prefix", f"item-{item.pk}")
        kwargs.setdefault(
            "initial",
            {
                "channels": item.channels,
                "billing_period": item.billing_period,
                "quantity": item.quantity,
            },
        )
        super().__init__(*args, **kwargs)
        self.item = item
        periods = offered_periods(item.block)
        self.fields["billing_period"].choices = [(p, PERIOD_LABELS[p]) for p in periods]
        self.fields["channels"].help_text = _channels_help(item)
        if not item.is_any:
            del self.fields["quantity"]


class AddAnyForm(forms.Form):
    """ "Any N numbers from this area" on the catalog's number search."""

    block = forms.ModelChoiceField(
        queryset=NumberBlock.objects.all(),
        error_messages={
            "required": "Choose an area first.",
            "invalid_choice": "That area is no longer offered.",
        },
    )
    quantity = quantity_field()


class OrdersQuery(QueryForm):
    q = forms.CharField(required=False, max_length=200)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Order.Status.choices])


class PanelQuery(QueryForm):
    """The added-to-cart panel's parameters: the page's query string, or its forms' POST."""

    items = IdListField(required=False)
    back = forms.CharField(required=False, max_length=2000)
