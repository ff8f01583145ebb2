"""Background export runs on django-tasks' database queue ("Run export now" without a
workflow to dispatch). The queue outlives the web request that enqueued the run;
`python manage.py db_worker` works it (`make run` starts one beside the web server).
"""

from __future__ import annotations

import logging

from django_tasks import task

from exports.locks import FeedBusy
from exports.models import ExportRun
from exports.services import ExportFailed, export_run

logger = logging.getLogger(__name__)


@task()
def run_export(run_id: int) -> str:
    """Run the queued ExportRun ``run_id``; its outcome and error are recorded on the run.

    The cards notice the finished run by themselves: their status cache is keyed by the
    feed's newest run and its outcome, which this run changes in the database.
    """
    run = ExportRun.objects.filter(pk=run_id, outcome=ExportRun.Outcome.QUEUED).first()
    if run is None:
        return "not queued any more"
    try:
        export_run(feed=run.feed, trigger=run.trigger, requested_by=run.requested_by, run=run)
    except (FeedBusy, ExportFailed) as exc:
        logger.warning("manual export of %s did not succeed: %s", run.feed, exc)
        raise  # the task fails too (the run records why), not a "successful" task
    run.refresh_from_db()
    return run.outcome
