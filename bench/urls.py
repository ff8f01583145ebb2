"""The site's routes plus the bare capture view the capture measurement compares against."""

from django.urls import path

from bench.views import BareCaptureApi
from smplat.urls import handler400, handler403, handler404, handler500  # noqa: F401
from smplat.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path("bench/bare-capture", BareCaptureApi.as_view(), name="bench-bare-capture"),
    *site_urlpatterns,
]
