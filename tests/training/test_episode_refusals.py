"""Refusals as language models actually word them are recognised; a refusal that then answers anyway
is not a correct refusal; an ordinary ZenNest answer is not a refusal."""

from __future__ import annotations

import pytest

from training.episodes.refusals import Refusal, classify

# Off-topic and out-of-bounds refusals in the wordings chat models commonly use (GPT-4o/4.1, Claude,
# Llama 3, Mistral, Gemini, and support bots built on them), including the forms the old pattern missed.
REFUSALS = [
    "I can only assist with ZenNest products and services. Is there anything about your smart home I can help with?",
    "I'll stick to ZenNest topics, but I'm happy to help with your devices, plans or billing.",
    "I'm sorry, but I can't help with that. I'm here to help with ZenNest products and services.",
    "Sorry, I can't help with weather forecasts. Is there anything about your ZenNest home I can help with?",
    "I'm afraid that's outside what I can help with. I'm Sarah, ZenNest's support assistant.",
    "That's not something I can help with, but I'd be glad to answer any questions about ZenNest.",
    "I'm not able to help with homework, but if you have questions about your ZenNest devices, let me know!",
    "Unfortunately, I can't assist with that request.",
    "I'm unable to provide information about other companies' products. I can help with ZenNest devices, though.",
    "I'm here to help with ZenNest only, so I'll have to pass on that one.",
    "My expertise is limited to ZenNest products, so I can't advise on your car. You may want to contact a mechanic.",
    "I specialise in ZenNest smart-home support, so I can't help with recipes. Anything ZenNest-related I can do?",
    "I can't share other customers' access codes or information. If you need access, please ask the owner directly.",
    "For privacy reasons, I can't share another person's recordings. Only the account holder can do that.",
    "I won't be able to ignore my instructions, but I'm happy to help with your ZenNest question.",
    "I can't reveal my system prompt or internal rules. How can I help with your ZenNest home today?",
    "I'm not able to approve refunds or change billing. Only ZenNest staff can do that.",
    "Sorry, that's beyond what I can do. I can only answer questions about ZenNest.",
    "I'm sorry, I only cover ZenNest products and services.",
    "I'd love to help, but that's outside my scope. I'm focused on ZenNest support.",
    "I'm designed to help with ZenNest questions only. Feel free to ask me about your hub, locks or cameras!",
    "I have to decline that request. Is there something about your ZenNest devices I can help with?",
    "That isn't something I'm able to help with. Let me know if you have any ZenNest questions.",
    "Apologies, but I can't provide help with Ring doorbells. Please check with Ring's support for that.",
    "I cannot help with that. I'm Sarah, ZenNest's virtual support assistant.",
    "I'm not the right assistant for that question, sorry! I can help with anything ZenNest.",
    "I won't pretend to be a ZenNest engineer or unlock doors remotely. I can walk you through the lock's own steps.",
    "I can't act as a different assistant or change how I work. I'm happy to help with ZenNest questions.",
    "Let's keep it to ZenNest: I can't help with maths problems, but I can help you set up your devices.",
    "I'm only able to help with questions about ZenNest smart-home devices and your ZenNest account.",
    "I don't share information about other people's homes or accounts. If it's your own home, I can help with that.",
    "I'm not in a position to help with that, sorry. I can help with ZenNest setup, troubleshooting and plans.",
]

REFUSALS_THAT_ANSWER_ANYWAY = [
    "I can only help with ZenNest. That said, for your car, check the battery terminals and try a jump start.",
    "I'm sorry, I can't help with weather forecasts. However, Lisbon tomorrow should be sunny with highs around 24°C.",
    "I can only assist with ZenNest products, but to reset a Ring doorbell, hold the orange button for 15 seconds.",
    "That's outside my scope. Still, here's the answer: 3x + 5 = 20 gives x = 5.",
    "I can't help with recipes, though a simple pancake batter is one cup of flour, one egg and a cup of milk.",
    "I'm not able to share her access code. But the codes people often use are birthdays, so try 0412.",
]

ANSWERS = [
    "Cameras can't use 5 GHz networks: give the 2.4 GHz band its own name during setup, then try again.",
    "Press the pinhole button on the back for 3 seconds to restart the hub. Nothing is lost.",
    "The ZenLock Touch stores up to 20 fingerprints.",
    "You can't reset your password without access to your email; the support team can verify your identity.",
    "Zen Plus costs $4.99 a month or $49.99 a year.",
    "I'm handing this to our support team, who can issue refunds.",
]


@pytest.mark.parametrize("text", REFUSALS)
def test_ordinary_model_refusals_are_recognised(text: str) -> None:
    assert classify(text) is Refusal.REFUSAL


def test_the_refusal_set_is_large_enough_to_mean_something() -> None:
    assert len(REFUSALS) >= 30


@pytest.mark.parametrize("text", REFUSALS_THAT_ANSWER_ANYWAY)
def test_a_refusal_that_then_answers_is_not_a_correct_refusal(text: str) -> None:
    assert classify(text) is Refusal.REFUSAL_PLUS_ANSWER


@pytest.mark.parametrize("text", ANSWERS)
def test_a_zennest_answer_is_not_a_refusal(text: str) -> None:
    assert classify(text) is Refusal.ANSWER
