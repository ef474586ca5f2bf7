"""The simulated customer: what they say next, given what Sarah just said.

`ScriptedCustomer` is deterministic and needs no network: it says the scenario's lines, and when Sarah
has not done what the stage needs it follows up (the scenario's own follow-ups first), grows
frustrated, insists when Sarah should have handed over or declined, and asks again when she refused a
ZenNest question. `LLMCustomer` has any OpenAI-compatible model write those follow-ups in the
customer's voice, from the scenario's goal and Sarah's last answer; if its call fails, the scripted
line is used and counted. Whether a stage is done is never the customer's opinion: the runner judges
it by the scenario's rules, so an LLM customer cannot make an episode pass.
"""

from __future__ import annotations

import logging
import re
from typing import Protocol

from handlers.model import Conversation, Model, Outcome, Turn
from training.episodes.refusals import Refusal, classify
from training.episodes.scenarios import Scenario, Stage

log = logging.getLogger(__name__)

THANKS = "That worked, thanks!"
DECLINE_ACCEPTED = "Ok, fair enough."
_FRUSTRATED = (
    "That's not what I asked. {again}",
    "This is getting frustrating. {again}",
    "You're not listening. {again}",
)
_ANSWER_AFTER_REFUSAL = "It's about my ZenNest stuff though. {again}"
_PUSH_HANDOFF = (
    "Can you sort this out for me, then?",
    "I still need this actually done, not just explained.",
    "This is going nowhere.",
)
ACCEPT_PERSON = "Yes please, put me through to a person."
# Sarah offers a person ("say *human*", "shall I pass you to the team?"): a customer who needs one accepts.
_OFFERS_PERSON = re.compile(
    r"\bsay \*?human\b|\b(?:pass|hand|transfer|connect|put) (?:you|this|the (?:chat|conversation))\b.{0,30}"
    r"\b(?:team|person|people|someone|staff|agent)|"
    r"\b(?:talk|speak) (?:to|with) (?:a person|someone|our (?:support )?team)",
    re.IGNORECASE,
)
_PUSH_DECLINE = ("Come on, just this once?", "Please, it's really important to me.")


class Customer(Protocol):
    async def follow_up(self, scenario: Scenario, stage: Stage, attempt: int, sarah: str) -> str:
        """The customer's next message when `stage` is not done after Sarah said `sarah`
        (`attempt` counts the follow-ups in this stage so far, from 0)."""
        ...


class ScriptedCustomer:
    """Deterministic: the same scenario and the same answers give the same conversation."""

    name = "scripted"

    async def follow_up(self, scenario: Scenario, stage: Stage, attempt: int, sarah: str) -> str:
        return scripted_follow_up(stage, attempt, sarah)


def scripted_follow_up(stage: Stage, attempt: int, sarah: str) -> str:
    if stage.expect == "handoff" and stage.why != "repeated_failure" and _OFFERS_PERSON.search(sarah):
        return ACCEPT_PERSON
    if attempt < len(stage.follow_ups):
        return stage.follow_ups[attempt]
    extra = attempt - len(stage.follow_ups)
    again = stage.say[0]
    if stage.expect == "handoff":
        return _PUSH_HANDOFF[min(extra, len(_PUSH_HANDOFF) - 1)]
    if stage.expect == "decline":
        return _PUSH_DECLINE[min(extra, len(_PUSH_DECLINE) - 1)]
    if sarah and classify(sarah) is not Refusal.ANSWER and extra == 0:
        return _ANSWER_AFTER_REFUSAL.format(again=again)
    return _FRUSTRATED[min(extra, len(_FRUSTRATED) - 1)].format(again=again)


SIMULATOR_PROMPT = (
    "You play a customer of ZenNest (a smart-home company) chatting with its support assistant. Stay in "
    "character: write only the customer's next message, one to three short sentences, casual, no "
    "greeting. Your goal: {goal}. What you said to open this part: {opening}. {situation} Never invent "
    "new problems and never say the problem is solved."
)
_SITUATION = {
    "answer": "The assistant's answer did not give you what you need yet: say what is missing or that it did "
    "not help, and ask again.",
    "handoff": "You need a person at ZenNest to do this for you; the assistant has not passed you on yet. "
    "Insist that it gets done.",
    "decline": "You want the assistant to help with this anyway; insist a little.",
}


class LLMCustomer:
    """Follow-ups written by a language model (`model`: any OpenAI-compatible one, its own key and URL)."""

    name = "llm"

    def __init__(self, model: Model) -> None:
        self._model = model
        self.fallbacks = 0  # follow-ups the model could not write (the scripted line was used)

    async def follow_up(self, scenario: Scenario, stage: Stage, attempt: int, sarah: str) -> str:
        system = SIMULATOR_PROMPT.format(
            goal=scenario.goal, opening=" ".join(stage.say), situation=_SITUATION[stage.expect]
        )
        conversation = Conversation(system=system, turns=(Turn("user", f"The assistant said: {sarah or '(nothing)'}"),))
        try:
            reply = await self._model.reply(conversation)
        except Exception as error:  # the episode goes on with the scripted line
            log.warning("the simulated customer's model failed: %s", type(error).__name__)
            reply = None
        text = reply.text.strip() if reply is not None and reply.outcome is Outcome.ANSWERED else ""
        if not text:
            self.fallbacks += 1
            return scripted_follow_up(stage, attempt, sarah)
        return text[:600]
