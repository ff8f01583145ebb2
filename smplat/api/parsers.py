"""Request body parsers of the API: JSON, forms and multipart, each capped at API_MAX_BODY_BYTES
(413 past it)."""

import json
import re

import orjson
from django.conf import settings
from rest_framework import exceptions, parsers, status

# Levels of objects and arrays a JSON body may nest.
MAX_DEPTH = 64

# orjson reads an integer beyond 64 bits as a float (123456789012345678901234567890 would be
# stored as 1.2345678901234568e+29); every such integer has at least 19 digits.
_LONG_DIGIT_RUN = re.compile(rb"\d{19}")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def _refuse_a_declared_length_over(limit: int, parser_context) -> None:
    request = (parser_context or {}).get("request")
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")


class CappedStream:
    """A request stream that gives at most ``limit`` bytes, then refuses with 413: the cap
    holds on the bytes read, whatever the Content-Length said."""

    def __init__(self, stream, limit: int):
        self._stream = stream
        self._limit = limit
        self._left = limit

    def read(self, size: int | None = -1) -> bytes:
        wanted = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        chunk = self._stream.read(wanted)
        self._left -= len(chunk)
        if self._left < 0:
            raise PayloadTooLarge(f"The request body is larger than {self._limit} bytes.")
        return chunk


class BodyLimitMixin:
    """Caps a DRF parser's body at ``API_MAX_BODY_BYTES`` (413 past it). DRF reads the body
    straight from the WSGI stream, and Django's own limit counts only a multipart body's
    plain fields, never its files: without this a form post of any size gets through."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        _refuse_a_declared_length_over(limit, parser_context)
        capped = CappedStream(stream, limit) if stream is not None else None
        return super().parse(capped, media_type, parser_context)


class LimitedFormParser(BodyLimitMixin, parsers.FormParser):
    """Urlencoded bodies up to ``API_MAX_BODY_BYTES``."""


class LimitedMultiPartParser(BodyLimitMixin, parsers.MultiPartParser):
    """Multipart bodies (files included) up to ``API_MAX_BODY_BYTES``."""


class LimitedJSONParser(parsers.JSONParser):
    """JSON bodies up to ``API_MAX_BODY_BYTES``; larger ones are refused with 413. Integers
    of any size are kept exact (orjson alone would turn those beyond 64 bits into floats).

    DRF reads the body straight from the WSGI stream, past Django's own upload limit, so the
    cap is enforced here, on the bytes actually read (a lying Content-Length cannot get by).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        _refuse_a_declared_length_over(limit, parser_context)
        raw = CappedStream(stream, limit).read() if stream is not None else b""
        if not raw:
            raise exceptions.ParseError("The request body is empty; a JSON object is expected.")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise exceptions.ParseError(f"The request body is not valid JSON: {exc}") from exc
        if _LONG_DIGIT_RUN.search(raw):
            data = _with_exact_integers(raw)
        # Python's json (which stores jsonb) and any recursive walk stop near 1 000 levels,
        # orjson only at 1 024: deeper than any real payload needs is refused here.
        if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _deeper_than(data, MAX_DEPTH):
            raise exceptions.ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.")
        # PostgreSQL cannot store U+0000 in text or jsonb; refuse it here with a clear 400
        # instead of failing at INSERT. Only an escaped \u0000 can produce one.
        if b"\\u0000" in raw and _contains_nul(data):
            raise exceptions.ParseError("Strings may not contain the NUL character (\\u0000).")
        return data


def _with_exact_integers(raw: bytes):
    """The body again, through the standard parser, which keeps every integer exact (jsonb
    stores them exactly, and the exports write them back digit for digit). orjson has
    already accepted the body, so only the integers can differ: orjson refuses numbers
    beyond a double's range (about 309 digits), well inside the standard parser's 4 300."""
    return json.loads(raw)


def _deeper_than(value, limit: int) -> bool:
    """Whether objects and arrays nest more than ``limit`` levels (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if level > limit:
            return True
        stack.extend((child, level + 1) for child in children)
    return False


def _contains_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False
