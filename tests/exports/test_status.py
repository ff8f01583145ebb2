"""Reading status payloads: what the export-health cards call."""

from __future__ import annotations

import time

import pytest

from exports import registry
from exports.status import (
    StatusUnavailable,
    download_url_allowed,
    feed_status,
    status_read,
    status_write,
)


def test_local_path_round_trip(tmp_path):
    target = tmp_path / "nested" / "status.json"
    status_write(str(target), {"cursor": None, "rows": 0})
    assert status_read(str(target)) == {"cursor": None, "rows": 0}


def test_s3_round_trip(s3):
    uri = f"s3://{s3.bucket}/status/x.json"
    status_write(uri, {"events": 3})
    assert status_read(uri) == {"events": 3}
    with pytest.raises(StatusUnavailable, match="NoSuchKey"):
        status_read(f"s3://{s3.bucket}/status/missing.json")


def test_http_from_an_allowed_host(httpserver, settings):
    settings.EXPORT_PROXY_ALLOWED_HOSTS = ["localhost"]
    httpserver.expect_request("/status.json").respond_with_json({"rows": 5})
    assert status_read(httpserver.url_for("/status.json")) == {"rows": 5}


def test_plain_http_elsewhere_is_refused(settings):
    settings.EXPORT_PROXY_ALLOWED_HOSTS = []
    settings.AWS_ENDPOINT_URL = ""
    with pytest.raises(StatusUnavailable, match="refusing"):
        status_read("http://198.51.100.7/status.json")
    assert download_url_allowed("https://s3.amazonaws.com/b/k")
    assert download_url_allowed("s3://bucket/key")
    assert not download_url_allowed("file:///etc/passwd")


@pytest.mark.parametrize(
    ("respond", "message"),
    [
        (lambda s: s.respond_with_data("nope", status=404), "answered 404"),
        (lambda s: s.respond_with_data("<html>"), "not JSON"),
        (lambda s: s.respond_with_json([1, 2]), "not a JSON object"),
    ],
)
def test_clear_errors(httpserver, settings, respond, message):
    settings.EXPORT_PROXY_ALLOWED_HOSTS = ["localhost"]
    respond(httpserver.expect_request("/status.json"))
    with pytest.raises(StatusUnavailable, match=message):
        status_read(httpserver.url_for("/status.json"))


def test_a_slow_status_url_times_out_quickly(httpserver, settings):
    settings.EXPORT_PROXY_ALLOWED_HOSTS = ["localhost"]

    def slow(request):
        time.sleep(1)

    httpserver.expect_request("/slow").respond_with_handler(slow)
    started = time.monotonic()
    with pytest.raises(StatusUnavailable, match="Timeout"):
        status_read(httpserver.url_for("/slow"), timeout=0.2)
    assert time.monotonic() - started < 0.9


def test_feed_status_reads_the_configured_location(tmp_path, settings):
    settings.QUICK_ORDER_EXPORT_STATUS_URL = ""
    settings.QUICK_ORDER_EXPORT_STATUS_S3_URI = str(tmp_path / "q.json")
    status_write(str(tmp_path / "q.json"), {"events": 1})
    assert feed_status(registry.feed("quick_order_telemetry")) == {"events": 1}
    settings.GUARDRAIL_EXPORT_STATUS_URL = ""
    settings.GUARDRAIL_EXPORT_STATUS_S3_URI = ""
    with pytest.raises(StatusUnavailable, match="no status location"):
        feed_status(registry.feed("guardrail_followups"))
