"""The portal's URLs with tests.api.examples.Crashing's /v3/ endpoints in front."""

from tests.api.examples import Crashing

urlpatterns = Crashing.urlpatterns
