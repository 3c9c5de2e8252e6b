"""The portal's URLs with tests.api.examples.Leaky's /v3/ endpoints in front."""

from tests.api.examples import Leaky

urlpatterns = Leaky.urlpatterns
