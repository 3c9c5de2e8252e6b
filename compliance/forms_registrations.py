"""The submission form: which identity, address and documents a registration sends.

Choices are the account's own, not archived; an id of anything else (another account's,
archived, not a number) is refused by the field, naming it. Fields appear only for what the
requirement asks (no identity field when it needs none; a document field per kind of proof).
"""

from django import forms

from didportal.forms import QueryForm

from .models import DocumentKind
from .selectors_registrations import (
    addresses_available,
    documents_available,
    identities_available,
)


class IdentityChoice(forms.ModelChoiceField):
    def label_from_instance(self, identity):
        parts = [str(identity), identity.get_kind_display().lower(), identity.country.code]
        if identity.description:
            parts.append(identity.description)
        return " · ".join(parts)


class AddressChoice(forms.ModelChoiceField):
    def label_from_instance(self, address):
        return f"{address} · {address.description}" if address.description else str(address)


class DocumentChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, document):
        about = document.identity or document.address
        label = f"{document.original_name} · uploaded {document.uploaded_at:%d %b %Y}"
        return f"{label} · {about}" if about else label


def document_field_name(kind):
    return f"documents_{kind}"


class SubmissionForm(forms.Form):
    def __init__(self, *args, submission, **kwargs):
        super().__init__(*args, **kwargs)
        self.submission = submission
        requirement, account = submission.requirement, submission.account
        gone = "“%(value)s” is not one of your {} any more: choose another."
        if requirement.identity_type:
            self.fields["identity"] = IdentityChoice(
                queryset=identities_available(account),
                required=False,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                empty_label=None,
                label="Identity",
                error_messages={"invalid_choice": gone.format("identities")},
            )
        if requirement.address_scope:
            self.fields["address"] = AddressChoice(
                queryset=addresses_available(account),
                required=False,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                empty_label=None,
                label="Address",
                error_messages={"invalid_choice": gone.format("addresses")},
            )
        self.document_kinds = list(requirement.proofs_needed.items())
        for kind, count in self.document_kinds:
            label = DocumentKind(kind).label
            self.fields[document_field_name(kind)] = DocumentChoices(
                queryset=documents_available(account, [kind]),
                required=False,
                widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
                label=f"{label}s" if count > 1 else label,
                help_text=f"{count} needed",
                error_messages={
                    "invalid_choice": "“%(value)s” is not one of your documents any more: "
                    "choose another.",
                    "invalid_pk_value": "“%(pk)s” is not a document.",
                },
            )

    def document_fields(self):
        """``[(kind, count, bound field)]`` for the kinds of proof asked for."""
        return [
            (kind, count, self[document_field_name(kind)]) for kind, count in self.document_kinds
        ]

    def selection(self):
        """The chosen parts (after ``is_valid``): ``{identity, address, documents}``."""
        data = self.cleaned_data
        documents = []
        for kind, _count in self.document_kinds:
            documents.extend(data.get(document_field_name(kind)) or ())
        return {
            "identity": data.get("identity"),
            "address": data.get("address"),
            "documents": documents,
        }

    @staticmethod
    def data_for(submission, *, added=None):
        """What the page starts with, as form data: the parts last sent (after a rejection:
        what to fix), or for a draft the newest of each (most often what was just added in
        the profile). ``added``: what the profile's pages just added or saved
        (``AddedQuery``): it takes its field's place (a document goes first in its kind,
        the oldest chosen of that kind making room)."""
        requirement, account = submission.requirement, submission.account
        if submission.status != submission.Status.DRAFT:
            data = {"identity": submission.identity_id, "address": submission.address_id}
            chosen = list(submission.documents.values_list("pk", "kind"))
            for kind in requirement.proofs_needed:
                data[document_field_name(kind)] = [pk for pk, k in chosen if k == kind]
        else:
            data = {
                "identity": identities_available(account).values_list("pk", flat=True).first(),
                "address": addresses_available(account).values_list("pk", flat=True).first(),
            }
            for kind, count in requirement.proofs_needed.items():
                newest = documents_available(account, [kind]).values_list("pk", flat=True)
                data[document_field_name(kind)] = list(newest[:count])
        added = added or {}
        for name in ("identity", "address"):
            if added.get(name):
                data[name] = added[name]
        if added.get("document"):
            needed = requirement.proofs_needed
            found = documents_available(account, needed).filter(pk=added["document"]).first()
            if found is not None:
                name = document_field_name(found.kind)
                others = [pk for pk in data.get(name, []) if pk != found.pk]
                data[name] = [found.pk, *others][: needed[found.kind]]
        return {name: value for name, value in data.items() if value}


class AddedQuery(QueryForm):
    """What the profile's pages send back with ``next``: the id just added or saved."""

    identity = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    address = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    document = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
