"""The portal's URLs with tests.api.examples.ScopeIgnoring's /v3/ endpoints in front."""

from tests.api.examples import ScopeIgnoring

urlpatterns = ScopeIgnoring.urlpatterns
