"""Key authentication beside staff sessions, and one JSON error shape for every failure."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView


class EchoApi(APIView):
    staff_permissions = {
        "GET": ("reports.view_guardrailfollowup",),
        "POST": ("reports.view_guardrailfollowup",),
    }

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=20)
        count = serializers.IntegerField(min_value=1)

    def get(self, request):
        return Response({"caller": str(request.user)})

    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data, status=201)


class UndeclaredApi(APIView):
    """Names no staff permissions: open to the API key only."""

    def get(self, request):
        return Response({"caller": str(request.user)})


class BrokenApi(APIView):
    def get(self, request):
        raise RuntimeError("a bug, not the client's fault")


urlpatterns = [
    path("api/test/echo", EchoApi.as_view()),
    path("api/test/undeclared", UndeclaredApi.as_view()),
    path("api/test/broken", BrokenApi.as_view()),
]
handler404 = "smplat.api.exceptions.handler404"
handler500 = "smplat.api.exceptions.handler500"

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

KEY = "test-checkout-api-key"


def _assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_no_credentials_is_401_with_a_bearer_challenge():
    error = _assert_error(APIClient().get("/api/test/echo"), 401, "not_authenticated")
    assert "credentials" in error["message"]


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_AUTHORIZATION": f"Bearer {KEY}"},
        {"HTTP_X_API_KEY": KEY},
        {"HTTP_AUTHORIZATION": f"bearer {KEY}"},
    ],
    ids=["bearer", "x-api-key", "lowercase-scheme"],
)
def test_the_key_is_accepted_in_either_header(headers):
    response = APIClient().get("/api/test/echo", **headers)
    assert response.status_code == 200
    assert response.json() == {"caller": "API key client"}


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_AUTHORIZATION": "Bearer wrong"},
        {"HTTP_X_API_KEY": KEY + "x"},
        {"HTTP_AUTHORIZATION": "Bearer "},
    ],
)
def test_a_wrong_key_is_refused(headers):
    response = APIClient().get("/api/test/echo", **headers)
    _assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Bearer"


def test_no_key_configured_refuses_every_key(settings):
    settings.CHECKOUT_API_KEY = ""
    response = APIClient().get("/api/test/echo", HTTP_AUTHORIZATION="Bearer ")
    _assert_error(response, 401, "authentication_failed")


def test_staff_session_is_accepted_and_charlie_is_refused(alice, charlie):
    client = APIClient()
    client.force_login(alice)
    assert client.get("/api/test/echo").json() == {"caller": "alice"}

    client.force_login(charlie)
    _assert_error(client.get("/api/test/echo"), 403, "permission_denied")


def test_staff_need_the_permissions_the_route_names(bob):
    """The data's view permission, as on the operator pages: being staff is not enough."""
    client = APIClient()
    client.force_login(bob)
    _assert_error(client.get("/api/test/echo"), 403, "permission_denied")

    bob.user_permissions.add(Permission.objects.get(codename="view_guardrailfollowup"))
    bob = type(bob).objects.get(pk=bob.pk)  # permissions are cached on the instance
    client.force_login(bob)
    assert client.get("/api/test/echo").json() == {"caller": "bob"}
    # A route that names no staff permission is for the API key only.
    _assert_error(client.get("/api/test/undeclared"), 403, "permission_denied")
    response = APIClient().get("/api/test/undeclared", HTTP_AUTHORIZATION=f"Bearer {KEY}")
    assert response.status_code == 200


def test_staff_session_posts_need_the_csrf_token(alice):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    error = _assert_error(
        client.post("/api/test/echo", {"name": "x", "count": 1}, format="json"),
        403,
        "permission_denied",
    )
    assert "CSRF" in error["message"]


def test_validation_errors_name_each_field(api_client):
    error = _assert_error(
        api_client.post("/api/test/echo", {"name": "x" * 30, "count": 0}, format="json"),
        400,
        "invalid",
    )
    assert set(error["fields"]) == {"name", "count"}
    assert "count" in error["message"] or "name" in error["message"]


def test_malformed_json_is_400(api_client):
    response = api_client.post("/api/test/echo", data=b'{"name": ', content_type="application/json")
    error = _assert_error(response, 400, "parse_error")
    assert "not valid JSON" in error["message"]


def test_a_body_over_the_limit_is_413(api_client, settings):
    settings.API_MAX_BODY_BYTES = 1000
    body = b'{"name": "' + b"x" * 2000 + b'", "count": 1}'
    _assert_error(
        api_client.post("/api/test/echo", data=body, content_type="application/json"),
        413,
        "payload_too_large",
    )


def test_an_unsupported_media_type_is_415(api_client):
    _assert_error(
        api_client.post("/api/test/echo", data="name=x", content_type="text/plain"),
        415,
        "unsupported_media_type",
    )


def test_wrong_method_is_405(api_client):
    _assert_error(api_client.delete("/api/test/echo"), 405, "method_not_allowed")


def test_unknown_api_route_is_a_json_404(api_client):
    _assert_error(api_client.get("/api/test/nothing-here"), 404, "not_found")


def test_a_server_bug_is_a_json_500_without_details(api_client):
    api_client.raise_request_exception = False
    error = _assert_error(api_client.get("/api/test/broken"), 500, "server_error")
    assert "a bug" not in error["message"]


def test_a_nul_character_is_refused_with_a_400(api_client):
    response = api_client.post(
        "/api/test/echo", data=b'{"name": "a\\u0000b", "count": 1}', content_type="application/json"
    )
    error = _assert_error(response, 400, "parse_error")
    assert "NUL" in error["message"]
