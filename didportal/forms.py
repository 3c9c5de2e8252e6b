"""Form helpers shared by every app's views."""

from django import forms


class QueryForm(forms.Form):
    """A page's GET parameters, every field optional: pages parse their query string here.

    ``values()`` gives each field's cleaned value, or its empty value where the query string
    has something that does not parse (a NUL byte, an unknown choice, text for a number), so
    no odd query string reaches a database query or ends in an error page.
    """

    def values(self):
        empty = {name: field.clean("") for name, field in self.fields.items()}
        self.is_valid()
        return {**empty, **self.cleaned_data}


def parse_id(text):
    """``text`` as a database id, or None: ASCII digits only (``"²".isdigit()`` is true) and
    within a bigint."""
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    return None


class IdListField(forms.Field):
    """Ids as a repeated parameter (``?block=1&block=2``) or comma-separated (``?items=1,2``);
    anything else in the list is left out."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        parts = (part for item in value or [] for part in str(item).split(","))
        return [number for number in map(parse_id, parts) if number is not None]


def add_service_errors(form, exc, *, field=None, renames=None):
    """Show a service's ValidationError on ``form``: each message on the field it names
    (``renames`` maps a service's argument names to the form's fields), else on ``field``
    (None: at the top of the form)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(field, exc)
        return
    renames = renames or {}
    for name, errors in exc.error_dict.items():
        name = renames.get(name, name)
        form.add_error(name if name in form.fields else field, errors)
