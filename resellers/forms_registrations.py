"""The reseller's registrations page's filters (GET), parsed so no odd value reaches a query."""

from django import forms

from didportal.forms import QueryForm

from .selectors_registrations import ChaseStatus


class RegistrationsQuery(QueryForm):
    """``customer``: one of the reseller's customers (others: every customer); ``status``:
    where the registration stands."""

    customer = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(required=False, choices=ChaseStatus.CHOICES)

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = [("", "All customers")] + [
            (customer.pk, customer.name) for customer in customers
        ]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"
