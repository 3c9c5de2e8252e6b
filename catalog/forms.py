"""The catalog's query strings, parsed (the pages are public: anything may arrive)."""

from django import forms

from didportal.forms import IdListField, QueryForm

from .search import MATCH_MODES


class NumberSearchQuery(QueryForm):
    match = forms.ChoiceField(required=False, choices=[(mode, mode) for mode in MATCH_MODES])
    block = IdListField(required=False)
    after = forms.CharField(required=False, max_length=16)
    before = forms.CharField(required=False, max_length=16)
