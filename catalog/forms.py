"""The catalog's query strings, parsed (the pages are public: anything may arrive)."""

from django import forms

from didportal.forms import IdListField, QueryForm

from .selectors import MATCH_MODES


class NumberSearchQuery(QueryForm):
    n = forms.CharField(required=False, max_length=100)
    match = forms.ChoiceField(required=False, choices=[(mode, mode) for mode in MATCH_MODES])
    block = IdListField(required=False)
    after = forms.CharField(required=False, max_length=16)
    before = forms.CharField(required=False, max_length=16)

    def clean_n(self):
        """Digits (and +) of the number searched for; anything else is ignored."""
        return "".join(ch for ch in self.cleaned_data["n"] if ch in "+0123456789")
