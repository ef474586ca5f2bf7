"""The one place where text from customers, agents and the model becomes Slack output.

Slack reads `<…>` as control syntax: `<!channel>` pings a whole channel, `<!subteam^S…>` a user
group, `<@U…>` a person, and `<https://evil.example|Open the admin console>` hides where a link
goes. Slack parses those tokens in mrkdwn `text`, in section fields and inside `markdown` blocks
too (a markdown block also makes `[label](url)` and bare URLs live). So nothing anyone else wrote
reaches Slack as is: it is first read into pieces (text, mentions, links, code), then written out
for one target:

- `mrkdwn`: `&`, `<`, `>` escaped; mentions shown as inert text (`@⁠channel`, with a word joiner
  after the `@`); links as plain text, the address in code so it is visible and not clickable.
- `markdown` (a model answer in a `markdown` block): the same, keeping the model's Markdown; a link
  is live only when its host is one of LINK_ALLOWED_DOMAINS (or a subdomain), otherwise its label
  and its address are shown as text.
- rich_text elements (card transcripts): literal text, with links as code.

Text from Slack (customers, agents) arrives Slack-encoded (`&lt;` for a typed `<`, real mentions as
`<@U…>`); model text is plain Markdown. Both end up as the same pieces, so escaping happens once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

WORD_JOINER = "\u2060"  # invisible; keeps `@channel` from ever reading as a mention

_TOKEN = re.compile(r"<([^<>\n]{1,2000})>")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>`|\[\]()\"']+", re.IGNORECASE)
_MD_LINK = re.compile(r"!?\[([^\]\n]{0,500})\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"\n]*\")?\s*\)")
_MD_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.DOTALL)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]{1,20}:", re.IGNORECASE)
# U, or W on Enterprise Grid, then capitals and digits: 9 to 11 characters today, and Slack warns that
# ids grow, so up to 21 are taken; anything longer, or with any other character, is not an id.
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True, slots=True)
class Text:
    value: str


@dataclass(frozen=True, slots=True)
class Mention:
    """`@channel`, `@here`, a user group, a person or a channel, shown but never live."""

    shown: str


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class Code:
    """A Markdown code span or fence the model wrote (kept as code; nothing in it is linked)."""

    value: str


Piece = Text | Mention | Link | Code


# -- reading -------------------------------------------------------------------------------------------


def from_slack(text: str) -> list[Piece]:
    """Pieces of a Slack-encoded message (an event's `text`): tokens read, entities decoded."""
    pieces: list[Piece] = []
    for chunk, token in _split(_TOKEN, text):
        if token is None:
            pieces.extend(_urls(_unescape(chunk)))
        else:
            pieces.append(_read_token(token.group(1), decode=True))
    return _merge(pieces)


def from_model(text: str) -> list[Piece]:
    """Pieces of a model answer (Markdown): code kept apart, Slack tokens and Markdown links read."""
    pieces: list[Piece] = []
    for chunk, code in _split(_MD_CODE, text):
        if code is not None:
            pieces.append(Code(code.group(0)))
            continue
        for part, token in _split(_TOKEN, chunk):
            if token is not None:
                pieces.append(_read_token(token.group(1), decode=False))
                continue
            for plain, link in _split(_MD_LINK, part):
                if link is not None:
                    pieces.append(Link(link.group(2), link.group(1)))
                else:
                    pieces.extend(_urls(plain))
    return _merge(pieces)


def _read_token(inner: str, *, decode: bool) -> Piece:
    target, _, label = inner.partition("|")
    label = _unescape(label) if decode else label
    if target.startswith("!"):
        name = target[1:]
        if name.startswith("subteam^"):
            return Mention("@" + (_label(label) or "user-group"))
        if name.startswith("date^"):
            return Text(label or "(a date)")
        return Mention("@" + (name.split("^")[0] or "channel"))
    if target.startswith("@"):
        return Mention("@" + (_label(label) or _label(target[1:])))
    if target.startswith("#"):
        return Mention("#" + (_label(label) or _label(target[1:])))
    if _SCHEME.match(target):
        return Link(_unescape(target) if decode else target, label)
    return Text("<" + (_unescape(inner) if decode else inner) + ">")


def _label(text: str) -> str:
    """A mention's label as a short plain name (nothing in it can be a link or markup)."""
    return re.sub(r"[^\w.\- ]", "", text)[:80].strip()


def _urls(text: str) -> list[Piece]:
    pieces: list[Piece] = []
    for plain, url in _split(_URL, text):
        if url is None:
            pieces.append(Text(plain))
            continue
        address = url.group(0)
        trail = len(address) - len(address.rstrip(".,;:!?"))
        pieces.append(Link(address[: len(address) - trail]))
        if trail:
            pieces.append(Text(address[-trail:]))
    return pieces


def _split(pattern: re.Pattern[str], text: str) -> Iterable[tuple[str, re.Match[str] | None]]:
    start = 0
    for match in pattern.finditer(text):
        if match.start() > start:
            yield text[start : match.start()], None
        yield "", match
        start = match.end()
    if start < len(text):
        yield text[start:], None


def _merge(pieces: list[Piece]) -> list[Piece]:
    merged: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, Text) and merged and isinstance(merged[-1], Text):
            merged[-1] = Text(merged[-1].value + piece.value)
        elif not (isinstance(piece, Text) and not piece.value):
            merged.append(piece)
    return merged


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# -- writing ---------------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """`&`, `<`, `>` as entities: what Slack asks for any text that is not meant as control syntax."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inert(shown: str) -> str:
    return shown[:1] + WORD_JOINER + shown[1:]


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


class LinkPolicy:
    """Which links may stay live in Sarah's own answers: https/http to an allowed domain, where the
    host a browser would open and the host a plain reading of the address names are the same one."""

    def __init__(self, allowed_domains: Iterable[str] = ()) -> None:
        self._domains = tuple(d.lower().strip(".") for d in allowed_domains if d.strip("."))

    def allows(self, url: str) -> bool:
        url = url if "://" in url else "https://" + url
        host = browser_host(url)
        if host is None or host != _plain_host(url):
            return False  # a backslash, userinfo, %-escapes or odd dots: readers could disagree
        return any(host == d or host.endswith("." + d) for d in self._domains)


_SPECIAL_SCHEME = re.compile(r"^[\x00-\x20]*(https?):(.*)$", re.IGNORECASE | re.DOTALL)
_FORBIDDEN_HOST = re.compile(r"[\x00-\x20\x7f #%/:<>?@\[\\\]^|]")


def browser_host(url: str) -> str | None:
    """The host a browser opens for an http(s) `url`, as the WHATWG URL standard reads it: tabs and
    newlines dropped, a backslash read as a slash, userinfo before the last `@` skipped, the host
    percent-decoded, mapped by IDNA (full-width and ideographic dots are dots) and lowercased, a
    trailing dot dropped. None for other schemes, IP literals and hosts a browser refuses."""
    match = _SPECIAL_SCHEME.match(re.sub(r"[\t\n\r]", "", url))
    if match is None:
        return None
    rest = match.group(2).replace("\\", "/").lstrip("/")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        return None
    host, colon, port = host.partition(":")
    if colon and port and not port.isdigit():
        return None
    try:
        decoded = unquote(host, errors="strict")
        ascii_host = decoded.encode("idna").decode("ascii").lower() if decoded else ""
    except (UnicodeError, ValueError):
        return None
    ascii_host = ascii_host.rstrip(".")
    if not ascii_host or _FORBIDDEN_HOST.search(ascii_host):
        return None
    return ascii_host


def _plain_host(url: str) -> str | None:
    """The host as Python's `urlsplit` reads `url`; None with userinfo or a scheme other than http(s)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("https", "http") or parts.username is not None or parts.password is not None:
        return None
    return (parts.hostname or "").lower().rstrip(".") or None


NO_LINKS = LinkPolicy()


def mrkdwn(pieces: Iterable[Piece], links: LinkPolicy = NO_LINKS) -> str:
    """Slack mrkdwn (a message's `text`, section text, fields): nothing anyone wrote is live but
    links `links` allows."""
    out: list[str] = []
    for piece in pieces:
        if isinstance(piece, Text):
            out.append(escape(piece.value))
        elif isinstance(piece, Mention):
            out.append(escape(_inert(piece.shown)))
        elif isinstance(piece, Code):
            out.append(escape(piece.value))
        elif links.allows(piece.url) and "|" not in piece.url:
            out.append(f"<{escape(piece.url)}|{escape(_live_label(piece))}>")
        else:
            out.append(_plain_link(piece, lambda s: mrkdwn(_urls(s)), escape))
    return "".join(out)


_BLOCKQUOTE = re.compile(r"(?m)^([ \t]{0,3})&gt;")


def markdown(pieces: Iterable[Piece], links: LinkPolicy = NO_LINKS) -> str:
    """Standard Markdown for a `markdown` block, with the model's formatting kept (a line-start `>`
    stays a quote) and nothing live but allowed links."""
    out: list[str] = []
    for piece in pieces:
        if isinstance(piece, Text):
            out.append(escape(piece.value))
        elif isinstance(piece, Mention):
            out.append(escape(_inert(piece.shown)))
        elif isinstance(piece, Code):
            out.append(piece.value.replace("<", "&lt;").replace(">", "&gt;"))
        elif links.allows(piece.url):
            label = _md_label(_live_label(piece))
            out.append(f"[{label}]({piece.url.replace(')', '%29').replace('(', '%28')})")
        else:
            out.append(_plain_link(piece, lambda s: markdown(_urls(s)).replace("[", "(").replace("]", ")")))
    return _BLOCKQUOTE.sub(r"\1>", "".join(out))


def _live_label(link: Link) -> str:
    """The label of an allowed link, unless it shows some other address (then the address itself)."""
    label = link.label.replace("|", "/").strip()
    return link.url if not label or (_URL.search(label) and label != link.url) else label


def _md_label(text: str) -> str:
    return escape(text).replace("[", "(").replace("]", ")")


def _plain_link(link: Link, render_label: Any, in_code: Any = lambda s: s) -> str:
    """`label (`address`)`: the address visible as code, so a label cannot hide where it points."""
    shown = _code(in_code(link.url.replace("<", "").replace(">", "")))
    label = link.label.strip()
    if not label or label == link.url:
        return shown
    return f"{render_label(label)} ({shown})"


def rich_text_elements(pieces: Iterable[Piece]) -> list[dict[str, Any]]:
    """Elements of a `rich_text_section` / `rich_text_quote`: literal text, links as code."""
    elements: list[dict[str, Any]] = []
    for piece in pieces:
        if isinstance(piece, Text | Code):
            elements.append({"type": "text", "text": piece.value})
        elif isinstance(piece, Mention):
            elements.append({"type": "text", "text": _inert(piece.shown)})
        else:
            if piece.label.strip() and piece.label.strip() != piece.url:
                elements.append({"type": "text", "text": piece.label.strip() + " ("})
                elements.append({"type": "text", "text": piece.url, "style": {"code": True}})
                elements.append({"type": "text", "text": ")"})
            else:
                elements.append({"type": "text", "text": piece.url, "style": {"code": True}})
    return [e for e in elements if e["text"]] or [{"type": "text", "text": " "}]


# -- what callers use ------------------------------------------------------------------------------------


def people_mrkdwn(slack_text: str) -> str:
    """A customer's or agent's Slack message, for mrkdwn: their formatting kept, nothing live."""
    return mrkdwn(from_slack(slack_text))


def plain_mrkdwn(text: str) -> str:
    """Plain text (a display name) for mrkdwn: escaped, any address in it shown as code."""
    return mrkdwn(_urls(text))


def model_markdown(text: str, links: LinkPolicy) -> str:
    """A model answer (or one of Sarah's texts) for a `markdown` block."""
    return markdown(from_model(text), links)


def model_fallback(text: str, limit: int) -> str:
    """The `text` beside a model answer's blocks (notifications, screen readers): escaped, no links
    live, cut to `limit` characters without breaking an entity."""
    rendered = mrkdwn(from_model(text))
    if len(rendered) <= limit:
        return rendered
    cut = rendered[: limit - 1]
    amp = cut.rfind("&")
    if amp > cut.rfind(";"):
        cut = cut[:amp]
    return cut + "…"


def sarah_mrkdwn(text: str) -> str:
    """One of Sarah's own texts (a setting, a notice) for mrkdwn: its formatting kept, nothing live."""
    return mrkdwn(from_model(text))


def sarah_note(text: str) -> str:
    """One of Sarah's own notices (plain text) for mrkdwn, in italics: escaped, addresses as code."""
    return "\n".join(f"_{line.strip()}_" if line.strip() else "" for line in plain_mrkdwn(text).splitlines())


def plain_name(name: str, limit: int = 80) -> str:
    """A display name as one short line of plain text (escape it where it is rendered)."""
    flat = " ".join(_CONTROL.sub(" ", name).split())
    return flat[:limit] or "someone"


def is_user_id(value: str) -> bool:
    """Whether `value` is shaped like a Slack user id, the one test before an id goes into a mention."""
    return _USER_ID.fullmatch(value) is not None


def user_mention(user: str) -> str:
    """`<@U…>` for a real user id (from Slack's own fields), else a plain placeholder."""
    return f"<@{user}>" if is_user_id(user) else "an unknown user"


def usergroup_mention(group: str) -> str:
    """`<!subteam^S…>` for a user group id from the settings; never `@channel` or `@here`."""
    return f"<!subteam^{group}>" if re.fullmatch(r"S[A-Z0-9]{2,}", group) else ""
