"""Reporting API: guardrail follow-ups and the provider automation history."""

from django.core.validators import URLValidator
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from reports import selectors, services
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
from smplat.api.schema import error_responses
from smplat.audit.services import audit_request
from smplat.watermark import committed_before
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
            # No row can still commit below it: a cursor handed out is never passed later.
            committed_before=committed_before(),
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
