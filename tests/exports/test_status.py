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
    settings.EXPORT_PROXY_ALLOWED_HOSTS = [f"localhost:{httpserver.port}"]
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
    settings.EXPORT_PROXY_ALLOWED_HOSTS = [f"localhost:{httpserver.port}"]
    respond(httpserver.expect_request("/status.json"))
    with pytest.raises(StatusUnavailable, match=message):
        status_read(httpserver.url_for("/status.json"))


def test_a_slow_status_url_times_out_quickly(httpserver, settings):
    settings.EXPORT_PROXY_ALLOWED_HOSTS = [f"localhost:{httpserver.port}"]

    def slow(request):
        time.sleep(3)

    httpserver.expect_request("/slow").respond_with_handler(slow)
    started = time.monotonic()
    with pytest.raises(StatusUnavailable, match="Timeout"):
        status_read(httpserver.url_for("/slow"), timeout=0.2)
    # Cut off by the timeout, well before the server's answer (room for a loaded machine).
    assert time.monotonic() - started < 2
    # The handler's answer, logged when it is done, must not land in a later test's log.
    while not httpserver.log and time.monotonic() - started < 10:
        time.sleep(0.05)


def test_feed_status_reads_the_configured_location(tmp_path, settings):
    settings.QUICK_ORDER_EXPORT_STATUS_URL = ""
    settings.QUICK_ORDER_EXPORT_STATUS_S3_URI = str(tmp_path / "q.json")
    status_write(str(tmp_path / "q.json"), {"events": 1})
    assert feed_status(registry.feed("quick_order_telemetry")) == {"events": 1}
    settings.GUARDRAIL_EXPORT_STATUS_URL = ""
    settings.GUARDRAIL_EXPORT_STATUS_S3_URI = ""
    with pytest.raises(StatusUnavailable, match="no status location"):
        feed_status(registry.feed("guardrail_followups"))


# --- The address rules of exports.safe_http, for configured status URLs too -----------------


def test_an_https_status_url_on_loopback_is_refused_without_connecting(
    settings, listeners, trusted_ca
):
    settings.EXPORT_PROXY_ALLOWED_HOSTS = []
    settings.AWS_ENDPOINT_URL = ""
    listener = listeners()
    for host in ("127.0.0.1", "localhost", "2130706433", "[::ffff:127.0.0.1]"):
        with pytest.raises(StatusUnavailable, match="refusing"):
            status_read(f"https://{host}:{listener.port}/status.json")
    assert listener.accepted == 0


def test_a_status_url_at_exactly_the_s3_endpoint_is_read(settings, listeners):
    listener = listeners(tls=False)
    settings.EXPORT_PROXY_ALLOWED_HOSTS = []
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{listener.port}"
    assert status_read(f"http://127.0.0.1:{listener.port}/status.json") == {"internal": "secret"}
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{listener.port + 1}"
    with pytest.raises(StatusUnavailable, match="refusing"):
        status_read(f"http://127.0.0.1:{listener.port}/status.json")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.0.9",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 (an address checked, not bound)
        "224.0.0.1",
        "::1",
        "::",
        "fe80::1%1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::7f00:1",
        "64:ff9b::a00:1",
        "2002:7f00:1::",
    ],
)
def test_internal_addresses_in_every_spelling_are_not_public(address):
    from exports.safe_http import address_is_public

    assert not address_is_public(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_public(address):
    from exports.safe_http import address_is_public

    assert address_is_public(address)


def test_allow_list_entries_are_origins(settings):
    from django.core.exceptions import ImproperlyConfigured

    from exports.safe_http import allowed_origin, trusted_origins

    assert allowed_origin("minio") == ("http", "minio", 80)
    assert allowed_origin("MinIO.internal.:9000") == ("http", "minio.internal", 9000)
    assert allowed_origin("https://[::1]:8443") == ("https", "::1", 8443)
    settings.EXPORT_PROXY_ALLOWED_HOSTS = ["minio:9000/bucket"]
    with pytest.raises(ImproperlyConfigured, match="EXPORT_PROXY_ALLOWED_HOSTS"):
        trusted_origins()
