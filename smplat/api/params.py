"""Query-string validation shared by the list routes."""

from __future__ import annotations

import uuid

from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.utils.mediatypes import media_type_matches

from smplat.cursors import InvalidCursor, parse_cursor


class StrictCharField(serializers.CharField):
    """A JSON string: DRF's CharField would turn ``0`` or ``true`` into text silently."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        # The documented maxLength is of the text as sent, before whitespace is trimmed.
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean in a body: ``"yes"`` or ``1`` is a mistake, not true."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictUUIDField(serializers.UUIDField):
    """A UUID as a JSON string (DRF's UUIDField would also take an integer)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


_TIMESTAMP = (
    r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?"
    r"(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?"
)
_ID_PATTERNS = {
    uuid.UUID: r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    int: r"[0-9]{1,18}",
}


class CursorField(serializers.RegexField):
    """A (timestamp, id) cursor or a bare ISO-8601 timestamp; malformed ones are a 400.

    The pattern documents the shape in the OpenAPI schema (it admits days 1-28 only, to stay
    simple); the parser below is what decides, and accepts every valid date.
    """

    def __init__(self, *, id_kind: type = uuid.UUID, **kwargs):
        self.id_kind = id_kind
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("error_messages", {"invalid": "Malformed cursor."})
        kwargs.setdefault(
            "help_text",
            "Resume after this position: a `nextCursor` from a previous page, or an ISO-8601 "
            "timestamp (rows strictly after it).",
        )
        super().__init__(rf"^{_TIMESTAMP}(~{_ID_PATTERNS[id_kind]})?$", **kwargs)
        # The regex and length are for the schema; parse_cursor decides (and accepts every
        # real date, which the simple pattern does not), and field validators would run on
        # the parsed Cursor rather than the text.
        self.validators = []

    def to_internal_value(self, data):
        text = serializers.CharField.to_internal_value(self, data)
        try:
            return parse_cursor(text, id_kind=self.id_kind)
        except InvalidCursor as exc:
            raise serializers.ValidationError(f"Malformed cursor: {exc}.") from exc


class StrictQuerySerializer(serializers.Serializer):
    """Refuses query parameters it does not declare: a typo (``provider_id`` for
    ``providerId``) would otherwise silently return unfiltered rows."""

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown query parameter."] for name in unknown}
            )
        return super().to_internal_value(data)


class StrictBodySerializer(serializers.Serializer):
    """Refuses body fields it does not declare, so a misspelt field is not silently lost."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class IgnoreClientContentNegotiation(BaseContentNegotiation):
    """Every route answers in one format (JSON, or the NDJSON/CSV stream it is for), so a
    client's Accept header (curl's ``application/x-ndjson``, a browser's ``text/csv``) is
    not a reason for a 406."""

    def select_parser(self, request, parsers):
        for parser in parsers:
            if media_type_matches(parser.media_type, request.content_type):
                return parser
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return (renderers[0], renderers[0].media_type)


class SchemaContentNegotiation(DefaultContentNegotiation):
    """The schema's own negotiation: Accept, or ``?format=json|yaml`` (which the rest of the
    API leaves alone: ``format`` is a filter of the experiment events)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        chosen = format_suffix or request.query_params.get("format")
        return super().select_renderer(request, renderers, format_suffix=chosen)


def parse_query(request, serializer_class: type[serializers.Serializer]) -> dict:
    """Validate ``request.query_params`` (one value per name) or raise a 400."""
    data = {}
    for name, values in request.query_params.lists():
        if len(values) > 1:
            raise serializers.ValidationError({name: ["Give this parameter once."]})
        data[name] = values[0]
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


ORDER_HELP = "`asc` (default, oldest first: walking nextCursor resumes with new rows) or `desc`."


def order_field() -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=["asc", "desc"], default="asc", help_text=ORDER_HELP)
