"""Helpers for tests that run `manage.py` in a child process against the test database."""

from __future__ import annotations

import os
from urllib.parse import quote

from django.db import connection


def database_url(name: str | None = None) -> str:
    """A DATABASE_URL for the current test database (or database ``name`` on its server),
    TCP or Unix socket (embedded Postgres)."""
    db = {**connection.settings_dict}
    if name is not None:
        db["NAME"] = name
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    host = db["HOST"] or db.get("OPTIONS", {}).get("host") or "127.0.0.1"
    if host.startswith("/"):
        # A socket directory: libpq takes it as the host parameter.
        return f"postgres://{credentials}@/{db['NAME']}?host={quote(host)}"
    return f"postgres://{credentials}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def child_env(**overrides: str) -> dict[str, str]:
    """The environment of a child `manage.py`: this one, on the test database."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        **overrides,
    }
