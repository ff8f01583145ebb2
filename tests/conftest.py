"""Shared fixtures: named users as in healthchecks' tests, and API clients."""

import pytest
from django.conf import settings
from django.conf import settings as django_settings
from rest_framework.test import APIClient

# Playwright fixtures (chromium, browser_page) for the browser smoke tests: tests/browser.py.
pytest_plugins = ["tests.browser"]


@pytest.fixture(autouse=True)
def cursor_files_in_tmp(settings, tmp_path):
    """Each test's feeds keep their checkpoints in its own folder (the defaults are under
    the checkout's .data/, shared by every run on this machine)."""
    for name in dir(django_settings):  # the fixture's wrapper lists no setting
        if name.endswith("_CURSOR_PATH"):
            setattr(settings, name, str(tmp_path / "cursors" / f"{name.lower()}.json"))


@pytest.fixture
def alice(django_user_model):
    """Alice runs operations: a staff superuser."""
    return django_user_model.objects.create_user(
        "alice", "alice@example.org", "alice-password", is_staff=True, is_superuser=True
    )


@pytest.fixture
def bob(django_user_model):
    """Bob is staff but holds no permission at all."""
    return django_user_model.objects.create_user(
        "bob", "bob@example.org", "bob-password", is_staff=True
    )


@pytest.fixture
def charlie(django_user_model):
    """Charlie has an account and no staff access."""
    return django_user_model.objects.create_user(
        "charlie", "charlie@example.org", "charlie-password"
    )


@pytest.fixture
def api_client():
    """An API client presenting the configured key as a bearer token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {settings.CHECKOUT_API_KEY}")
    return client


@pytest.fixture
def anonymous_client():
    return APIClient()


@pytest.fixture
def staff_client(alice):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    return client


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on loopback: boto3 talks real HTTP to it, as to any S3 endpoint."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, monkeypatch, settings):
    """A fresh bucket on moto's S3 server; boto3 reaches it through AWS_ENDPOINT_URL."""
    import uuid

    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    settings.AWS_ENDPOINT_URL = s3_server
    client = boto3.client("s3")
    bucket = f"exports-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    client.bucket = bucket
    return client


# --- Loopback listeners (tests/listeners.py) ------------------------------------------------


@pytest.fixture(scope="session")
def ca():
    """A certificate authority made for the test run (trustme): nothing trusts it unless a
    test says so (``trusted_ca``)."""
    import trustme

    return trustme.CA()


@pytest.fixture
def trusted_ca(ca, tmp_path, monkeypatch):
    """The listeners' CA trusted by the site, as an internal CA set in REQUESTS_CA_BUNDLE."""
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(path))
    return ca


@pytest.fixture
def listeners(ca):
    """Start loopback listeners on demand (``listeners("::1", tls=False)``); every one is
    stopped after the test."""
    from tests.listeners import Listener, tls_context

    started = []

    def start(host: str = "127.0.0.1", tls: bool = True):
        listener = Listener(host, tls_context(ca) if tls else None)
        started.append(listener)
        return listener

    yield start
    for listener in started:
        listener.stop()
