"""The embedded PostgreSQL used when ``DATABASE_URL`` is not set.

A newcomer's machine has no PostgreSQL server; rather than falling back to another engine
(and testing against something production never runs), the site starts a private
PostgreSQL cluster from the ``pgserver`` package under ``.data/postgres`` in the checkout.

The server is left running after the process that started it exits (``cleanup_mode=None``):
``manage.py`` commands, the dev server, the task worker and the tests all share it, and a
killed process cannot take the database away from the others. ``make db-stop`` stops it.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)


def _runtime_dir() -> None:
    # pgserver asks platformdirs for a runtime folder (for over-long socket paths) and
    # platformdirs warns when XDG_RUNTIME_DIR is unset, as it is under cron and in CI.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")


def embedded_database_url(data_dir: Path, database: str = "smplat") -> str:
    """Start (or reuse) the embedded cluster in ``data_dir`` and return a URL for ``database``.

    The database is created when missing, so a fresh checkout needs nothing but ``migrate``.
    """
    _runtime_dir()
    try:
        import pgserver
    except ImportError as exc:  # pragma: no cover - only without the declared dependency
        raise ImproperlyConfigured(
            "DATABASE_URL is not set and the embedded PostgreSQL (the 'pgserver' package) "
            "is not installed. Install the project (pip install -e .) or set DATABASE_URL."
        ) from exc

    if not database.replace("_", "").isalnum():
        raise ImproperlyConfigured(f"embedded database name {database!r} must be alphanumeric")
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
        logger.info("created database %s in the embedded PostgreSQL at %s", database, data_dir)
    return server.get_uri(database)


def stop_embedded_database(data_dir: Path) -> bool:
    """Stop the embedded cluster if one runs in ``data_dir``; return whether one did."""
    _runtime_dir()
    import pgserver

    if not (data_dir / "postmaster.pid").exists():
        return False
    user = (
        "pgserver" if os.geteuid() == 0 else None
    )  # pgserver runs postgres as this user under root
    pgserver.pg_ctl(["-w", "stop", "-m", "fast"], pgdata=data_dir, user=user)
    return True
