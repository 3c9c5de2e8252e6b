"""Form helpers shared by every app's views."""


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
