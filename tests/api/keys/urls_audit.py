"""The site's URLs plus two /v3/ write views made for the audit tests (no lane's real write
endpoint is needed to prove the hook)."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.urls import path
from rest_framework import status
from rest_framework.response import Response

from api.base import ApiView
from didportal.urls import urlpatterns as site
from inventory.models import DID


class NoteCreate(ApiView):
    """POST: "created" with id 77; a text "no" is refused as a service would (422)."""

    resource_name = "notes"

    def post(self, request):
        if request.data.get("text") == "no":
            raise ValidationError("Notes saying no are refused.")
        return Response({"id": "77", "text": request.data.get("text")}, status=201)


class DidTag(ApiView):
    """PATCH: sets a number's tag with a plain ``save()`` (its history names whoever the
    request's user is); DELETE: 204."""

    resource_name = "dids"

    def patch(self, request, pk):
        did = get_object_or_404(DID, pk=pk, owner=self.account)
        did.tag = request.data.get("tag", "")
        did.save()
        return Response({"id": str(did.pk), "tag": did.tag})

    def delete(self, request, pk):
        get_object_or_404(DID, pk=pk, owner=self.account)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("v3/audit-notes", NoteCreate.as_view()),
    path("v3/audit-dids/<int:pk>", DidTag.as_view()),
    *site,
]
