"""The operator routes behind the export-health cards: download the latest artifact of a
feed (the proxies) and "Run export now". Staff sessions only, never the API key."""

from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from exports import registry, trigger
from exports.models import Feed
from reports.pages.downloads import DownloadFailed, DownloadUnavailable, latest_artifact
from reports.pages.health import forget_status
from smplat.api.parsers import LimitedFormParser, LimitedJSONParser, LimitedMultiPartParser
from smplat.api.permissions import IsStaff
from smplat.api.schema import error_responses
from smplat.audit.services import audit_request


class StaffSessionApi(APIView):
    """Staff only, by browser session (with CSRF on writes): never by the API key."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsStaff]
    # A plain HTML form (no JavaScript) posts form-encoded; the body carries only the token.
    parser_classes = [LimitedFormParser, LimitedMultiPartParser, LimitedJSONParser]

    def permission_denied(self, request, message=None, code=None):
        if not request.user or not request.user.is_authenticated:
            keyed = "HTTP_AUTHORIZATION" in request.META or "HTTP_X_API_KEY" in request.META
            raise exceptions.NotAuthenticated(
                "This route is for staff signed in to the admin (their browser session);"
                " API keys are not accepted here."
                if keyed
                else "Sign in to the admin first: this route is for staff sessions."
            )
        super().permission_denied(request, message=message, code=code)


def _stream_artifact(feed: str, filename: str):
    try:
        download = latest_artifact(feed)
    except DownloadUnavailable as exc:
        raise exceptions.NotFound(str(exc), code="no_artifact") from exc
    except DownloadFailed as exc:
        raise UpstreamFailed(str(exc)) from exc
    if download.run_id is not None:  # name the run: guardrail-followups-run-141.ndjson
        filename = filename.replace("-latest.", f"-run-{download.run_id}.")
    response = StreamingHttpResponse(download.chunks, content_type=download.content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    if download.length is not None:
        response["Content-Length"] = str(download.length)
    return response


class NotConfiguredHere(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This site is not configured to run the export."
    default_code = "not_configured"


class UpstreamFailed(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "The artifact could not be fetched."
    default_code = "upstream_failed"


ARTIFACT_RESPONSE = {
    (200, "application/x-ndjson"): OpenApiResponse(
        OpenApiTypes.BINARY, description="The latest exported NDJSON, streamed."
    ),
    **error_responses(404, 502),
}


class GuardrailFollowUpExportApi(StaffSessionApi):
    """Download the latest follow-up export (GET) or run the export now (POST)."""

    staff_permissions = {
        "GET": registry.feed(Feed.GUARDRAIL_FOLLOWUPS).download_permissions,
        "POST": (
            "exports.view_exportrun",
            "exports.add_exportrun",
        ),
    }

    @extend_schema(responses=ARTIFACT_RESPONSE, summary="Download the latest follow-up NDJSON")
    def get(self, request):
        return _stream_artifact(Feed.GUARDRAIL_FOLLOWUPS, "guardrail-followups-latest.ndjson")

    class RunSerializer(serializers.Serializer):
        runId = serializers.IntegerField()
        outcome = serializers.CharField()
        created = serializers.BooleanField()
        externalUrl = serializers.CharField(allow_null=True)
        cardUrl = serializers.CharField()

    @extend_schema(
        request=None,
        responses={
            202: RunSerializer,
            200: RunSerializer,
            **error_responses(409, 502),
        },
        summary="Run the follow-up export now",
    )
    def post(self, request):
        try:
            result = trigger.export_run_now(
                feed=Feed.GUARDRAIL_FOLLOWUPS, requested_by=request.user
            )
        except trigger.TriggerFailed as exc:
            raise UpstreamFailed(str(exc)) from exc
        except trigger.NotConfigured as exc:
            raise NotConfiguredHere(str(exc)) from exc
        forget_status(Feed.GUARDRAIL_FOLLOWUPS)
        _audit_run_now(request, result)
        return Response(
            {
                "runId": result.run.pk,
                "outcome": result.run.outcome,
                "created": result.created,
                "externalUrl": result.run.external_url or None,
                "cardUrl": reverse("reports-card", args=[Feed.GUARDRAIL_FOLLOWUPS]),
            },
            status=status.HTTP_202_ACCEPTED if result.created else status.HTTP_200_OK,
        )


def _audit_run_now(request, result) -> None:
    audit_request(
        request,
        action="export.run_now",
        target=f"feed:{result.run.feed}",
        details={"runId": result.run.pk, "outcome": result.run.outcome, "created": result.created},
    )


class QuickOrderExportDownloadApi(StaffSessionApi):
    staff_permissions = {"GET": registry.feed(Feed.QUICK_ORDER_TELEMETRY).download_permissions}

    @extend_schema(responses=ARTIFACT_RESPONSE, summary="Download the latest quick-order NDJSON")
    def get(self, request):
        return _stream_artifact(Feed.QUICK_ORDER_TELEMETRY, "quick-order-events-latest.ndjson")


class GuardrailWorkflowExportDownloadApi(StaffSessionApi):
    staff_permissions = {
        "GET": registry.feed(Feed.GUARDRAIL_WORKFLOW_TELEMETRY).download_permissions
    }

    @extend_schema(
        responses=ARTIFACT_RESPONSE, summary="Download the latest guardrail workflow NDJSON"
    )
    def get(self, request):
        return _stream_artifact(
            Feed.GUARDRAIL_WORKFLOW_TELEMETRY, "guardrail-workflow-events-latest.ndjson"
        )


class OnboardingSegmentsExportDownloadApi(StaffSessionApi):
    """The segments feed's newest run, as its sink holds it (file or S3 objects)."""

    staff_permissions = {
        "GET": registry.feed(Feed.ONBOARDING_PRICING_SEGMENTS).download_permissions
    }

    @extend_schema(responses=ARTIFACT_RESPONSE, summary="Download the latest segments NDJSON")
    def get(self, request):
        return _stream_artifact(
            Feed.ONBOARDING_PRICING_SEGMENTS, "onboarding-segments-latest.ndjson"
        )
