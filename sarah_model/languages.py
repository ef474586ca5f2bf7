"""Which language a customer wrote in, told apart by common words: no model, no download.

The offline model answers from an English knowledge base, so a question in Spanish would otherwise meet
an off-topic decline or a hand-off counted as a failure. Function words ("el", "der", "het", "não") are
frequent and distinctive enough that two or three of them name the language of a one-line message; a
message mostly in another script (Cyrillic, Greek, Arabic, CJK…) is "not English" without a name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

OTHER = "other"  # written in a script we do not read; answered in English


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS: Mapping[str, frozenset[str]] = {
    "en": _words(
        "the a an is are was my i you it to of and in on for with how what do does not can this that your me "
        "have has be why when where which should would could there please it's i'm don't doesn't won't"
    ),
    "es": _words(
        "el los las del por para con una está esta cómo como qué que puedo tengo mi mis funciona hola gracias "
        "es y en se lo al muy pero cuando porque dónde donde cuál quiero necesito ayuda usted mío también hay "
        "sí ya le su sus desde hasta hablas habla hablan español inglés"
    ),
    "fr": _words(
        "le la les des est une pour avec pas mon ma mes je ne comment quoi qui sur dans il elle nous vous "
        "fonctionne ça bonjour merci et un du au aux ce cette mais où quand pourquoi peux veux j'ai c'est "
        "n'est marche plus parlez parles français anglais"
    ),
    "de": _words(
        "der die das und ist nicht ich mein meine ein eine mit wie was funktioniert auf für zu es sie kann "
        "hallo danke mir mich den dem des bei wenn warum wo habe geht keine kein noch schon auch sprechen sprichst "
        "deutsch englisch"
    ),
    "pt": _words(
        "o os as que de não um uma com meu minha para por como está é funciona você eu posso olá obrigado "
        "obrigada e em do da dos das no na mas quando onde porque tenho preciso ajuda também isso fala falas "
        "português inglês"
    ),
    "it": _words(
        "il lo gli che di non un una con mio mia per come è sono funziona posso ciao grazie e in del della "
        "nel nella ma quando dove perché ho ho bisogno aiuto anche questo questa si parli parla italiano inglese"
    ),
    "nl": _words(
        "de het een en is niet ik mijn met hoe wat werkt voor op van dat kan hallo dank bedankt je jij u "
        "maar wanneer waar waarom heb geen nog ook deze die er spreekt spreek nederlands engels"
    ),
}
_LETTERS = {  # letters that belong to one language more than the others
    "es": "ñ¿¡",
    "fr": "çèêëœ",
    "de": "ßäöü",
    "pt": "ãõ",
    "it": "ì",
    "nl": "",
}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_ANY_LETTER = re.compile(r"[^\W\d_]")
MIN_HITS = 2  # one shared word ("de", "no", "a") never names a language on its own


def detect(text: str) -> str | None:
    """'es', 'fr', 'de', 'pt', 'it' or 'nl'; OTHER for another script; None for English (or too little to tell)."""
    letters = _ANY_LETTER.findall(text)
    if len(letters) >= 4 and len(_LATIN.findall(text)) * 2 < len(letters):
        return OTHER
    tokens = [t.lower() for t in _WORD.findall(text)]
    if not tokens:
        return None
    english = sum(t in _STOPWORDS["en"] for t in tokens)
    if english * 2 >= len(tokens):
        return None  # half the words are English function words: English, however foreign the rest
    lowered = text.lower()
    best, best_score = None, 0.0
    for language, stopwords in _STOPWORDS.items():
        if language == "en":
            continue
        hits = sum(t in stopwords for t in tokens)
        if hits < MIN_HITS:
            continue
        score = hits + 1.5 * sum(lowered.count(ch) for ch in _LETTERS[language])
        if score > best_score:
            best, best_score = language, score
    if best is None or best_score <= english or best_score < 0.3 * len(tokens):
        return None
    return best


ENGLISH_ONLY = (
    "I'm Sarah, ZenNest's support assistant, and I answer in English. You can write to me in English, "
    "or I can connect you with a person from the ZenNest support team: would you like that?"
)
_IN_THEIR_LANGUAGE: Mapping[str, str] = {
    "es": "Lo siento, respondo en inglés. Puede escribirme en inglés, o puedo pasar su consulta a una persona "
    "del equipo de soporte de ZenNest: responda «sí» si lo desea.",
    "fr": "Désolée, je réponds en anglais. Vous pouvez m'écrire en anglais, ou je peux transmettre votre demande "
    "à une personne de l'équipe d'assistance ZenNest : répondez « oui » si vous le souhaitez.",
    "de": "Entschuldigung, ich antworte auf Englisch. Sie können mir auf Englisch schreiben, oder ich gebe Ihre "
    "Anfrage an eine Person aus dem ZenNest-Supportteam weiter: Antworten Sie einfach mit „ja“.",
    "pt": "Desculpe, eu respondo em inglês. Você pode me escrever em inglês, ou posso passar o seu pedido para uma "
    "pessoa da equipe de suporte da ZenNest: responda «sim» se quiser.",
    "it": "Mi dispiace, rispondo in inglese. Può scrivermi in inglese, oppure posso passare la sua richiesta a una "
    "persona del team di assistenza ZenNest: risponda «sì» se lo desidera.",
    "nl": "Sorry, ik antwoord in het Engels. U kunt mij in het Engels schrijven, of ik kan uw vraag doorgeven aan "
    "een medewerker van het ZenNest-supportteam: antwoord gewoon met „ja”.",
}


def answers_in_english(language: str) -> str:
    """The honest line: in the customer's language when we know it, then in English (the offer ends it)."""
    native = _IN_THEIR_LANGUAGE.get(language)
    return f"{native}\n\n{ENGLISH_ONLY}" if native else ENGLISH_ONLY
