"""Shared fixtures: named users as in healthchecks' tests, and API clients."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

# Playwright fixtures (chromium, browser_page) for the browser smoke tests: tests/browser.py.
pytest_plugins = ["tests.browser"]


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
