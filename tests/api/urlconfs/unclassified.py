"""The portal's URLs with tests.api.examples.Unclassified's /v3/ endpoints in front."""

from tests.api.examples import Unclassified

urlpatterns = Unclassified.urlpatterns
