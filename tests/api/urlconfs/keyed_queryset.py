"""The portal's URLs with tests.api.examples.KeyedQueryset's /v3/ endpoints in front."""

from tests.api.examples import KeyedQueryset

urlpatterns = KeyedQueryset.urlpatterns
