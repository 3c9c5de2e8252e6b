"""Forms of the brand editor (resellers) and the host registry page (platform admins)."""

from django import forms

from .branding import BRAND_FIELDS, colour_normalise
from .forms import CrispyForm


class BrandForm(CrispyForm, forms.Form):
    submit_label = "Save brand"
    display_name = forms.CharField(
        label="Display name",
        max_length=100,
        help_text="What your customers see instead of ours: page titles, e-mails, invoices.",
    )
    logo = forms.FileField(
        required=False,
        help_text="PNG or JPEG, at most 200 KB and 1200×600 pixels. Shown on your "
        "customers' pages and invoices.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
        error_messages={"empty": "The logo file is empty."},
    )
    remove_logo = forms.BooleanField(label="Remove the current logo", required=False)
    primary_colour = forms.CharField(
        label="Primary colour",
        max_length=7,
        help_text="The navigation bar's colour, as #rrggbb.",
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    support_email = forms.EmailField(label="Support e-mail", required=False)
    support_phone = forms.CharField(
        label="Support phone",
        max_length=32,
        required=False,
        help_text="With the country code, such as +31 20 123 4567.",
    )
    invoice_footer = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    bank_details = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Printed on your invoices: where your customers pay you.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.form_tag = True
        self.helper.attrs = {"enctype": "multipart/form-data"}

    def clean_primary_colour(self):
        try:
            return colour_normalise(self.cleaned_data["primary_colour"])
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None

    def clean_logo(self):
        """The uploaded bytes (size-capped while reading), or None for no upload."""
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        from django.conf import settings  # noqa: PLC0415

        cap = getattr(settings, "BRAND_LOGO_MAX_BYTES", 200 * 1024)
        if upload.size > cap:
            raise forms.ValidationError(
                f"The logo is {upload.size // 1024} KB; the most is {cap // 1024} KB."
            )
        return upload.read(cap + 1)

    def brand_fields(self):
        return {key: self.cleaned_data[key] for key in BRAND_FIELDS}


class BrandHostForm(CrispyForm, forms.Form):
    submit_label = "Add host"
    host = forms.CharField(
        label="Host name",
        max_length=300,
        help_text="Such as voice.reseller.example. Point its DNS at the portal and give it "
        "a TLS certificate first.",
    )
