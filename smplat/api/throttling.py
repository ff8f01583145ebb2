"""Rate limits of the ingest routes (the capture and analytics POSTs): per key, or per client
address for staff sessions; past the limit a 429 with ``Retry-After`` and the JSON error.

Fixed one-period windows counted with the cache's atomic ``add``/``incr`` (DRF's own
throttles keep a list of timestamps, read and written back, which loses counts when two
processes race). The counters live in the default cache (``CACHE_URL``): a shared cache such
as Redis when several web processes serve, else each process counts on its own. When the
cache cannot be reached the request goes through: capture stays up, the log says why.
"""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from smplat.api.authentication import ApiClient
from smplat.api.models import Scope
from smplat.api.permissions import required_scopes
from smplat.audit.services import request_address

logger = logging.getLogger(__name__)


class IngestRateThrottle(BaseThrottle):
    """Applies to the methods a view opens to the ``ingest`` scope, nothing else."""

    def allow_request(self, request, view) -> bool:
        needed = required_scopes(view, request)
        if not needed or Scope.INGEST not in needed:
            return True
        client = request.auth if isinstance(request.auth, ApiClient) else None
        if client is not None:
            ident = f"key:{client.key_id or 'environment'}"
            if client.ingest_rate_per_minute:
                limit, period = client.ingest_rate_per_minute, 60
            else:
                limit, period = settings.API_INGEST_RATE_PER_KEY
        else:
            ident = f"address:{request_address(request) or 'unknown'}"
            limit, period = settings.API_INGEST_RATE_PER_ADDRESS
        now = time.time()
        window = int(now // period)
        counter = f"ratelimit:ingest:{ident}:{period}:{window}"
        try:
            count = self._increment(counter, timeout=period + 1)
        except Exception:  # the cache is down: let capture through rather than refuse it
            logger.warning("rate limit counter unavailable; request allowed", exc_info=True)
            return True
        if count > limit:
            self._wait = max(1, math.ceil((window + 1) * period - now))
            return False
        return True

    @staticmethod
    def _increment(counter: str, *, timeout: int) -> int:
        if cache.add(counter, 1, timeout=timeout):
            return 1
        try:
            return cache.incr(counter)
        except ValueError:  # expired between add and incr: this request opens the window
            cache.add(counter, 1, timeout=timeout)
            return 1

    def wait(self) -> int:
        return self._wait
