"""gunicorn's configuration (``gunicorn --config python:smplat.gunicorn smplat.wsgi``).

With PROMETHEUS_MULTIPROC_DIR set, every worker writes its request counts there and /metrics
sums them (prometheus_client's multiprocess mode): the directory is emptied when the server
starts, so counts of an earlier server do not add up, and a dead worker's live gauges go.

With LOG_FORMAT=json gunicorn's own lines ("Booting worker", a worker's timeout, an error
while streaming a response) are JSON objects too, one per line, like the site's.
"""

import os
import shutil
from pathlib import Path

_multiproc = os.environ.get("PROMETHEUS_MULTIPROC_DIR")

if os.environ.get("LOG_FORMAT", "plain").strip().lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "smplat.logs.JsonFormatter"}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        # gunicorn merges this over its defaults key by key: its root names its own handler.
        "root": {"level": "INFO", "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
            # A logconfig_dict turns gunicorn's access log on; the site logs each request
            # itself with the route, not the path (a badge URL's path is its key).
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
    }


def on_starting(server) -> None:
    if _multiproc:
        directory = Path(_multiproc)
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)


def child_exit(server, worker) -> None:
    if _multiproc:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
