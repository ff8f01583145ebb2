"""OpenAPI pieces shared by the routes: the error body and the common error responses."""

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(),
            },
        )
    },
)


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    descriptions = {
        400: "Bad input: the message and `fields` say what.",
        401: "No API key, or a wrong, revoked or expired one.",
        403: "A key without the route's scope, or logged in but not staff (or no CSRF token).",
        429: "Past the route's rate limit: retry after `Retry-After` seconds.",
        404: "No such object, or nothing to export yet.",
        409: "The site is not configured to do this: the message names what is missing.",
        413: "The request body is too large.",
        415: "The request body is not JSON.",
        502: "An upstream (the artifact's host, the workflow trigger) failed or broke a limit.",
    }
    return {
        status: OpenApiResponse(ErrorSerializer, description=descriptions[status])
        for status in (401, 403, *statuses)
    }


class AutoSchema(openapi.AutoSchema):
    """Names nested ``InputSerializer``/``OutputSerializer`` classes after their view, so
    ``FollowUpListApi.InputSerializer`` becomes the component ``FollowUpListInput``."""

    def get_tags(self) -> list[str]:
        """The area of the path (SCHEMA_PATH_PREFIX strips /api and /api/v1); the staff
        routes under /api/reporting/ (downloads, run now) are the operator pages' own."""
        if self.path.startswith("/api/reporting/"):
            return ["operator pages"]
        return super().get_tags()

    def get_serializer_name(self, serializer, direction):
        qualname = type(serializer).__qualname__
        owner, _, inner = qualname.rpartition(".")
        if owner:
            return owner.removesuffix("Api") + inner.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "smplat.api.authentication.ApiKeyAuthentication"
    name = ["bearerKey", "apiKeyHeader"]

    def get_security_requirement(self, auto_schema):
        """Either header: two requirement objects are alternatives, one object with both
        names would mean a client must send both."""
        return [{name: []} for name in self.name]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key (a named key or CHECKOUT_API_KEY) as a bearer token",
            },
            {
                "type": "apiKey",
                "in": "header",
                "name": "X-API-Key",
                "description": "An API key (a named key or CHECKOUT_API_KEY)",
            },
        ]
