"""Play one scenario through Sarah's own pipeline, in process, on an in-memory Redis.

Each customer message is queued in the thread exactly as the worker queues a Slack message, and the
pipeline answers it with everything it does in Slack: memory, the model, the check on invented
actions, "that didn't work" counted as a failure, hand-off after repeated failures or on an
explicit request. An outbox records what the customer would see. The model is wrapped so the
scores also see what it produced before the pipeline withheld anything.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from config.settings import TextSettings
from handlers.delivery import Texts
from handlers.failures import Policy
from handlers.handoff import Handoff, HandoffTexts
from handlers.messages import InboundMessage, Kind, ThreadRef
from handlers.model import Conversation, Model, Reply
from handlers.outbox import Card, CardRef, OffSlackOutbox, PartsRecorder
from handlers.pipeline import Pipeline
from handlers.store.ownership import Owner, OwnershipStore
from handlers.store.thread_store import ThreadStore
from handlers.tokens import encoder_for
from training.episodes.refusals import Refusal, classify
from training.episodes.scenarios import Scenario, Stage
from training.episodes.simulator import DECLINE_ACCEPTED, THANKS, Customer

START = 1_800_000_000.0


@dataclass(slots=True)
class Line:
    speaker: str  # customer | sarah | handoff
    text: str
    stage: int


@dataclass(slots=True)
class Episode:
    """What happened: the transcript, how it ended, and what the model itself produced."""

    scenario: Scenario
    lines: list[Line] = field(default_factory=list)
    turns: int = 0  # customer turns (messages sent together count once)
    reached: int = 0  # stages completed
    handed_off_at: int | None = None  # the stage during which the conversation went to a person
    handoff_reason: str = ""
    raw: list[Reply] = field(default_factory=list)  # every reply the model gave, before the pipeline's checks
    error: str = ""

    @property
    def sarah_texts(self) -> list[str]:
        return [line.text for line in self.lines if line.speaker == "sarah"]


class RecordingModel:
    """The model under test, with every reply kept for scoring."""

    def __init__(self, model: Model) -> None:
        self._model = model
        self.name = getattr(model, "name", "model")
        self.replies: list[Reply] = []

    async def reply(self, conversation: Conversation) -> Reply:
        reply = await self._model.reply(conversation)
        self.replies.append(reply)
        return reply


class RecordingOutbox(OffSlackOutbox):
    """What the customer sees in their thread; a hand-off card is noted, not posted."""

    def __init__(self) -> None:
        self.said: list[str] = []
        self.cards: list[Card] = []
        self._ids = itertools.count(1)

    async def send(
        self,
        thread: ThreadRef,
        text: str,
        *,
        replace: str | None = None,
        feedback: bool = False,
        tag: str = "",
        parts: Any = (),
        on_part: PartsRecorder | None = None,
    ) -> str | None:
        self.said.append(text)
        return f"{START:.0f}.{next(self._ids):06d}"

    async def post_card(self, card: Card) -> CardRef | None:
        self.cards.append(card)
        return None

    async def to_customer(self, thread: ThreadRef, agent: str, text: str) -> None:
        return None

    async def display_name(self, user: str) -> str:
        return user


class Clock:
    """Episode time: one second per step, so runs are repeatable and nothing waits."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def tick(self) -> float:
        self.now += 1.0
        return self.now


class EpisodeRunner:
    """Runs episodes against one model on one Redis (each episode in a thread of its own)."""

    def __init__(
        self,
        redis: Redis,
        model: Model,
        customer: Customer,
        *,
        texts: TextSettings | None = None,
        handoff_after_failures: int = 3,
        token_budget: int = 6_000,
    ) -> None:
        self._redis = redis
        self._model = model
        self._customer = customer
        self._texts = texts or TextSettings()
        self._failures = handoff_after_failures
        self._budget = token_budget
        self._count = itertools.count(1)
        self._prefix = uuid.uuid4().hex[:8].upper()  # runners may share one Redis: threads never meet
        self._encoder = encoder_for(getattr(model, "name", ""))

    async def run(self, scenario: Scenario) -> Episode:
        number = next(self._count)
        clock = Clock()
        model = RecordingModel(self._model)
        outbox = RecordingOutbox()
        store = ThreadStore(self._redis, ttl_seconds=86_400, max_turns=100, lease_seconds=60)
        ownership = OwnershipStore(self._redis, ttl_seconds=86_400, max_turns=100)
        handoff = Handoff(
            store,
            ownership,
            outbox,
            self._model,  # the hand-off summary for the agent is not an answer to the customer: not scored
            texts=HandoffTexts.from_settings(self._texts),
            reminder_seconds=3_600,
            clock=clock,
            max_reminders=0,
        )
        pipeline = Pipeline(
            store,
            ownership,
            handoff,
            model,
            outbox,
            encoder=self._encoder,
            token_budget=self._budget,
            texts=Texts.from_settings(self._texts, 4_000),
            policy=Policy(handoff_after_failures=self._failures),
            clock=clock,
        )
        thread = ThreadRef(f"D{self._prefix}{number:05d}", f"{clock.tick():.6f}")
        user = f"U{self._prefix}{number:05d}"
        episode = Episode(scenario)
        stage_index = 0
        messages = list(scenario.stages[0].say)
        attempt = 0
        stage_said: list[str] = []

        while True:
            episode.turns += 1
            for text in messages:
                episode.lines.append(Line("customer", text, stage_index))
            heard = len(outbox.said)
            token = f"lease-{number}-{episode.turns}"
            for text in messages:
                message = InboundMessage(thread, f"{clock.tick():.6f}", user, text, Kind.DM)
                await store.accept(message, "", token, clock.now)
            try:
                await pipeline.answer_pending(thread, lease=token)
            except Exception as error:  # an episode that breaks is a failed episode, not a crashed run
                episode.error = f"{type(error).__name__}: {error}"
                break
            handed = await ownership.owner(thread) in (Owner.WAITING, Owner.HUMAN)
            new = outbox.said[heard:]
            for text in new:
                speaker = "handoff" if handed and text == self._texts.text_handoff else "sarah"
                episode.lines.append(Line(speaker, text, stage_index))
            sarah = "\n\n".join(t for t in new if t != self._texts.text_handoff)
            stage_said.append(sarah)
            stage = scenario.stages[stage_index]
            if handed:
                episode.handed_off_at = stage_index
                episode.handoff_reason = (await store.state(thread)).handoff_reason
                if stage.expect == "handoff":
                    episode.reached = stage_index + 1
                break
            if stage_done(stage, stage_said, sarah):
                episode.reached = stage_index + 1
                if stage_index + 1 == len(scenario.stages):
                    closing = THANKS if stage.expect == "answer" else DECLINE_ACCEPTED
                    episode.lines.append(Line("customer", closing, stage_index))
                    break
                stage_index += 1
                attempt, stage_said = 0, []
                messages = list(scenario.stages[stage_index].say)
            else:
                if episode.turns >= scenario.max_turns:
                    break
                messages = [await self._customer.follow_up(scenario, stage, attempt, sarah)]
                attempt += 1
            if episode.turns >= scenario.max_turns:
                break
        episode.raw = list(model.replies)
        return episode


def stage_done(stage: Stage, said: list[str], last: str) -> bool:
    """Whether Sarah has done what the stage needs: every fact stated (over the stage's answers), or a
    clean refusal. A hand-off stage is done only by the hand-off itself (seen by the runner)."""
    if stage.expect == "answer":
        return bool(last) and not stage.missing("\n\n".join(said))
    if stage.expect == "decline":
        return bool(last) and classify(last) is Refusal.REFUSAL
    return False
