"""One error shape for every API failure: ``{"error": {"code", "message", "fields"}}``."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)


def _flatten(detail) -> dict | list | str:
    """ValidationError details as plain JSON: field -> list of messages (nested as sent)."""
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _first_message(fields) -> str:
    if isinstance(fields, dict):
        for key, value in fields.items():
            inner = _first_message(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
    if isinstance(fields, list) and fields:
        return _first_message(fields[0])
    return str(fields)


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def json_error_handler(exc, context) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every client error becomes the JSON shape of the spec."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        # A service's model validation (full_clean) refusing what a client sent.
        from rest_framework.serializers import as_serializer_error

        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, RequestDataTooBig):
        from smplat.api.parsers import PayloadTooLarge

        exc = PayloadTooLarge()

    if not isinstance(exc, exceptions.APIException):
        return None  # a server bug: let Django log it and answer 500 (JSON, see handler500)

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = _flatten(detail)
        body = error_body("invalid", _first_message(fields), fields)
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        body = error_body(code, str(exc.detail))

    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def handler400(request, exception=None):
    if _wants_json(request):
        return JsonResponse(
            error_body("bad_request", "The request could not be understood."),
            status=status.HTTP_400_BAD_REQUEST,
        )
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def handler403(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_body("permission_denied", "You may not do this."), status=403)
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)


def handler404(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_body("not_found", "No such route or object."), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    if _wants_json(request):
        return JsonResponse(
            error_body("server_error", "The server failed; the error has been logged."), status=500
        )
    from django.views.defaults import server_error

    return server_error(request)
