"""The portal's URLs with tests.api.examples.Misdescribed's /v3/ endpoints in front."""

from tests.api.examples import Misdescribed

urlpatterns = Misdescribed.urlpatterns
