"""The protocol every sink follows: send returns only once a batch is accepted, so the engine
checkpoints right after."""

from __future__ import annotations

from typing import Protocol

from exports.feeds import Batch


class SinkError(Exception):
    """The sink did not accept a batch; the cursor stays before it."""


class Sink(Protocol):
    """Where rows go. ``send`` returns only once the batch is accepted (durable on disk,
    acknowledged by the receiver, stored in S3): the engine checkpoints right after."""

    name: str
    # Rows per batch unless --batch-size or EXPORT_BATCH_SIZE say otherwise.
    default_batch_size: int

    def open(self) -> None: ...

    def send(self, batch: Batch) -> None: ...

    def close(self) -> None: ...
