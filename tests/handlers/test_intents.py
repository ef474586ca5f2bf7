"""Requests for a person and "that didn't work" are caught in code, without false alarms."""

from __future__ import annotations

import pytest

from handlers.intents import says_it_did_not_work, wants_human


@pytest.mark.parametrize(
    "text",
    [
        "human",
        "Agent!",
        "real person please",
        "can I talk to someone?",
        "I want to speak to a human",
        "let me speak with support",
        "connect me to an agent",
        "/sarah human",
        "I need a representative",
        "this is useless, get me a real person",
        "Can I chat with a live agent",
        "human please",
    ],
)
def test_explicit_requests_for_a_person(text: str) -> None:
    assert wants_human(text)


@pytest.mark.parametrize(
    "text",
    [
        # a call back or someone on the phone
        "Could a real agent give me a call back?",
        "can somebody ring me back this afternoon",
        "I'd like a callback please",
        "Is there someone I can get on the phone?",
        "what's your support phone number",
        "have a person phone me",
        # speak / talk to someone, in other words
        "Can I speak to someone about this?",
        "I'd like to talk to a human being",
        "Is there anyone I can talk to?",
        "are there any real people working there?",
        "Put me in touch with somebody from your team",
        "how do I contact customer service",
        "transfer me please",
        # representative, manager, escalation
        "representative",
        "Let me speak with a representative",
        "I want your manager",
        "let me talk to the supervisor",
        "Please escalate this.",
        "I want this escalated",
        "no more bots please",
        "You're no help, I need someone who knows what they're doing",
        # in other languages
        "Quiero hablar con un agente",
        "Je veux parler à un conseiller",
        "Kann ich mit einem Menschen sprechen?",
        "Quero falar com um atendente",
        "Posso parlare con un operatore?",
        "Ik wil spreken met een medewerker",
    ],
)
def test_common_ways_of_asking_for_a_person(text: str) -> None:
    assert wants_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "my ZenCam keeps saying human detected at night",
        "is the agent app the same as the ZenNest app?",
        "How many people can share my ZenNest home?",
        "the person detection zone is too small",
        "my thermostat shows E4",
        "",
    ],
)
def test_not_requests_for_a_person(text: str) -> None:
    assert not wants_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "my human-presence sensor keeps firing in the hallway",
        "is there a person detection setting on the ZenCam?",
        "Does a real person ever watch my clips?",
        "Will Guardian mode call someone when the siren goes off?",
        "My property manager needs a code for the front door",
        "How do I add a person to my home?",
        "Can my cleaner get a Guest Pass?",
        "Do my emergency contacts get a phone call?",
        "Can I give the hub a different name?",
        "does the Admin role work like a manager role?",
    ],
)
def test_people_phones_and_managers_in_a_question_are_not_requests(text: str) -> None:
    assert not wants_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "that didn't work",
        "It still doesn't work",
        "tried that, still red",
        "no luck",
        "same problem as before",
        "did not help at all",
        "I tried everything but nothing changed",
        "it's still offline",
    ],
)
def test_reports_that_a_suggestion_failed(text: str) -> None:
    assert says_it_did_not_work(text)


@pytest.mark.parametrize("text", ["thanks, that worked!", "how do I pair a lock?", "it works now"])
def test_not_reports_of_failure(text: str) -> None:
    assert not says_it_did_not_work(text)


@pytest.mark.parametrize(
    "text",
    [
        "Can I talk to a human about the human detection on my camera?",
        "I want to SPEAK TO a person about person alerts",
    ],
)
def test_asking_to_talk_to_a_person_about_people_detection_is_still_a_request(text: str) -> None:
    assert wants_human(text)


STEPS_ANSWER = "1. Unplug the hub for 10 seconds.\n\nIf that doesn't sort it out, tell me what you see now."
ANYTHING_ELSE = "The ZenHub costs $129.\n\nAnything else about your ZenNest home I can help with?"


@pytest.mark.parametrize("text", ["nope, nothing", "No, nothing.", "nothing happened", "nah nothing at all", "Nothing"])
def test_nothing_after_steps_is_a_report_that_they_failed(text: str) -> None:
    assert says_it_did_not_work(text, previous_answer=STEPS_ANSWER)


@pytest.mark.parametrize("text", ["nope, nothing", "no, nothing else, thanks", "nothing"])
def test_nothing_after_anything_else_is_not_a_failure(text: str) -> None:
    assert not says_it_did_not_work(text, previous_answer=ANYTHING_ELSE)
    assert not says_it_did_not_work(text)  # with no answer to read, a bare "nothing" says too little
