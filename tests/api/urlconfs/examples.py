"""The portal's URLs with tests.api.examples.Examples's /v3/ endpoints in front."""

from tests.api.examples import Examples

urlpatterns = Examples.urlpatterns
