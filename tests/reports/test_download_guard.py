"""The download proxies against internal targets (issue 14): every probe runs against a real
listener on loopback, which counts the connections it accepts, so "refused" means nothing
reached it. Positive controls show the same listener is fetched once its origin is allowed."""

from __future__ import annotations

import socket

import pytest
from django.core.cache import cache
from werkzeug import Response

from exports.status import status_write
from reports.pages.downloads import UNAVAILABLE
from tests.listeners import SECRET

PROXY = "/api/reporting/quick-order-export"


@pytest.fixture(autouse=True)
def no_allowed_origins(settings, tmp_path):
    settings.EXPORT_PROXY_ALLOWED_HOSTS = []
    settings.AWS_ENDPOINT_URL = ""
    settings.QUICK_ORDER_EXPORT_STATUS_URL = str(tmp_path / "status.json")
    cache.clear()
    yield
    cache.clear()


def _proxy(client, alice, settings, download_url: str):
    """The proxy's answer when the status payload's downloadUrl is ``download_url``."""
    status_write(settings.QUICK_ORDER_EXPORT_STATUS_URL, {"events": 1, "downloadUrl": download_url})
    cache.clear()
    client.force_login(alice)
    return client.get(PROXY)


def _assert_refused(response):
    assert response.status_code == 502
    assert response.json()["error"]["message"] == UNAVAILABLE


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Loopback over https, whatever the spelling --------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bind", "template"),
    [
        ("127.0.0.1", "https://127.0.0.1:{port}/artifact.ndjson"),
        ("::1", "https://[::1]:{port}/artifact.ndjson"),
        ("127.0.0.1", "https://2130706433:{port}/artifact.ndjson"),
        ("127.0.0.1", "https://0x7f000001:{port}/artifact.ndjson"),
        ("127.0.0.1", "https://localhost:{port}/artifact.ndjson"),
        ("127.0.0.1", "https://[::ffff:127.0.0.1]:{port}/artifact.ndjson"),
        ("127.0.0.1", "https://127.1:{port}/artifact.ndjson"),
    ],
)
def test_https_to_a_loopback_address_never_connects(
    alice, client, settings, listeners, trusted_ca, bind, template
):
    listener = listeners(bind)
    response = _proxy(client, alice, settings, template.format(port=listener.port))
    _assert_refused(response)
    assert listener.accepted == 0  # not even a TLS ClientHello reached it


@pytest.mark.django_db
def test_a_trusted_loopback_listener_is_fetched_once_its_origin_is_allowed(
    alice, client, settings, listeners, trusted_ca
):
    """The positive control of the test above: the same listener, allowed, is fetched, with
    SNI and the certificate checked against the URL's host name."""
    listener = listeners()
    settings.EXPORT_PROXY_ALLOWED_HOSTS = [f"https://localhost:{listener.port}"]
    response = _proxy(client, alice, settings, f"https://localhost:{listener.port}/a.ndjson")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == SECRET
    assert listener.accepted == 1


# --- The allow-list and the S3 endpoint match scheme, host and port ------------------------


@pytest.mark.django_db
def test_the_s3_endpoint_host_on_another_port_is_refused(alice, client, settings, listeners):
    listener = listeners(tls=False)
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9000"
    response = _proxy(client, alice, settings, f"http://127.0.0.1:{listener.port}/x.ndjson")
    _assert_refused(response)
    assert listener.accepted == 0


@pytest.mark.django_db
def test_exactly_the_s3_endpoint_is_fetched(alice, client, settings, listeners):
    listener = listeners(tls=False)
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{listener.port}"
    response = _proxy(client, alice, settings, f"http://127.0.0.1:{listener.port}/x.ndjson")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == SECRET


@pytest.mark.django_db
@pytest.mark.parametrize(
    "entry",
    ["localhost", "127.0.0.1", "localhost:9000", "https://localhost:{port}"],
)
def test_an_allowed_host_on_another_port_or_scheme_is_refused(
    alice, client, settings, listeners, entry
):
    listener = listeners(tls=False)
    settings.EXPORT_PROXY_ALLOWED_HOSTS = [entry.format(port=listener.port)]
    for host in ("localhost", "127.0.0.1"):
        response = _proxy(client, alice, settings, f"http://{host}:{listener.port}/x.ndjson")
        _assert_refused(response)
    assert listener.accepted == 0


@pytest.mark.django_db
def test_an_allowed_hosts_redirect_to_another_port_is_not_followed(
    alice, client, settings, listeners, httpserver
):
    other = listeners(tls=False)
    settings.EXPORT_PROXY_ALLOWED_HOSTS = [f"localhost:{httpserver.port}"]
    for location in (
        f"http://localhost:{other.port}/internal",
        f"http://127.0.0.1:{other.port}/internal",
        f"https://localhost:{httpserver.port}/artifact",  # same host and port, other scheme
    ):
        httpserver.clear()
        httpserver.expect_request("/artifact").respond_with_response(
            Response(status=302, headers={"Location": location})
        )
        _assert_refused(_proxy(client, alice, settings, httpserver.url_for("/artifact")))
    assert other.accepted == 0


@pytest.mark.django_db
def test_a_redirect_within_the_origin_is_followed_and_checked_again(
    alice, client, settings, httpserver
):
    settings.EXPORT_PROXY_ALLOWED_HOSTS = [f"localhost:{httpserver.port}"]
    httpserver.expect_request("/artifact").respond_with_response(
        Response(status=302, headers={"Location": "/artifact-v2"})
    )
    httpserver.expect_request("/artifact-v2").respond_with_data(b"{}\n")
    response = _proxy(client, alice, settings, httpserver.url_for("/artifact"))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"{}\n"


# --- One answer for every failure -----------------------------------------------------------


@pytest.mark.django_db
def test_closed_port_bad_tls_refused_address_and_non_200_get_one_message(
    alice, client, settings, listeners, httpserver
):
    untrusted_tls = listeners()  # REQUESTS_CA_BUNDLE not set: its certificate fails to verify
    closed = _closed_port()
    httpserver.expect_request("/missing").respond_with_data("nope", status=404)
    settings.EXPORT_PROXY_ALLOWED_HOSTS = [
        f"https://localhost:{closed}",
        f"https://localhost:{untrusted_tls.port}",
        f"localhost:{httpserver.port}",
    ]
    answers = [
        _proxy(client, alice, settings, url).json()
        for url in (
            f"https://localhost:{closed}/a",
            f"https://localhost:{untrusted_tls.port}/a",
            f"https://127.0.0.1:{untrusted_tls.port}/a",  # not allowed: refused before connecting
            httpserver.url_for("/missing"),
            "http://169.254.169.254/latest/meta-data/",
            "ftp://localhost/x",
        )
    ]
    assert untrusted_tls.accepted == 1  # the allowed origin was tried, and failed TLS
    assert all(answer == answers[0] for answer in answers), answers
    assert answers[0]["error"]["message"] == UNAVAILABLE


# --- Resolved once --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_host_is_resolved_once_and_that_address_is_connected(
    alice, client, settings, listeners, monkeypatch
):
    """A name that answers differently to a second lookup (DNS rebinding) gets no second
    lookup: one getaddrinfo per connection, and the socket goes to what it returned."""
    listener = listeners(tls=False)
    settings.EXPORT_PROXY_ALLOWED_HOSTS = [f"localhost:{listener.port}"]
    lookups = []
    real_getaddrinfo = socket.getaddrinfo

    def counting_getaddrinfo(host, *args, **kwargs):
        lookups.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting_getaddrinfo)
    response = _proxy(client, alice, settings, f"http://localhost:{listener.port}/x.ndjson")
    assert response.status_code == 200 and b"".join(response.streaming_content) == SECRET
    assert lookups == ["localhost"]
