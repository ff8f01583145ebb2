"""Telemetry API: capture routes, their NDJSON exports, analytics ingest, onboarding."""

from __future__ import annotations

from django.core.validators import validate_slug
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from smplat.api.params import (
    CursorField,
    StrictBodySerializer,
    StrictBooleanField,
    StrictCharField,
    StrictQuerySerializer,
    StrictUUIDField,
    order_field,
    parse_query,
)
from smplat.api.schema import error_responses
from smplat.watermark import committed_before
from telemetry import selectors, services
from telemetry.checklist import CHECKLIST_KEYS
from telemetry.models import QUICK_ORDER_EVENT_NAMES, CheckoutOfferEvent, GuardrailWorkflowEvent
from telemetry.rows import (
    SEGMENT_KEYS,
    guardrail_workflow_row,
    offer_event_row,
    quick_order_row,
)

# --- Capture --------------------------------------------------------------------------------


class QuickOrderCaptureApi(APIView):
    """Append a quick-order funnel event to the rolling window of the newest 5 000."""

    staff_permissions = {"POST": ("telemetry.add_quickorderevent",)}
    api_scopes = {"POST": ("ingest",)}

    class InputSerializer(StrictBodySerializer):
        eventName = serializers.ChoiceField(choices=QUICK_ORDER_EVENT_NAMES)
        sessionId = StrictCharField(max_length=200, required=False, allow_null=True)
        productId = StrictCharField(max_length=200)
        productTitle = StrictCharField(max_length=500)
        platformContext = StrictCharField(max_length=100, required=False, allow_null=True)
        recordedAt = serializers.DateTimeField(required=False)
        metadata = serializers.DictField(required=False)

        def validate(self, data):
            reason = (data.get("metadata") or {}).get("reason")
            if reason is not None and not isinstance(reason, str):
                raise serializers.ValidationError({"metadata": {"reason": ["Must be a string."]}})
            return data

    class OutputSerializer(serializers.Serializer):
        eventId = serializers.UUIDField()
        sessionId = StrictCharField(allow_null=True)
        eventName = serializers.ChoiceField(choices=QUICK_ORDER_EVENT_NAMES)
        productId = StrictCharField()
        productTitle = StrictCharField()
        platformContext = StrictCharField(allow_null=True)
        recordedAt = serializers.DateTimeField()
        metadata = serializers.DictField()

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 413, 415, 429)},
        summary="Capture a quick-order event",
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        event = services.quick_order_event_record(
            event_name=data["eventName"],
            session_id=data.get("sessionId"),
            product_id=data["productId"],
            product_title=data["productTitle"],
            platform_context=data.get("platformContext"),
            metadata=data.get("metadata"),
            recorded_at=data.get("recordedAt"),
        )
        return Response(quick_order_row(event.__dict__), status=status.HTTP_201_CREATED)


class GuardrailContextSerializer(StrictBodySerializer):
    platformSlug = StrictCharField(max_length=100, required=False, allow_null=True)
    guardrailStatus = StrictCharField(max_length=50, required=False, allow_null=True)


class TelemetryCaptureApi(APIView):
    """Generic capture: ``guardrail.workflow`` events go to the guardrail workflow window."""

    staff_permissions = {"POST": ("telemetry.add_guardrailworkflowevent",)}
    api_scopes = {"POST": ("ingest",)}

    class InputSerializer(StrictBodySerializer):
        name = serializers.ChoiceField(
            choices=["guardrail.workflow"],
            error_messages={"invalid_choice": '"{input}" is not a supported event name.'},
        )
        providerId = StrictCharField(max_length=200, required=False, allow_null=True)
        providerName = StrictCharField(max_length=200, required=False, allow_null=True)
        workflowAction = StrictCharField(max_length=100)
        source = serializers.ChoiceField(
            choices=GuardrailWorkflowEvent.Source.values, required=False, default="admin"
        )
        guardrail = GuardrailContextSerializer(required=False, allow_null=True)
        metadata = serializers.DictField(required=False)
        recordedAt = serializers.DateTimeField(required=False)

    class OutputSerializer(serializers.Serializer):
        eventId = serializers.UUIDField()
        name = StrictCharField()
        providerId = StrictCharField(allow_null=True)
        providerName = StrictCharField(allow_null=True)
        workflowAction = StrictCharField()
        source = StrictCharField()
        guardrail = GuardrailContextSerializer(allow_null=True)
        metadata = serializers.DictField()
        recordedAt = serializers.DateTimeField()

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 413, 415, 429)},
        summary="Capture a telemetry event",
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        guardrail = data.get("guardrail") or {}
        event = services.guardrail_workflow_event_record(
            workflow_action=data["workflowAction"],
            provider_id=data.get("providerId"),
            provider_name=data.get("providerName"),
            source=data["source"],
            guardrail_platform_slug=guardrail.get("platformSlug"),
            guardrail_status=guardrail.get("guardrailStatus"),
            metadata=data.get("metadata"),
            recorded_at=data.get("recordedAt"),
        )
        return Response(guardrail_workflow_row(event.__dict__), status=status.HTTP_201_CREATED)


# --- NDJSON window exports ------------------------------------------------------------------


class WindowExportFilter(StrictQuerySerializer):
    limit = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The newest N rows of the window (oldest first). Without it, or above the "
        "window's size, the whole window.",
    )


def _ndjson_response(export: selectors.WindowExport, count_header: str, what: str):
    if not export.count:
        raise exceptions.NotFound(f"No {what} have been captured yet.", code="no_events")
    response = StreamingHttpResponse(export.lines, content_type="application/x-ndjson")
    response["Cache-Control"] = "no-store"
    response[count_header] = str(export.count)
    return response


NDJSON_RESPONSE = OpenApiResponse(
    OpenApiTypes.STR, description="NDJSON, one event a line, oldest first."
)


class QuickOrderExportApi(APIView):
    staff_permissions = {"GET": ("telemetry.view_quickorderevent",)}
    api_scopes = {"GET": ("export", "read")}

    @extend_schema(
        parameters=[WindowExportFilter],
        responses={(200, "application/x-ndjson"): NDJSON_RESPONSE, **error_responses(400, 404)},
        summary="Export the quick-order window as NDJSON",
    )
    def get(self, request):
        query = parse_query(request, WindowExportFilter)
        export = selectors.quick_order_export(limit=query.get("limit"))
        return _ndjson_response(export, "X-Quick-Order-Events", "quick-order events")


class GuardrailWorkflowExportApi(APIView):
    staff_permissions = {"GET": ("telemetry.view_guardrailworkflowevent",)}
    api_scopes = {"GET": ("export", "read")}

    @extend_schema(
        parameters=[WindowExportFilter],
        responses={(200, "application/x-ndjson"): NDJSON_RESPONSE, **error_responses(400, 404)},
        summary="Export the guardrail workflow window as NDJSON",
    )
    def get(self, request):
        query = parse_query(request, WindowExportFilter)
        export = selectors.guardrail_workflow_export(limit=query.get("limit"))
        return _ndjson_response(export, "X-Guardrail-Workflow-Events", "guardrail workflow events")


# --- Analytics ingest -----------------------------------------------------------------------


class OfferEventCreateApi(APIView):
    staff_permissions = {"POST": ("telemetry.add_checkoutofferevent",)}
    api_scopes = {"POST": ("ingest",)}

    class InputSerializer(StrictBodySerializer):
        offerSlug = StrictCharField(max_length=200, validators=[validate_slug])
        eventType = serializers.ChoiceField(choices=CheckoutOfferEvent.EventType.values)
        orderId = StrictUUIDField(required=False, allow_null=True)
        sessionId = StrictCharField(max_length=200, required=False, allow_null=True)
        metadata = serializers.DictField(required=False)

    class OutputSerializer(serializers.Serializer):
        eventId = serializers.UUIDField()
        offerSlug = StrictCharField()
        eventType = StrictCharField()
        orderId = StrictUUIDField(allow_null=True)
        sessionId = StrictCharField(allow_null=True)
        metadata = serializers.DictField()
        recordedAt = serializers.DateTimeField()

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 413, 415, 429)},
        summary="Record a checkout offer impression or CTA click",
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        event = services.offer_event_record(
            offer_slug=data["offerSlug"],
            event_type=data["eventType"],
            order_id=data.get("orderId"),
            session_id=data.get("sessionId"),
            metadata=data.get("metadata"),
        )
        return Response(offer_event_row(event.__dict__), status=status.HTTP_201_CREATED)


class ChecklistItemSerializer(serializers.Serializer):
    key = StrictCharField()
    title = StrictCharField()
    completed = serializers.BooleanField()
    completedAt = serializers.DateTimeField(allow_null=True)


class JourneyEventSerializer(serializers.Serializer):
    eventId = serializers.UUIDField()
    eventType = StrictCharField()
    taskKey = StrictCharField(allow_null=True)
    metadata = serializers.DictField()
    recordedAt = serializers.DateTimeField()


class JourneySerializer(serializers.Serializer):
    journeyId = serializers.UUIDField()
    orderId = StrictUUIDField()
    orderNumber = StrictCharField(allow_null=True)
    status = serializers.ChoiceField(choices=["active", "completed", "stalled"])
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
    progress = inline_serializer(
        name="JourneyProgress",
        fields={"completed": serializers.IntegerField(), "total": serializers.IntegerField()},
    )
    checklist = ChecklistItemSerializer(many=True)
    recentEvents = JourneyEventSerializer(many=True)


class OnboardingEventCreateApi(APIView):
    """Validate an onboarding event, toggle the journey's task, append the event."""

    staff_permissions = {"POST": ("telemetry.add_onboardingjourneyevent",)}
    api_scopes = {"POST": ("ingest",)}

    class InputSerializer(StrictBodySerializer):
        orderId = StrictUUIDField()
        orderNumber = StrictCharField(max_length=100, required=False, allow_null=True)
        eventType = StrictCharField(max_length=100)
        taskKey = serializers.ChoiceField(
            choices=sorted(CHECKLIST_KEYS), required=False, allow_null=True
        )
        completed = StrictBooleanField(required=False, allow_null=True, default=None)
        metadata = serializers.DictField(required=False)

    class OutputSerializer(serializers.Serializer):
        event = JourneyEventSerializer()
        journey = JourneySerializer()

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 413, 415, 429)},
        summary="Record an onboarding journey event",
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        event = services.onboarding_event_record(
            order_id=data["orderId"],
            order_number=data.get("orderNumber"),
            event_type=data["eventType"],
            task_key=data.get("taskKey"),
            completed=data.get("completed"),
            metadata=data.get("metadata"),
        )
        # The event as recorded: under concurrent writers it may already be older than the
        # journey's 20 most recent events.
        journey = selectors.onboarding_journey_detail(order_id=data["orderId"])
        return Response(
            {"event": selectors.journey_event_row(event), "journey": journey},
            status=status.HTTP_201_CREATED,
        )


class OrderOnboardingApi(APIView):
    staff_permissions = {"GET": ("telemetry.view_onboardingjourney",)}
    api_scopes = {"GET": ("read",)}

    @extend_schema(
        responses={200: JourneySerializer, **error_responses(404)},
        summary="An order's onboarding journey, checklist and recent events",
    )
    def get(self, request, order_id):
        journey = selectors.onboarding_journey_detail(order_id=order_id)
        if journey is None:
            raise exceptions.NotFound("This order has no onboarding journey yet.")
        return Response(journey)


# --- Reporting: experiment events -----------------------------------------------------------


class ExperimentEventsApi(APIView):
    """One row per recorded pricing experiment; JSON pages or CSV with the data-lake columns."""

    staff_permissions = {"GET": ("telemetry.view_pricingexperimentsegment",)}
    api_scopes = {"GET": ("read", "export")}

    class FilterSerializer(StrictQuerySerializer):
        limit = serializers.IntegerField(
            min_value=1,
            required=False,
            help_text="Rows per page: 1..500, default 50. With format=csv: any number, and "
            "without it every matching row.",
        )
        cursor = CursorField(id_kind=int)
        slug = StrictCharField(max_length=200, required=False)
        variantKey = StrictCharField(max_length=200, required=False)
        isControl = serializers.BooleanField(required=False, allow_null=True, default=None)
        since = serializers.DateTimeField(required=False, help_text="recordedAt >= since")
        until = serializers.DateTimeField(required=False, help_text="recordedAt < until")
        format = serializers.ChoiceField(choices=["json", "csv"], default="json")
        order = order_field()

        def validate(self, data):
            if data["format"] == "json" and data.get("limit", 50) > 500:
                raise serializers.ValidationError({"limit": ["At most 500 rows per JSON page."]})
            return data

    class OutputSerializer(serializers.Serializer):
        events = inline_serializer(
            name="ExperimentEvent",
            many=True,
            fields={
                key: (
                    serializers.BooleanField()
                    if key == "isControl"
                    else serializers.IntegerField()
                    if key == "segmentId"
                    else serializers.DateTimeField()
                    if key == "recordedAt"
                    else StrictCharField(allow_null=True)
                )
                for key in SEGMENT_KEYS
            },
        )
        nextCursor = StrictCharField(allow_null=True)

    @extend_schema(
        parameters=[FilterSerializer],
        responses={
            200: OutputSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="with format=csv"),
            **error_responses(400),
        },
        summary="Onboarding pricing experiment events",
    )
    def get(self, request):
        query = parse_query(request, self.FilterSerializer)
        filters = selectors.SegmentFilters(
            slug=query.get("slug"),
            variant_key=query.get("variantKey"),
            is_control=query.get("isControl"),
            since=query.get("since"),
            until=query.get("until"),
            # No row can still commit below it: a cursor handed out is never passed later.
            committed_before=committed_before(),
        )
        descending = query["order"] == "desc"
        if query["format"] == "csv":
            response = StreamingHttpResponse(
                selectors.experiment_segments_csv(
                    filters=filters,
                    cursor=query.get("cursor"),
                    limit=query.get("limit"),
                    descending=descending,
                ),
                content_type="text/csv; charset=utf-8",
            )
            response["Content-Disposition"] = (
                'attachment; filename="onboarding-experiment-events.csv"'
            )
            response["Cache-Control"] = "no-store"
            return response
        rows, next_cursor = selectors.experiment_segments_page(
            filters=filters,
            cursor=query.get("cursor"),
            limit=query.get("limit", 50),
            descending=descending,
        )
        return Response({"events": rows, "nextCursor": next_cursor})
