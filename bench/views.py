"""The baseline of the capture measurement: a DRF view with the site's authentication and
JSON parser that does one INSERT and nothing else (no validation, no window trim)."""

from __future__ import annotations

import uuid

from django.utils import timezone
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from telemetry.models import QuickOrderEvent


class BareCaptureApi(APIView):
    def post(self, request):
        data = request.data
        event = QuickOrderEvent(
            event_id=uuid.uuid4(),
            event_name=data.get("eventName", "quick_order.start"),
            product_id=str(data.get("productId", "")),
            product_title=str(data.get("productTitle", "")),
            session_id=data.get("sessionId"),
            platform_context=data.get("platformContext"),
            metadata=data.get("metadata") or {},
            recorded_at=timezone.now(),
        )
        event.save(force_insert=True)
        return Response({"eventId": str(event.event_id)}, status=status.HTTP_201_CREATED)
