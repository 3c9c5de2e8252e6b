import factory

from compliance.models import Requirement


class RequirementFactory(factory.django.DjangoModelFactory):
    """A requirement made directly (no version row yet), like the ones made before versions
    were kept; use ``services.requirement_save`` to go through the console's path."""

    class Meta:
        model = Requirement

    country = "DE"
    number_type = "local"
    title = factory.Sequence(lambda n: f"Proof of address {n}")
    text = "German geographic numbers need an address in the area code's local network."
