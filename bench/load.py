"""Concurrent capture clients for the capture measurement: ``python -m bench.load URL``.

Runs in its own process (so the clients do not share the measured server's interpreter),
POSTs quick-order events from ``--clients`` threads for ``--seconds`` after a warm-up, and
prints ``{"requests", "errors", "seconds", "per_second"}`` as JSON. gunicorn's sync workers
close the connection after each response, so each request opens a new one, as a storefront
client behind a load balancer would.
"""

from __future__ import annotations

import argparse
import http.client
import json
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


def run(url: str, *, key: str, clients: int, seconds: float, warmup: float) -> dict:
    parts = urlsplit(url)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    start = time.monotonic()
    measure_from = start + warmup
    stop_at = measure_from + seconds
    counts = {"requests": 0, "errors": 0}
    lock = threading.Lock()

    def client(index: int) -> None:
        done = errors = 0
        n = index
        while True:
            now = time.monotonic()
            if now >= stop_at:
                break
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
        with lock:
            counts["requests"] += done
            counts["errors"] += errors

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {**counts, "seconds": seconds, "per_second": counts["requests"] / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--key", required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args()
    result = run(
        args.url, key=args.key, clients=args.clients, seconds=args.seconds, warmup=args.warmup
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
