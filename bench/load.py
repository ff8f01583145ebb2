"""Concurrent capture clients for the capture measurement: ``python -m bench.load URL``.

Runs in its own process (so the clients do not share the measured server's interpreter),
POSTs quick-order events from ``--clients`` threads for ``--seconds`` after a warm-up, and
prints ``{"requests", "errors", "seconds", "per_second", "p50_ms", "p99_ms"}`` as JSON.
gunicorn's sync workers close the connection after each response, so each request opens a
new one, as a storefront client behind a load balancer would.

With ``--stop-file PATH`` the clients run until that file exists (``--seconds`` is then the
longest they run), and ``--samples`` adds every request as ``[started, seconds, ok]``
(``started`` on the wall clock, ``time.time()``), so the caller can tell which requests ran
while something else (an export) was running.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import threading
import time
from urllib.parse import urlsplit


def _body(n: int) -> bytes:
    name = ("quick_order.start", "quick_order.abort", "quick_order.complete")[n % 3]
    metadata = {"reason": "price"} if n % 3 == 1 else {}
    return json.dumps(
        {
            "eventName": name,
            "sessionId": f"bench-{n % 997}",
            "productId": f"product-{n % 31}",
            "productTitle": "Bench product",
            "platformContext": "instagram",
            "metadata": metadata,
        }
    ).encode()


def percentile_ms(latencies: list[float], fraction: float) -> float | None:
    """The ``fraction`` quantile of ``latencies`` (seconds) in milliseconds, None if empty."""
    if len(latencies) < 2:
        return round(latencies[0] * 1000, 2) if latencies else None
    cuts = statistics.quantiles(latencies, n=1000, method="inclusive")
    return round(cuts[round(fraction * 1000) - 1] * 1000, 2)


def run(
    url: str,
    *,
    key: str,
    clients: int,
    seconds: float,
    warmup: float,
    stop_file: str | None = None,
    samples: bool = False,
) -> dict:
    parts = urlsplit(url)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    start = time.monotonic()
    measure_from = start + warmup
    stop_at = measure_from + seconds
    counts = {"requests": 0, "errors": 0}
    recorded: list[tuple[float, float, bool]] = []
    stopped = threading.Event()
    lock = threading.Lock()

    def watch() -> None:
        while not stopped.wait(0.05):
            if os.path.exists(stop_file):
                stopped.set()

    def client(index: int) -> None:
        done = errors = 0
        mine: list[tuple[float, float, bool]] = []
        n = index
        while True:
            now = time.monotonic()
            if now >= stop_at or stopped.is_set():
                break
            wall = time.time()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            try:
                connection.request("POST", parts.path, _body(n), headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 201
            except OSError:
                ok = False
            finally:
                connection.close()
            n += clients
            if now >= measure_from:
                done += 1
                errors += 0 if ok else 1
                mine.append((wall, time.monotonic() - now, ok))
        with lock:
            counts["requests"] += done
            counts["errors"] += errors
            recorded.extend(mine)

    watcher = threading.Thread(target=watch, daemon=True) if stop_file else None
    if watcher:
        watcher.start()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stopped.set()
    measured = max(1e-9, min(time.monotonic(), stop_at) - measure_from)
    latencies = [latency for _, latency, _ in recorded]
    result = {
        **counts,
        "seconds": round(measured, 3),
        "per_second": counts["requests"] / measured,
        "p50_ms": percentile_ms(latencies, 0.5),
        "p99_ms": percentile_ms(latencies, 0.99),
    }
    if samples:
        result["samples"] = sorted(recorded)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--key", required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--stop-file", help="stop once this file exists")
    parser.add_argument(
        "--samples", action="store_true", help="add every request as [started, seconds, ok]"
    )
    args = parser.parse_args()
    result = run(
        args.url,
        key=args.key,
        clients=args.clients,
        seconds=args.seconds,
        warmup=args.warmup,
        stop_file=args.stop_file,
        samples=args.samples,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
