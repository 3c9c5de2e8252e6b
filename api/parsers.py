"""Request bodies: djangorestframework-jsonapi's parser, refusing a document whose members
have the wrong JSON type with a 400 (its own parser fails on them with a server error:
``"attributes": 3`` raised TypeError, found by the API's fuzz test)."""

from rest_framework.exceptions import ParseError
from rest_framework_json_api.parsers import JSONParser


class JsonApiParser(JSONParser):
    def parse_data(self, result, parser_context):
        data = result.get("data") if isinstance(result, dict) else None
        if isinstance(data, dict):
            _check_members(data)
        return super().parse_data(result, parser_context)


def _check_members(data):
    for member in ("attributes", "relationships"):
        if data.get(member) is not None and not isinstance(data[member], dict):
            raise ParseError(f"data.{member} must be an object.")
    for name, relationship in (data.get("relationships") or {}).items():
        if not isinstance(relationship, dict):
            raise ParseError(f"data.relationships.{name} must be an object with a data member.")
