"""``GET /readyz``: may this process take traffic? The database answers and every migration
is applied (503 with the reason otherwise). ``/healthz`` (smplat/urls.py) stays the
liveness probe.

Loading the migration graph reads every migration file, so it is done only until the answer
is "all applied"; from then on this process remembers it (migrations are not unapplied under
a running site) and a probe costs one ``SELECT 1``.
"""

from __future__ import annotations

import logging

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from smplat.api.exceptions import error_body

logger = logging.getLogger(__name__)

_all_migrations_applied = False


def pending_migrations() -> list[str]:
    """``app.name`` of every migration not applied yet, in the order migrate would run them."""
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


@never_cache
def readyz(request):
    global _all_migrations_applied
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
        pending = [] if _all_migrations_applied else pending_migrations()
    except Exception:  # any database failure means "not ready"
        logger.warning("readiness: the database is unreachable", exc_info=True)
        return JsonResponse(
            error_body("database_unavailable", "The database is unreachable."), status=503
        )
    if pending:
        shown = ", ".join(pending[:5]) + (
            f" and {len(pending) - 5} more" if len(pending) > 5 else ""
        )
        return JsonResponse(
            error_body(
                "migrations_pending",
                f"{len(pending)} migration(s) not applied: {shown}.",
                {"pending": pending},
            ),
            status=503,
        )
    _all_migrations_applied = True
    return JsonResponse({"status": "ready"})
