"""Trivial models that run beside every evaluation: a score they do well on measures wording, not help.

- always hand off: every message goes to a person;
- always decline: every message gets a polite refusal;
- knowledge-base echo: every answer is the whole knowledge base, so every fact is "stated".

Each must score near zero on task success; the report shows them next to the models compared.
"""

from __future__ import annotations

from handlers.model import Conversation, Model, Outcome, Reply
from handlers.prompt import HandoffReason

DECLINE_TEXT = "I'm sorry, but I can only help with questions about ZenNest products and services."


class AlwaysHandoff:
    name = "always hand off"

    async def reply(self, conversation: Conversation) -> Reply:
        return Reply("", Outcome.HANDOFF, reason=HandoffReason.UNKNOWN_ANSWER, summary="The customer needs help.")


class AlwaysDecline:
    name = "always decline"

    async def reply(self, conversation: Conversation) -> Reply:
        return Reply(DECLINE_TEXT)


class KnowledgeEcho:
    name = "knowledge-base echo"

    def __init__(self, knowledge_base: str) -> None:
        self._text = knowledge_base

    async def reply(self, conversation: Conversation) -> Reply:
        return Reply(self._text)


def baselines(knowledge_base: str) -> list[Model]:
    return [AlwaysHandoff(), AlwaysDecline(), KnowledgeEcho(knowledge_base)]
