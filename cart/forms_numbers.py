"""Forms of My numbers: each parses its own fields; the services hold the rules."""

import uuid

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import get_user_model

from inventory.models import RING_TIMEOUT_MAX, RING_TIMEOUT_MIN
from inventory.numbers import validate_destination

from .services import MAX_CHANNELS

STATUS_CHOICES = [
    ("", "Any status"),
    ("active", "Active"),
    ("hold", "On hold"),
    ("awaiting_registration", "Awaiting registration"),
    ("ending", "Cancelled, ending"),
]


class MyNumbersFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "placeholder": "Digits, 020 555… or +31 20…",
                "inputmode": "tel",
                "class": "form-control",
                "type": "search",
            }
        ),
    )
    status = forms.ChoiceField(
        label="Status",
        choices=STATUS_CHOICES,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )


def _helper(label, *, css="btn-primary"):
    helper = FormHelper()
    helper.form_tag = False  # the page wraps each form with its own action
    helper.add_input(Submit("submit", label, css_class=css))
    return helper


class DestinationForm(forms.Form):
    RING_FOREVER, RING_TIMEOUT = "forever", "timeout"

    destination = forms.CharField(
        label="Forward calls to",
        required=False,
        max_length=255,
        validators=[validate_destination],
        help_text="An E.164 number (+31205550000) or a SIP URI (sip:office@pbx.example.com). "
        "Leave it empty to stop forwarding.",
    )
    ring = forms.ChoiceField(
        label="Ring",
        choices=[(RING_FOREVER, "Until answered"), (RING_TIMEOUT, "For at most…")],
        widget=forms.RadioSelect,
        error_messages={"required": "Ring: choose until answered or a timeout."},
    )
    ring_timeout = forms.IntegerField(
        label="Ring timeout (seconds)",
        required=False,
        min_value=RING_TIMEOUT_MIN,
        max_value=RING_TIMEOUT_MAX,
        help_text=f"{RING_TIMEOUT_MIN}–{RING_TIMEOUT_MAX} seconds.",
        error_messages={
            "invalid": "Ring timeout: enter a whole number of seconds.",
            "min_value": f"Ring timeout: at least {RING_TIMEOUT_MIN} seconds.",
            "max_value": f"Ring timeout: at most {RING_TIMEOUT_MAX} seconds.",
        },
    )

    def __init__(self, *args, did=None, **kwargs):
        if did is not None:
            kwargs.setdefault(
                "initial",
                {
                    "destination": did.destination,
                    "ring": self.RING_FOREVER if did.ring_timeout is None else self.RING_TIMEOUT,
                    "ring_timeout": did.ring_timeout,
                },
            )
        super().__init__(*args, **kwargs)
        self.helper = _helper("Save destination")

    def clean_destination(self):
        return self.cleaned_data["destination"].strip()

    def clean(self):
        data = super().clean()
        if data.get("ring") == self.RING_TIMEOUT and data.get("ring_timeout") is None:
            if "ring_timeout" not in self.errors:
                self.add_error(
                    "ring_timeout",
                    f"Ring timeout: enter {RING_TIMEOUT_MIN}–{RING_TIMEOUT_MAX} seconds, "
                    "or choose to ring until answered.",
                )
        return data

    def service_kwargs(self):
        data = self.cleaned_data
        timeout = data["ring_timeout"] if data["ring"] == self.RING_TIMEOUT else None
        return {"destination": data["destination"], "ring_timeout": timeout}


class AssignUsersForm(forms.Form):
    users = forms.ModelMultipleChoiceField(
        label="Users of your account",
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Who looks after this number. Untick everyone to assign it to nobody.",
        error_messages={"invalid_choice": "Users: %(value)s is not a user of your account."},
    )

    def __init__(self, *args, account, assigned=(), **kwargs):
        kwargs.setdefault("initial", {"users": [user.pk for user in assigned]})
        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = (
            get_user_model()
            .objects.filter(account=account, is_active=True)
            .order_by("full_name", "email")
        )
        self.fields["users"].label_from_instance = lambda user: (
            f"{user.full_name} ({user.email})" if user.full_name else user.email
        )
        self.helper = _helper("Save assignment")


class ChannelsForm(forms.Form):
    channels = forms.IntegerField(
        label="Channels",
        min_value=1,
        max_value=MAX_CHANNELS,
        help_text="Simultaneous calls. More start now and are charged pro rata for the rest of "
        "this period; fewer take effect when the paid period ends.",
        error_messages={
            "required": "Channels: enter how many simultaneous calls you need.",
            "invalid": "Channels: enter a whole number.",
            "min_value": "Channels: at least 1.",
            "max_value": f"Channels: at most {MAX_CHANNELS}.",
        },
    )
    # Set on the confirmation page: the second POST does it.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # A one-time key carried from the confirmation page: a double submit buys once.
    token = forms.UUIDField(required=False, widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, current=None, **kwargs):
        if current is not None:
            kwargs.setdefault("initial", {"channels": current})
        super().__init__(*args, **kwargs)
        self.helper = _helper("Change channels…")

    def clean(self):
        data = super().clean()
        if data.get("confirm") and not data.get("token"):
            raise forms.ValidationError("This confirmation has expired; start again.")
        return data
