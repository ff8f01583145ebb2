"""/readyz: 200 when the database answers and every migration is applied, 503 with the
reason otherwise; the "all applied" answer is remembered once true. /healthz as before."""

from __future__ import annotations

import pytest
from django.db.migrations.recorder import MigrationRecorder

from smplat import probes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def forget_readiness(monkeypatch):
    monkeypatch.setattr(probes, "_all_migrations_applied", False)


def test_ready_when_every_migration_is_applied(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
    assert response["X-Request-ID"]


def test_not_ready_while_a_migration_is_pending(client):
    MigrationRecorder.Migration.objects.filter(app="api", name="0001_initial").delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "migrations_pending"
    assert "api.0001_initial" in error["message"]
    assert error["fields"]["pending"] == ["api.0001_initial"]


def test_once_ready_a_probe_costs_one_query(client, django_assert_num_queries):
    assert client.get("/readyz").status_code == 200
    with django_assert_num_queries(1):
        assert client.get("/readyz").status_code == 200


def test_not_ready_when_the_database_does_not_answer(client, monkeypatch):
    from django.db.backends.postgresql.base import DatabaseWrapper

    def refuse(self, *args, **kwargs):
        raise self.Database.OperationalError("connection refused")

    monkeypatch.setattr(DatabaseWrapper, "create_cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"


def test_probes_answer_plain_http_with_https_redirects_on(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/readyz").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}
