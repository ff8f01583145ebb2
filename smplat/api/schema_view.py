"""The OpenAPI schema's view (``/api/schema/``), apart from ``params``: DRF's settings import
that module, and the schema view imports DRF's views."""

from __future__ import annotations

from drf_spectacular.views import SpectacularAPIView

from smplat.api.params import SchemaContentNegotiation


class SchemaView(SpectacularAPIView):
    """``/api/schema/``: the one schema. The API is not versioned by parameter, so
    ``?version=`` is ignored: drf-spectacular copies it into the Content-Disposition file
    name, where a line break was a 500 (``BadHeaderError``) for anyone."""

    content_negotiation_class = SchemaContentNegotiation

    def _get_version_parameter(self, request):
        return None
