"""What a key may do: read-only keys read; full keys also write (403 otherwise)."""

from rest_framework.permissions import SAFE_METHODS, BasePermission


class KeyScope(BasePermission):
    message = "This API key is read-only: create a full-access key to change anything."

    def has_permission(self, request, view):
        key = request.auth
        if key is None:
            return False
        return request.method in SAFE_METHODS or not key.read_only
