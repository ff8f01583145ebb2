"""The one export loop every row feed runs: batches from the feed, into the sink, then the
checkpoint. The order is the whole guarantee: a checkpoint is written only after the sink
accepted the rows it covers, so a run killed at any moment resumes without losing a row, and
re-sends at most the batch that was in flight (with the same idempotency key)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils import timezone

from exports.cursors import Checkpoint, CursorStore
from exports.feeds import Batch
from exports.progress import Progress
from exports.sinks import Sink


@dataclass
class RunState:
    """What a run has done so far; still true when it stops with an error."""

    feed: str
    cursor_before: str | None
    cursor_after: str | None = None
    rows: int = 0
    batches: int = 0
    interrupted: bool = False

    def __post_init__(self) -> None:
        self.cursor_after = self.cursor_before


def run_batches(
    *,
    batches: Iterable[Batch],
    sink: Sink,
    store: CursorStore | None,
    state: RunState,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> RunState:
    progress = progress or Progress(enabled=False)
    sink.open()
    try:
        for batch in batches:
            sink.send(batch)  # returns once accepted; raises otherwise
            state.rows += len(batch)
            state.batches += 1
            state.cursor_after = batch.checkpoint
            if store is not None:
                store.save(_checkpoint(state))
            progress.update(state.rows)
            if should_stop():
                state.interrupted = True
                break
    finally:
        sink.close()
        progress.finish()
    if store is not None and not state.interrupted:
        # Also after a run that found nothing new: updatedAt says the feed is alive.
        store.save(_checkpoint(state))
    return state


def _checkpoint(state: RunState) -> Checkpoint:
    return Checkpoint(
        cursor=state.cursor_after, rows=state.rows, updated_at=timezone.now(), feed=state.feed
    )
