"""gunicorn's configuration (``gunicorn --config python:smplat.gunicorn smplat.wsgi``).

With PROMETHEUS_MULTIPROC_DIR set, every worker writes its request counts there and /metrics
sums them (prometheus_client's multiprocess mode): the directory is emptied when the server
starts, so counts of an earlier server do not add up, and a dead worker's live gauges go.
"""

import os
import shutil
from pathlib import Path

_multiproc = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


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
