"""Reporting API: guardrail follow-ups and the provider automation history."""

from django.core.validators import URLValidator
from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from exports.models import Feed
from reports import selectors, services
from reports.downloads import DownloadFailed, DownloadUnavailable, latest_artifact
from reports.health import DOWNLOAD_PERMISSIONS, forget_status
from reports.models import LINK_VALIDATOR, GuardrailFollowUp
from reports.rows import follow_up_row
from smplat.api.params import (
    CursorField,
    StrictBodySerializer,
    StrictCharField,
    StrictQuerySerializer,
    order_field,
    parse_query,
)
from smplat.api.parsers import LimitedJSONParser
from smplat.api.permissions import IsStaff
from smplat.api.schema import error_responses
from smplat.audit.services import audit_request
from telemetry.selectors import guardrail_workflow_summary


class PlatformContextSerializer(serializers.Serializer):
    id = StrictCharField(max_length=200, required=False, allow_null=True)
    label = StrictCharField(max_length=200, required=False, allow_null=True)
    handle = StrictCharField(max_length=200, required=False, allow_null=True)
    type = StrictCharField(max_length=100, required=False, allow_null=True)


class FollowUpRowSerializer(serializers.Serializer):
    """The public follow-up row (documentation of ``reports.rows.follow_up_row``)."""

    followUpId = serializers.UUIDField()
    providerId = StrictCharField()
    providerName = StrictCharField()
    action = serializers.ChoiceField(choices=GuardrailFollowUp.Action.values)
    notes = StrictCharField(allow_null=True)
    platformContext = PlatformContextSerializer(allow_null=True)
    conversionCursor = StrictCharField(allow_null=True)
    conversionHref = StrictCharField(allow_null=True)
    createdAt = serializers.DateTimeField()


class WebLinkField(serializers.URLField):
    """An http(s) address: DRF's URLField also takes ftp, and would report a bad link twice
    beside a second validator."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, URLValidator)]
        self.validators.append(LINK_VALIDATOR)


class FollowUpListApi(APIView):
    """The guardrail follow-up timeline (GET) and recording a follow-up (POST)."""

    staff_permissions = {
        "GET": ("reports.view_guardrailfollowup",),
        "POST": ("reports.add_guardrailfollowup",),
    }
    api_scopes = {"GET": ("read",), "POST": ("write",)}

    class FilterSerializer(StrictQuerySerializer):
        providerId = StrictCharField(required=False, max_length=200)
        action = serializers.ChoiceField(choices=GuardrailFollowUp.Action.values, required=False)
        limit = serializers.IntegerField(min_value=1, max_value=500, default=50)
        cursor = CursorField()
        order = order_field()

    class InputSerializer(StrictBodySerializer):
        providerId = StrictCharField(max_length=200)
        providerName = StrictCharField(max_length=200)
        action = serializers.ChoiceField(choices=GuardrailFollowUp.Action.values)
        notes = StrictCharField(max_length=4000, required=False, allow_null=True, allow_blank=True)
        platformContext = PlatformContextSerializer(required=False, allow_null=True)
        conversionCursor = StrictCharField(
            max_length=500, required=False, allow_null=True, allow_blank=True
        )
        # Rendered as a link in Slack and on the pages: only http(s), never javascript: URLs.
        conversionHref = WebLinkField(
            max_length=2000, required=False, allow_null=True, allow_blank=True
        )

    class OutputSerializer(serializers.Serializer):
        followUps = FollowUpRowSerializer(many=True)
        nextCursor = StrictCharField(allow_null=True)

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, **error_responses(400)},
        summary="Guardrail follow-up timeline",
    )
    def get(self, request):
        query = parse_query(request, self.FilterSerializer)
        rows, next_cursor = selectors.follow_up_timeline(
            provider_id=query.get("providerId"),
            action=query.get("action"),
            cursor=query.get("cursor"),
            limit=query["limit"],
            descending=query["order"] == "desc",
        )
        return Response({"followUps": rows, "nextCursor": next_cursor})

    @extend_schema(
        request=InputSerializer,
        responses={201: FollowUpRowSerializer, **error_responses(400, 413, 415)},
        summary="Record a guardrail follow-up",
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        follow_up = services.follow_up_record(
            provider_id=data["providerId"],
            provider_name=data["providerName"],
            action=data["action"],
            notes=data.get("notes"),
            platform_context=data.get("platformContext"),
            conversion_cursor=data.get("conversionCursor"),
            conversion_href=data.get("conversionHref"),
        )
        audit_request(
            request,
            action="follow_up.record",
            target=f"follow_up:{follow_up.pk}",
            details={"providerId": follow_up.provider_id, "action": follow_up.action},
        )
        return Response(follow_up_row(follow_up.__dict__), status=status.HTTP_201_CREATED)


class AutomationStatusHistoryApi(APIView):
    """Provider automation runs, with the guardrail workflow summary embedded."""

    staff_permissions = {"GET": ("reports.view_providerautomationrun",)}
    api_scopes = {"GET": ("read",)}

    class FilterSerializer(StrictQuerySerializer):
        kind = serializers.ChoiceField(choices=["alert", "replay"], required=False)
        limit = serializers.IntegerField(min_value=1, max_value=200, default=20)
        cursor = CursorField()
        order = order_field()

    class OutputSerializer(serializers.Serializer):
        runs = inline_serializer(
            name="AutomationRun",
            many=True,
            fields={
                "id": serializers.UUIDField(),
                "kind": serializers.ChoiceField(choices=["alert", "replay"]),
                "outcome": serializers.ChoiceField(choices=["succeeded", "partial", "failed"]),
                "ranAt": serializers.DateTimeField(),
                "durationMs": serializers.IntegerField(),
                "summary": serializers.DictField(),
            },
        )
        nextCursor = StrictCharField(allow_null=True)
        guardrailWorkflow = inline_serializer(
            name="GuardrailWorkflowSummary",
            fields={
                "events": serializers.IntegerField(),
                "lastEventAt": serializers.DateTimeField(allow_null=True),
                "actionCounts": serializers.DictField(child=serializers.IntegerField()),
                "attachmentTotals": serializers.DictField(child=serializers.IntegerField()),
                "providerActivity": serializers.ListField(child=serializers.DictField()),
            },
        )

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, **error_responses(400)},
        summary="Provider automation run history",
    )
    def get(self, request):
        query = parse_query(request, self.FilterSerializer)
        runs, next_cursor = selectors.automation_run_history(
            kind=query.get("kind"),
            cursor=query.get("cursor"),
            limit=query["limit"],
            descending=query["order"] == "desc",
        )
        return Response(
            {
                "runs": runs,
                "nextCursor": next_cursor,
                "guardrailWorkflow": guardrail_workflow_summary(),
            }
        )


# --- Operator routes behind the export-health cards (staff sessions only) -------------------


class StaffSessionApi(APIView):
    """Staff only, by browser session (with CSRF on writes): never by the API key."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsStaff]
    # A plain HTML form (no JavaScript) posts form-encoded; the body carries only the token.
    parser_classes = [FormParser, MultiPartParser, LimitedJSONParser]

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
    **error_responses(404),
    502: OpenApiResponse(description="The artifact's host failed or broke a limit."),
}


class GuardrailFollowUpExportApi(StaffSessionApi):
    """Download the latest follow-up export (GET) or run the export now (POST)."""

    staff_permissions = {
        "GET": DOWNLOAD_PERMISSIONS[Feed.GUARDRAIL_FOLLOWUPS],
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
            **error_responses(),
            502: OpenApiResponse(),
        },
        summary="Run the follow-up export now",
    )
    def post(self, request):
        try:
            result = services.export_run_now(
                feed=Feed.GUARDRAIL_FOLLOWUPS, requested_by=request.user
            )
        except services.TriggerFailed as exc:
            raise UpstreamFailed(str(exc)) from exc
        except services.NotConfigured as exc:
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
    staff_permissions = {"GET": DOWNLOAD_PERMISSIONS[Feed.QUICK_ORDER_TELEMETRY]}

    @extend_schema(responses=ARTIFACT_RESPONSE, summary="Download the latest quick-order NDJSON")
    def get(self, request):
        return _stream_artifact(Feed.QUICK_ORDER_TELEMETRY, "quick-order-events-latest.ndjson")


class GuardrailWorkflowExportDownloadApi(StaffSessionApi):
    staff_permissions = {"GET": DOWNLOAD_PERMISSIONS[Feed.GUARDRAIL_WORKFLOW_TELEMETRY]}

    @extend_schema(
        responses=ARTIFACT_RESPONSE, summary="Download the latest guardrail workflow NDJSON"
    )
    def get(self, request):
        return _stream_artifact(
            Feed.GUARDRAIL_WORKFLOW_TELEMETRY, "guardrail-workflow-events-latest.ndjson"
        )
