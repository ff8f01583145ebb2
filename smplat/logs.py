"""Log context: every line carries the request id (web) or the export run id (exporters).

``RequestContextMiddleware`` takes ``X-Request-ID`` from the proxy when it is well formed
(else makes one), echoes it in the response, logs one line per request (route, status,
duration, the user or key name; never headers, query strings or bodies, where secrets
travel) and counts the request for /metrics. ``export_run_bind`` does the same for a run.
``LOG_FORMAT=json`` writes one JSON object per line (``JsonFormatter``).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar

from django.core.signals import request_finished
from django.dispatch import receiver
from django.utils.functional import empty
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
run_id_var: ContextVar[int | None] = ContextVar("run_id", default=None)

# What a proxy may hand us as a request id: short and printable, so that it cannot forge log
# lines or smuggle anything into the response header.
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:+=/-]{8,128}$")

logger = logging.getLogger("smplat.requests")
run_logger = logging.getLogger("smplat.exports.runs")


class ContextFilter(logging.Filter):
    """Puts request_id, run_id and actor on every record (None when outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in (("request_id", request_id_var), ("run_id", run_id_var)):
            if not hasattr(record, name):
                setattr(record, name, var.get())
        if not hasattr(record, "actor"):
            record.actor = None  # request lines name the user or key (RequestContextMiddleware)
        parts = [f"request_id={record.request_id}"] if record.request_id else []
        if record.run_id:
            parts.append(f"run_id={record.run_id}")
        record.context = " ".join(parts) or "-"
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: timestamp, level, logger, message and the context fields."""

    FIELDS = ("request_id", "run_id", "actor", "route", "method", "status", "duration_ms")

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("timestamp", True)
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        super().__init__("%(levelname)s %(name)s %(message)s", *args, **kwargs)

    def add_fields(self, log_record, record, message_dict) -> None:
        super().add_fields(log_record, record, message_dict)
        for name in self.FIELDS:
            log_record.setdefault(name, getattr(record, name, None))
        log_record.pop("context", None)


def _actor(request) -> str | None:
    """The user or key name, only if authentication already ran (no extra session query)."""
    user = request.__dict__.get("user")
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    if not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "audit_name", None) or user.get_username()


def _route(request) -> str:
    match = getattr(request, "resolver_match", None)
    return f"/{match.route}" if match is not None and match.route else "<unmatched>"


class RequestContextMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        from smplat.request_metrics import request_observe

        proposed = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = proposed if REQUEST_ID_PATTERN.match(proposed) else uuid.uuid4().hex
        request.request_id = request_id
        # Kept until the response is closed (``request_finished``), not reset on the way out:
        # Django logs a 4xx/5xx ("Forbidden: /path") after the middleware has returned.
        request_id_var.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        duration = time.perf_counter() - started
        route = _route(request)
        actor = _actor(request)
        request_observe(
            route=route, method=request.method, status=response.status_code, seconds=duration
        )
        logger.info(
            "%s %s %s %.1fms",
            request.method,
            route,
            response.status_code,
            duration * 1000,
            extra={
                "actor": actor,
                "route": route,
                "method": request.method,
                "status": response.status_code,
                "duration_ms": round(duration * 1000, 1),
            },
        )
        return response


@receiver(request_finished)
def _request_id_forget(sender, **kwargs) -> None:
    request_id_var.set(None)


def export_run_bind(run) -> None:
    """Every later log line of this process carries the run's id (until the next run)."""
    run_id_var.set(run.pk)
    run_logger.info(
        "export run %s of %s started (%s, sink %s)", run.pk, run.feed, run.trigger, run.sink
    )


def export_run_finished(run) -> None:
    # Not the error text: it is on the run (admin, card), and may quote a remote answer.
    run_logger.info("export run %s of %s %s: %s rows", run.pk, run.feed, run.outcome, run.rows)
