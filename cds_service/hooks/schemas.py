"""marshmallow schemas for what crosses the edge: the CDS Hooks request, each hook's
context, and feedback.

They reject only what CDS Hooks itself forbids (a missing ``hook``/``hookInstance``/
``context``, a context field missing or of the wrong type, ``fhirAuthorization`` without
``fhirServer``) and let everything else through: unknown fields are kept, a draftOrders
Bundle without ``type`` and a draft order without a medication are fine.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, validate, validates_schema

from ..security.fhir_servers import FHIR_ID, request_refusal

# Context ids are pasted into the FHIR reads' URLs: only FHIR ids (CONTRACT.md, Process).
_FHIR_ID = validate.Regexp(rf"^{FHIR_ID.pattern}\Z", error="is not a FHIR id ([A-Za-z0-9-.]{{1,64}})")
_USER_REFERENCE = validate.Regexp(
    rf"^[A-Z][A-Za-z]+/{FHIR_ID.pattern}\Z", error="is not ResourceType/id with a FHIR id ([A-Za-z0-9-.]{{1,64}})"
)


def _fhir_server(value: str) -> None:
    refusal = request_refusal(value)
    if refusal:
        raise ValidationError(refusal)


# CDS Hooks gives hookInstance as a UUID; 255 leaves room for other identifiers and keeps a
# hostile one out of the log and the audit trail (whose column is as long).
MAX_HOOK_INSTANCE = 255


class _Lenient(Schema):
    class Meta:
        unknown = INCLUDE


class FhirAuthorizationSchema(_Lenient):
    access_token = fields.String(required=True)
    token_type = fields.String()
    expires_in = fields.Integer(strict=False)
    scope = fields.String()
    subject = fields.String()
    patient = fields.String()


class HookRequestSchema(_Lenient):
    hook = fields.String(required=True, validate=validate.Length(min=1))
    hookInstance = fields.String(required=True, validate=validate.Length(min=1, max=MAX_HOOK_INSTANCE))
    fhirServer = fields.String(validate=[validate.Length(min=1), _fhir_server])
    fhirAuthorization = fields.Nested(FhirAuthorizationSchema, allow_none=True)
    context = fields.Dict(required=True)
    prefetch = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), allow_none=True)
    extension = fields.Dict()

    @validates_schema
    def _authorization_needs_server(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("fhirAuthorization") and not data.get("fhirServer"):
            raise ValidationError("fhirAuthorization is present but fhirServer is not", "fhirServer")


class _DraftOrdersField(fields.Dict):
    """A FHIR Bundle of draft orders: an object whose ``entry``, when present, is a list."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        bundle = super()._deserialize(value, attr, data, **kwargs)
        kind = bundle.get("resourceType")
        if kind is not None and kind != "Bundle":
            raise ValidationError(f"must be a FHIR Bundle, not {kind!r}")
        entries = bundle.get("entry")
        if entries is not None and not isinstance(entries, list):
            raise ValidationError("Bundle.entry must be an array")
        return bundle


class OrderSignContextSchema(_Lenient):
    userId = fields.String(required=True, validate=_USER_REFERENCE)
    patientId = fields.String(required=True, validate=_FHIR_ID)
    encounterId = fields.String()
    draftOrders = _DraftOrdersField(
        required=True,
        metadata={
            "properties": {
                "resourceType": {"type": "string", "enum": ["Bundle"]},
                "entry": {"type": "array", "items": {"type": "object"}},
            }
        },
    )


class OrderSelectContextSchema(OrderSignContextSchema):
    selections = fields.List(fields.String(), required=True)


CONTEXT_SCHEMAS: dict[str, type[Schema]] = {
    "order-select": OrderSelectContextSchema,
    "order-sign": OrderSignContextSchema,
}


# Feedback limits (CONTRACT.md, Endpoints: feedback). Unknown fields are dropped, not stored.
MAX_FEEDBACK_BYTES = 64 * 1024
MAX_FEEDBACK_ENTRIES = 100
MAX_USER_COMMENT = 2000
_MAX_FEEDBACK_TEXT = 255
_UUID = validate.Regexp(
    r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\Z", error="is not a UUID"
)
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})\Z")


def _instant(value: str) -> None:
    """An ISO 8601 instant: date, time and offset (or Z), and a real moment (no 25:00, no 31 February)."""
    if _INSTANT.match(value):
        try:
            # fromisoformat takes at most microseconds: a longer fraction is cut, not refused.
            datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", value))
            return
        except ValueError:
            pass
    raise ValidationError("is not an ISO 8601 instant (date, time and offset or Z)")


class _Strict(Schema):
    class Meta:
        unknown = EXCLUDE


def _text(maximum: int = _MAX_FEEDBACK_TEXT, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=maximum), **kwargs)


class OverrideCodingSchema(_Strict):
    code = _text(required=True)
    system = _text()
    display = _text()


class OverrideReasonSchema(_Strict):
    reason = fields.Nested(OverrideCodingSchema)
    userComment = fields.String(validate=validate.Length(max=MAX_USER_COMMENT))


class AcceptedSuggestionSchema(_Strict):
    id = _text(required=True)


class FeedbackEntrySchema(_Strict):
    card = fields.String(required=True, validate=_UUID)
    outcome = fields.String(required=True, validate=validate.OneOf(["accepted", "overridden"]))
    acceptedSuggestions = fields.List(
        fields.Nested(AcceptedSuggestionSchema), validate=validate.Length(max=MAX_FEEDBACK_ENTRIES)
    )
    overrideReason = fields.Nested(OverrideReasonSchema)
    outcomeTimestamp = fields.String(required=True, validate=_instant)


class FeedbackRequestSchema(_Strict):
    feedback = fields.List(
        fields.Nested(FeedbackEntrySchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_FEEDBACK_ENTRIES),
    )


def error_paths(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Flatten marshmallow's nested error dict into (dotted.path, message) pairs."""
    out: list[tuple[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            out.extend(error_paths(value, path))
    elif isinstance(messages, list):
        for item in messages:
            out.extend(error_paths(item, prefix))
    else:
        out.append((prefix or "request", str(messages)))
    return out
