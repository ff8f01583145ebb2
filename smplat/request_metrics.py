"""The request counters of ``/metrics`` (``smplat/metrics.py`` serves them), counted by the
request-logging middleware (``smplat/logs.py``) as each response goes out. Apart from the
view, so the middleware, which every request passes, imports nothing of the apps."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Counted per URL pattern, never per raw path: bounded label values, no ids or keys in them.
REQUESTS = Counter(
    "smplat_http_requests",
    "HTTP requests answered, by URL route, method and status.",
    ["route", "method", "status"],
    registry=None,
)
REQUEST_SECONDS = Histogram(
    "smplat_http_request_duration_seconds",
    "Time to answer (to the first byte of streamed bodies), by URL route and method.",
    ["route", "method"],
    registry=None,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def request_observe(*, route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route=route, method=method, status=str(status)).inc()
    REQUEST_SECONDS.labels(route=route, method=method).observe(seconds)
