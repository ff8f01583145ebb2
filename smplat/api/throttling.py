"""Rate limits of the ingest routes (the capture and analytics POSTs): per key, or per client
address for staff sessions; past the limit a 429 with ``Retry-After`` and the JSON error.

A sliding window of buckets: the period is cut into ``BUCKETS`` slices, one counter each, and
a request is let in when the slices of the last period (the one under way and the ``BUCKETS``
before it), with this request, hold no more than the limit. So no span of ``period`` seconds ever holds more than
the limit. One fixed window per period would not hold that: three requests at 10:42:59.9 and
three at 10:43:00.0 under a limit of three a minute all went through. The price is that the
window reaches up to one slice (a tenth of the period) further back than the period.

Counters move with the cache's atomic ``add``/``incr``/``decr`` (DRF's own throttles keep a
list of timestamps, read and written back, which loses counts when two processes race). A
refused request gives its count back, so a client that keeps retrying waits no longer than
``Retry-After`` says, which is the moment the oldest slices leave the window and make room.
The counters live in the default cache (``CACHE_URL``): a shared cache such as Redis when
several web processes serve, else each process counts on its own. When the cache cannot be
reached the request goes through: capture stays up, the log says why.
"""

from __future__ import annotations

import contextlib
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

BUCKETS = 10


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
        slice_seconds = period / BUCKETS
        now = time.time()
        bucket = int(now // slice_seconds)
        prefix = f"ratelimit:ingest:{ident}:{period}"
        older = [f"{prefix}:{bucket - back}" for back in range(BUCKETS, 0, -1)]
        current_key = f"{prefix}:{bucket}"
        try:
            # Kept until the window has passed it, plus a second.
            current = self._increment(current_key, timeout=math.ceil(period + 2 * slice_seconds))
            held = cache.get_many(older)
            counts = [int(held.get(key, 0)) for key in older]
            if sum(counts) + current <= limit:
                return True
            self._release(current_key)
        except Exception:  # the cache is down: let capture through rather than refuse it
            logger.warning("rate limit counter unavailable; request allowed", exc_info=True)
            return True
        counts.append(current - 1)
        self._wait = _seconds_until_room(
            counts, limit, (bucket + 1) * slice_seconds - now, slice_seconds
        )
        return False

    @staticmethod
    def _increment(counter: str, *, timeout: int) -> int:
        if cache.add(counter, 1, timeout=timeout):
            return 1
        try:
            return cache.incr(counter)
        except ValueError:  # expired between add and incr: this request opens the window
            cache.add(counter, 1, timeout=timeout)
            return 1

    @staticmethod
    def _release(counter: str) -> None:
        with contextlib.suppress(ValueError):  # expired meanwhile: nothing to give back
            cache.decr(counter)

    def wait(self) -> int:
        return self._wait


def _seconds_until_room(
    counts: list[int], limit: int, until_next_slice: float, slice_seconds: float
) -> int:
    """Whole seconds until one more request fits: the slices leave the window oldest first,
    one at each slice boundary, ``counts`` oldest first and the one under way last."""
    held = sum(counts)
    for boundary, leaving in enumerate(counts[:-1]):
        held -= leaving
        if held < limit:
            return max(1, math.ceil(until_next_slice + boundary * slice_seconds))
    # Else when the slice under way leaves too, and the window is empty.
    return max(1, math.ceil(until_next_slice + (len(counts) - 1) * slice_seconds))
