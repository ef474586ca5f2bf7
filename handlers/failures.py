"""What counts as a failure of Sarah's, how many a thread may have, and the hand-off they trigger.

A failure is counted once per thing that failed (its key): an answer the customer pressed "not
helped" on or said did not work (`answer_failed`), or a message of the customer's Sarah could not
answer: the model handed it off or was unavailable, or the answer claimed an action Sarah cannot
take (`message_failed`). Bystanders in a channel thread count none (handlers/who_moves.py). At
`Policy.handoff_after_failures` the thread goes to people (`Failures.over_threshold`), with the
reason the last failure gives. The pass decides when to count (handlers/pipeline.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from handlers.answered import Answered
from handlers.handoff import Handoff
from handlers.messages import ThreadRef
from handlers.model import Outcome, Reply
from handlers.model_turns import customer_turns
from handlers.prompt import HandoffReason
from handlers.store import keys
from handlers.store.ownership import OwnershipStore
from handlers.store.thread_store import ThreadStore
from handlers.store.values import Pending, Release

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Policy:
    handoff_after_failures: int = 3
    consecutive: bool = False  # count failures in a row (reset by a good answer) instead of in total


DEFAULT_POLICY = Policy()  # hand off at the third failure, counted in total


def answer_failed(answer_ts: str) -> str:
    """The failure key of Sarah's answer `answer_ts`: however often it is reported, it counts once."""
    return keys.failure_key("answer", answer_ts)


def message_failed(own: list[Pending]) -> str:
    """The failure key of the customer's batch, by its first message: Sarah could not answer it."""
    return keys.failure_key("message", own[0].message.ts)


def reply_failure(reply: Reply, own: list[Pending], last_answer: str) -> str | None:
    """The failure a model's reply is, when it answers the customer's own messages (`own`): a hand-off
    after failed steps is the failure of the answer with those steps, another hand-off or no answer
    at all the failure of the message. None: the reply is no failure."""
    if not own:
        return None
    if reply.outcome is Outcome.HANDOFF:
        if reply.reason == HandoffReason.STEPS_FAILED and last_answer:
            return answer_failed(last_answer)
        return message_failed(own)
    if reply.outcome is Outcome.UNAVAILABLE:
        return message_failed(own)
    return None


class Failures:
    """Counts a thread's failures, and hands the thread to people once it has failed often enough."""

    def __init__(
        self,
        store: ThreadStore,
        ownership: OwnershipStore,
        handoff: Handoff,
        policy: Policy,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._ownership = ownership
        self._handoff = handoff
        self._policy = policy
        self._clock = clock

    async def judge_feedback(self, thread: ThreadRef, feedback: list[Pending], customer: str) -> str | None:
        """The customer's button presses: "not helped" is the answer's failure (its key is returned),
        "helped" starts the count again when failures are counted in a row."""
        key = None
        for press in feedback:
            if customer and press.message.user != customer:
                continue  # only the person who asked rates the answers
            if press.message.text == "not_helped":
                key = answer_failed(press.message.ref)
            elif press.message.text == "helped" and self._policy.consecutive:
                await self._ownership.reset_failures(thread)
        return key

    async def answered_well(self, thread: ThreadRef) -> None:
        """An answer that counted no failure went out: failures counted in a row start again."""
        if self._policy.consecutive:
            await self._ownership.reset_failures(thread)

    async def over_threshold(
        self,
        thread: ThreadRef,
        failure_key: str,
        batch: list[Pending],
        placeholder: str | None,
        reply: Reply | None = None,
        *,
        lease: str = "",
    ) -> Answered | None:
        """Count the failure; hand off once the thread has failed often enough, returning what the
        hand-off's commit recorded (None: not handed off)."""
        failures = await self._ownership.record_failure(thread, failure_key)
        log.info("failure counted", extra={"thread_key": thread.key, "failures": failures, "key": failure_key})
        if failures < self._policy.handoff_after_failures:
            return None
        if reply and reply.outcome is Outcome.HANDOFF:
            reason = reply.reason
        elif reply and reply.outcome is Outcome.UNAVAILABLE:
            reason = HandoffReason.MODEL_UNAVAILABLE
        elif reply and reply.reason == HandoffReason.CLAIMED_ACTION:
            reason = HandoffReason.CLAIMED_ACTION
        else:
            reason = HandoffReason.STEPS_FAILED
        return await self.escalate(
            thread, batch, reason, placeholder, reply.summary if reply else "", failures, lease=lease
        )

    async def escalate(
        self,
        thread: ThreadRef,
        batch: list[Pending],
        reason: str,
        placeholder: str | None,
        summary: str = "",
        failures: int | None = None,
        *,
        lease: str = "",
    ) -> Answered:
        """Record the batch and hand the thread to people; under a lease that is no longer the
        pass's own (`lease`), neither: the lease's new holder decides."""
        committed = await self._store.commit(thread, batch, customer_turns(batch), self._clock(), lease=lease)
        if committed.release is Release.LOST:
            log.info("not handing off: the thread's lease moved on", extra={"thread_key": thread.key})
            return Answered.of(batch, committed=committed)
        if failures is None:
            failures = (await self._store.state(thread)).failures
        await self._handoff.escalate(thread, reason=reason, failures=failures, placeholder=placeholder, summary=summary)
        return Answered.of(batch, committed=committed)
