from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from .reader import ImportFileError, check_name_and_size


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV or XLSX file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Upload and check"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            check_name_and_size(upload.name, upload.size)
        except ImportFileError as exc:
            raise forms.ValidationError(str(exc)) from None
        return upload
