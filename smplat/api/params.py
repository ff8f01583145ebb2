"""Query-string validation shared by the list routes."""

from __future__ import annotations

import uuid

from rest_framework import serializers

from smplat.cursors import InvalidCursor, parse_cursor


class CursorField(serializers.CharField):
    """A (timestamp, id) cursor or a bare ISO-8601 timestamp; malformed ones are a 400."""

    def __init__(self, *, id_kind: type = uuid.UUID, **kwargs):
        self.id_kind = id_kind
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            "Resume after this position: a `nextCursor` from a previous page, or an ISO-8601 "
            "timestamp (rows strictly after it).",
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
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
