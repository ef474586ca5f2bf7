"""What one pass of the pipeline handled (handlers/pipeline.py), and which messages it answers.

The smallest pieces the pass's modules share: each step that ends a pass (an answer, a hand-off,
a relay, silence while people have the thread) says what it did as an `Answered`.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.model import Reply
from handlers.store.values import Committed, Pending, Release, Snapshot


@dataclass(frozen=True, slots=True)
class Answered:
    """What one pass handled: the stream entries to acknowledge, and the model's reply if it was asked."""

    entry_ids: list[str]
    reply: Reply | None = None
    release: Release | None = None  # the lease was given up (or found lost) with the answer's commit
    next: Snapshot | None = None  # with Release.MORE: the next pass's read, made by the commit

    @classmethod
    def of(cls, batch: list[Pending], reply: Reply | None = None, committed: Committed | None = None) -> Answered:
        """The batch's stream entries (a message the ingress queued has none until a worker reads it)."""
        entry_ids = [p.entry_id for p in batch if p.entry_id]
        if committed is None:
            return cls(entry_ids, reply)
        if committed.release is Release.LOST:
            return cls([], reply, Release.LOST)  # nothing was recorded: the lease's new holder answers them
        # a worker may have read the entry of a message this pass took from the ingress's copy
        entry_ids += [entry for entry in committed.entry_ids if entry not in entry_ids]
        return cls(entry_ids, reply, committed.release, committed.next)


def answering(batch: list[Pending]) -> list[str]:
    """The ids of the messages a pass answers: the checks before a send look for any others queued."""
    return [p.message.ts for p in batch]
