"""Registration requirements per country and number type."""

from django.db import models
from django.utils import timezone
from django_countries.fields import CountryField

from inventory.choices import NumberType


class Requirement(models.Model):
    """What a buyer must provide or accept before numbers of a country/type are activated.

    A blank ``number_type`` applies to every number type of the country. Editing the legal
    text means raising ``version`` so agreements recorded against the old text stay meaningful.
    """

    country = CountryField()
    number_type = models.CharField(
        max_length=16, choices=NumberType.choices, blank=True, help_text="Blank: all types."
    )
    title = models.CharField(max_length=200)
    text = models.TextField(help_text="Legal text and notes shown to the buyer.")
    version = models.PositiveIntegerField(default=1)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["country", "number_type", "title"]

    def __str__(self):
        kind = self.get_number_type_display() if self.number_type else "all types"
        return f"{self.title} ({self.country.code}, {kind}, v{self.version})"
