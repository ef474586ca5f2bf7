"""Offline Sarah holds a conversation: the topic carries over, meta questions and greetings get answers,
device problems without a product name are understood, other languages get an honest line, and an answer
is the part of a passage that answers. Every question here is a fresh paraphrase, not one from the data.
"""

from __future__ import annotations

import pytest

from handlers.model import Conversation, Outcome, Reply, Turn
from handlers.prompt import SYSTEM_PROMPT
from sarah_model.knowledge import load_knowledge_base
from sarah_model.offline import OfflineModel
from training.scoring import is_refusal


@pytest.fixture(scope="module")
def sarah() -> OfflineModel:
    return OfflineModel.from_knowledge_base()


async def chat(model: OfflineModel, *customer: str) -> list[Reply]:
    """The customer's lines in one thread, each answered by Sarah before the next (as in Slack)."""
    turns: list[Turn] = []
    replies: list[Reply] = []
    for line in customer:
        turns.append(Turn("user", line))
        reply = await model.reply(Conversation(SYSTEM_PROMPT, tuple(turns)))
        replies.append(reply)
        turns.append(Turn("assistant", reply.text))
    return replies


def title_line(reply: Reply) -> str:
    """The first line of an answer: the passage's title, e.g. '**Batteries** (Locks)'."""
    return reply.text.splitlines()[0]


def not_a_failure(reply: Reply) -> bool:
    """The pipeline counts a hand-off or an unavailable model as a failure; a decline is no answer either."""
    return reply.outcome is Outcome.ANSWERED and not is_refusal(reply.text)


@pytest.mark.parametrize(
    ("first", "follow_up", "area"),
    [
        ("My ZenSense sends alerts when nobody's home", "it's the one upstairs, what next?", "Motion Sensors"),
        ("The outdoor ZenCam keeps going offline", "how do I reset it?", "Cameras"),
        ("My ZenGlow bulb in the porch stopped responding", "I switched it off and on, what else?", "Lights"),
        ("My ZenTherm shows E9", "how far away from the hub can it be?", "Thermostat"),
        ("The ZenLock on the back door says motor jammed", "and if the batteries are the problem?", "Locks"),
    ],
)  # fmt: skip
async def test_a_follow_up_that_does_not_name_the_device_is_answered_about_the_same_device(
    sarah: OfflineModel, first: str, follow_up: str, area: str
) -> None:
    _, answer = await chat(sarah, first, follow_up)  # the opening may be a trained answer, without a title
    assert not_a_failure(answer), answer.text
    assert f"({area})" in title_line(answer) or title_line(answer) == f"**{area}**", answer.text


async def test_what_next_moves_on_instead_of_repeating_the_same_lines(sarah: OfflineModel) -> None:
    opening, answer = await chat(sarah, "My ZenLock battery is at 15%", "ok, what next?")
    said = {line for line in opening.text.splitlines()[1:-1] if line.strip()}
    assert said and not said & set(answer.text.splitlines()[1:-1]), answer.text


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is ZenNest?", "smart-home company"),
        ("tell me about zennest please", "smart-home company"),
        ("what do you guys sell?", "$129"),
        ("Which products does ZenNest offer?", "ZenGlow Strip"),
        ("Do you speak Spanish?", "English"),
        ("are you open on sundays", "08:00 to 20:00"),
        ("How can I contact ZenNest?", "ZenNest support team"),
        ("I'm new to all this, where do I start?", "ZenHub"),
        ("What's the cheapest plan?", "Zen Free"),
        ("what plans do you have", "$4.99"),
    ],
)
async def test_meta_questions_get_a_real_answer_never_a_decline_or_a_failure(
    sarah: OfflineModel, question: str, expected: str
) -> None:
    reply = await sarah.reply(Conversation(SYSTEM_PROMPT, (Turn("user", question),)))
    assert not_a_failure(reply), reply.text
    assert expected in reply.text


@pytest.mark.parametrize(
    ("greeting", "expected"),
    [
        ("Hi there, I've got a question about my camera", "Factory reset"),
        ("hello! quick question regarding my thermostat", "Error codes"),
        ("Hey Sarah, I need some help with billing", "Payment failed"),
        ("Good morning, I have a problem", "What can I help you with"),
    ],
)
async def test_a_greeting_that_names_a_topic_gets_a_clarifying_question(
    sarah: OfflineModel, greeting: str, expected: str
) -> None:
    reply = await sarah.reply(Conversation(SYSTEM_PROMPT, (Turn("user", greeting),)))
    assert not_a_failure(reply), reply.text
    assert "?" in reply.text and expected in reply.text, reply.text


@pytest.mark.parametrize(
    ("problem", "area"),
    [
        ("the light in my hallway won't turn on", "Lights"),
        ("my door won't lock", "Locks"),
        ("The heating won't come on this morning", "Thermostat"),
    ],
)
async def test_a_device_problem_without_the_product_name_is_understood(
    sarah: OfflineModel, problem: str, area: str
) -> None:
    reply = await sarah.reply(Conversation(SYSTEM_PROMPT, (Turn("user", problem),)))
    assert not_a_failure(reply), reply.text
    assert f"({area})" in title_line(reply), reply.text
    assert "1." in reply.text  # the steps to follow


@pytest.mark.parametrize(
    ("message", "in_their_language"),
    [
        ("¿Cómo puedo conectar mi cámara al wifi de casa?", "respondo en inglés"),
        ("Bonjour, mon thermostat ne chauffe plus depuis hier", "je réponds en anglais"),
        ("Guten Tag, meine Kamera ist offline, was soll ich tun?", "ich antworte auf Englisch"),
        ("Oi, a minha fechadura não tranca mais", "eu respondo em inglês"),
        ("Buongiorno, la lampadina in cucina non si accende", "rispondo in inglese"),
        ("Goedemorgen, mijn camera werkt niet meer", "ik antwoord in het Engels"),
        ("Здравствуйте, камера не работает", "I answer in English"),
        ("¿Hablas español?", "respondo en inglés"),
        ("Parlez-vous français ?", "je réponds en anglais"),
    ],
)
async def test_another_language_gets_an_honest_line_and_the_offer_of_a_person(
    sarah: OfflineModel, message: str, in_their_language: str
) -> None:
    first, yes = await chat(sarah, message, "sí" if "¿" in message else "yes")
    assert not_a_failure(first), first.text
    assert in_their_language in first.text
    assert "I answer in English" in first.text and "a person from the ZenNest support team" in first.text
    assert (yes.outcome, yes.reason) == (Outcome.HANDOFF, "customer_asked")


async def test_an_english_question_with_a_foreign_word_is_still_answered_in_english(sarah: OfflineModel) -> None:
    reply = await sarah.reply(Conversation(SYSTEM_PROMPT, (Turn("user", "How do I set up a ZenLock for my casa?"),)))
    assert "I answer in English" not in reply.text


async def test_an_answer_is_the_lines_that_answer_led_by_the_passage_title(sarah: OfflineModel) -> None:
    passages = {p.id: p for p in load_knowledge_base()}
    reply = await sarah.reply(Conversation(SYSTEM_PROMPT, (Turn("user", "How long do ZenLock batteries last?"),)))
    assert title_line(reply) == "**Batteries** (Locks)"
    assert "12 months" in reply.text
    assert len(reply.text) < len(passages["locks/batteries"].text)  # not the whole section
    assert reply.text.count("**(") == 0 and reply.text.count(") \n") == 0

    reply = await sarah.reply(Conversation(SYSTEM_PROMPT, (Turn("user", "What does the ZenCam Indoor cost?"),)))
    assert "$69" in reply.text and "Zen Pro" not in reply.text


async def test_steps_come_whole_and_in_order(sarah: OfflineModel) -> None:
    reply = await sarah.reply(Conversation(SYSTEM_PROMPT, (Turn("user", "how do I install the thermostat"),)))
    assert title_line(reply) == "**Installation** (Thermostat)"
    steps = [line for line in reply.text.splitlines() if line[:2].rstrip(".").isdigit()]
    assert [s.split(".")[0] for s in steps] == [str(n) for n in range(1, 8)]


async def test_steps_another_answer_already_gave_in_other_words_are_not_repeated(sarah: OfflineModel) -> None:
    turns = (
        Turn("user", "How do I add my new ZenGlow bulb?"),
        Turn(
            "assistant",
            "Make sure the ZenHub LED is solid green, screw in the bulb and switch it on at the wall, then in the "
            "app tap + > ZenGlow and tap Search. The light blinks twice when it is added.",
        ),
        Turn("user", "the app can't see the bulb at all, what now?"),
    )
    reply = await sarah.reply(Conversation(SYSTEM_PROMPT, turns))
    assert not_a_failure(reply), reply.text
    assert "If the app cannot find the light" in reply.text
    assert "Screw in the bulb" not in reply.text


async def test_a_complaint_without_a_topic_gets_an_apology_and_the_offer_of_a_person(sarah: OfflineModel) -> None:
    complaint, yes = await chat(sarah, "this bot is useless, I've asked three times already", "yes please")
    assert not_a_failure(complaint), complaint.text
    assert "sorry" in complaint.text.lower() and "a person from the ZenNest support team" in complaint.text
    assert (yes.outcome, yes.reason) == (Outcome.HANDOFF, "customer_asked")


async def test_a_fault_that_comes_back_after_the_documented_fix_is_handed_off(sarah: OfflineModel) -> None:
    _, again = await chat(sarah, "My ZenTherm display says E5", "restarted it and E5 came back")
    assert (again.outcome, again.reason) == (Outcome.HANDOFF, "steps_failed")


async def test_a_charge_after_cancelling_needs_the_billing_staff(sarah: OfflineModel) -> None:
    reply = await sarah.reply(Conversation(SYSTEM_PROMPT, (Turn("user", "you billed me after I cancelled Zen Plus"),)))
    assert (reply.outcome, reply.reason) == (Outcome.HANDOFF, "needs_staff_access")


async def test_the_home_alarm_is_ours_a_car_alarm_is_not(sarah: OfflineModel) -> None:
    ours = await sarah.reply(Conversation(SYSTEM_PROMPT, (Turn("user", "how do I stop the alarm from the app?"),)))
    assert not_a_failure(ours) and "Acknowledge" in ours.text, ours.text
    theirs = await sarah.reply(Conversation(SYSTEM_PROMPT, (Turn("user", "My car alarm keeps going off at night"),)))
    assert is_refusal(theirs.text), theirs.text


async def test_a_yes_or_no_question_gets_the_one_line_that_answers_it(sarah: OfflineModel) -> None:
    reply = await sarah.reply(Conversation(SYSTEM_PROMPT, (Turn("user", "Can I put a ZenGlow bulb on a dimmer?"),)))
    body = reply.text.split("\n\n")[0].splitlines()[1:]
    assert len(body) == 1 and "dimmer" in body[0], reply.text


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What Wi-Fi band do the cameras need?", "2.4 GHz"),
        ("how many access codes fit on one lock", "50"),
        ("What battery goes in the motion sensor?", "CR123A"),
        ("How long does a ZenSense battery last?", "2 years"),
        ("What's the max length of the light strip?", "10 m"),
        ("For how long is the password reset link valid?", "60 minutes"),
        ("How long does Support Access last?", "72 hours"),
        ("What's the default ZenFence radius?", "300 m"),
        ("how long does the hub battery last in a power cut", "4 hours"),
        ("What size microSD card can I put in the camera?", "256 GB"),
        ("How long is the exit delay in Away Mode?", "60-second"),
        ("how many homes can one account manage", "5 homes"),
    ],
)
async def test_a_fact_question_gets_the_fact_in_a_few_lines(sarah: OfflineModel, question: str, answer: str) -> None:
    reply = await sarah.reply(Conversation(SYSTEM_PROMPT, (Turn("user", question),)))
    assert not_a_failure(reply), reply.text
    assert answer in reply.text
    assert len(reply.text.split("\n\n")[0].splitlines()) <= 5, reply.text  # the title and a few lines
