"""The Lua scripts of handlers/store/lua/, read once, checked, and run alone or together.

Each script is a file `lua/<name>.lua` that starts with a header naming its keys and arguments:

    -- KEYS: state, queue
    -- ARGV: token, ts...           (a last name ending in "..." takes any number more, maybe none)
    local state = KEYS[1]
    local queue = KEYS[2]
    local token = ARGV[1]
    local ts = rest(ARGV, 2)        (needs `--- @include rest`)

Its body uses only those locals: `KEYS` and `ARGV` appear nowhere else, so no script reads a
position it was not given. The header is the one declaration of what a script takes; every call is
checked against it before anything is sent (`CallMismatch`), so a call that gives one argument too
many or too few fails at once, by name, instead of shifting every later argument.

Three directives put other files into a script where they stand:

    --- @include <fragment>            lua/include/<fragment>.lua, as it is (a shared helper)
    --- @function <script> as <name>   another script as a local function name(KEYS, ARGV)
    --- @piece <script> as <name>      the same, run with its own part of this script's KEYS and
                                       ARGV: they follow this script's own, in the order of the
                                       pieces, each shifted by the counts declared before it

Pieces let several scripts run as one (where their keys live on one server) with no offset written
anywhere: `name.key.<key>` and `name.arg.<arg>` read a piece's values by name, and
`run_piece(name)` runs it with them (see lua/include/piece.lua). `Script.with_pieces` builds the
call from the pieces' own calls.

Several scripts in one round trip: a script registered with redis-py (`Redis.register_script`) costs
one round trip when called alone. Sent in a pipeline, redis-py first asks SCRIPT EXISTS for every
script, on every execute: a round trip more, not less. `run_together` sends plain EVALSHAs in one
pipeline instead, and only when Redis answers NOSCRIPT (it was restarted or flushed its script
cache) runs those scripts again the ordinary way, which loads them. Every script sent together must
be safe to run again, and must not depend on another's reply (the ingress's XADD and its queueing in
the thread are both idempotent by message; the worker's `begin` checks the lease its `accept` took).

redis-py refuses scripts in a Redis Cluster pipeline: there the calls are sent side by side instead
(one round trip of waiting, a request each).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError, ResponseError

_HEADER = re.compile(r"^-- (KEYS|ARGV): (.+)$", re.M)
_DECLARED = re.compile(r"^local (\w+) = (KEYS|ARGV)\[(\d+)\]\s*$", re.M)
_REST = re.compile(r"^local (\w+) = rest\((KEYS|ARGV), (\d+)\)\s*$", re.M)
_DIRECTIVE = re.compile(r"^--- @(include|function|piece) (\w+)(?: as (\w+))?\s*$", re.M)
_NAME = re.compile(r"^[A-Za-z_]\w*$")
_MORE = "..."


class ScriptError(Exception):
    """A script file that breaks the rules above: raised when it is loaded, before any call."""


class CallMismatch(ValueError):
    """A call that does not give a script what its header declares."""


@dataclass(frozen=True, slots=True)
class Names:
    """What a script declares for KEYS or for ARGV: the names in order, and whether the last takes
    any number more."""

    names: tuple[str, ...]
    more: bool = False

    @property
    def fixed(self) -> int:
        """How many a call must give at least (exactly, unless `more`)."""
        return len(self.names) - 1 if self.more else len(self.names)

    def fits(self, count: int) -> bool:
        return count >= self.fixed if self.more else count == self.fixed

    def __str__(self) -> str:
        described = ", ".join((*self.names[:-1], self.names[-1] + _MORE) if self.more else self.names)
        return f"{self.fixed}{' or more' if self.more else ''} ({described or 'none'})"


@dataclass(frozen=True, slots=True)
class Lua:
    """One script as read from its file: its source with every directive put in, and its declaration."""

    name: str
    source: str
    keys: Names
    args: Names
    pieces: tuple[str, ...] = ()  # the scripts composed into this one, in the order of their KEYS and ARGV
    own_keys: int = 0  # with pieces: how many of KEYS and ARGV are this script's own, before the pieces'
    own_args: int = 0

    def check(self, keys: Sequence[Any], args: Sequence[Any]) -> None:
        """Raise `CallMismatch` unless `keys` and `args` are what the header declares."""
        if not (self.keys.fits(len(keys)) and self.args.fits(len(args))):
            raise CallMismatch(
                f"{self.name}.lua takes KEYS: {self.keys} and ARGV: {self.args}; "
                f"this call gives {len(keys)} KEYS and {len(args)} ARGV"
            )


class Library:
    """The script files of one folder, each read and checked once, on first use."""

    def __init__(self, folder: Traversable) -> None:
        self._folder = folder
        self._read: dict[str, Lua] = {}

    def __getitem__(self, name: str) -> Lua:
        if name not in self._read:
            self._read[name] = self._load(name, ())
        return self._read[name]

    def _text(self, *parts: str) -> str:
        path = self._folder.joinpath(*parts)
        if not path.is_file():
            raise ScriptError(f"no Lua file {'/'.join(parts)}")
        return path.read_text(encoding="utf-8")

    def _load(self, name: str, within: tuple[str, ...]) -> Lua:
        if name in within:
            raise ScriptError(f"{name}.lua includes itself (through {' → '.join(within)})")
        text = self._text(f"{name}.lua")
        keys, args = _declared(name, text)
        _check_body(name, text)
        if (keys.more or args.more) and "--- @include rest\n" not in text:
            raise ScriptError(f"{name}.lua takes any number more but has no `--- @include rest` for them")
        pieces: list[tuple[str, Lua]] = []
        total_keys, total_args = len(keys.names), len(args.names)

        def expand(match: re.Match[str]) -> str:
            nonlocal total_keys, total_args
            kind, target, alias = match.group(1), match.group(2), match.group(3)
            if kind == "include":
                if alias:
                    raise ScriptError(f"{name}.lua: an include takes no name ({match.group(0)})")
                return self._text("include", f"{target}.lua").rstrip("\n")
            if not alias:
                raise ScriptError(f"{name}.lua: {match.group(0)} needs `as <name>`")
            inner = self._load(target, (*within, name))
            function = f"local function {alias}(KEYS, ARGV)\n{inner.source.rstrip()}\nend"
            if kind == "function":
                return function
            if keys.more or args.more or inner.keys.more or inner.args.more or inner.pieces:
                raise ScriptError(f"{name}.lua: pieces and the script they are put in take no '{_MORE}'")
            pieces.append((alias, inner))
            cut = (
                f"local {alias} = piece({alias}, KEYS, {total_keys + 1}, {_lua_names(inner.keys)}, "
                f"ARGV, {total_args + 1}, {_lua_names(inner.args)})"
            )
            total_keys, total_args = total_keys + inner.keys.fixed, total_args + inner.args.fixed
            prelude = self._text("include", "piece.lua").rstrip("\n") + "\n" if len(pieces) == 1 else ""
            return f"{prelude}{function}\n{cut}"

        source = _DIRECTIVE.sub(expand, text)
        if not pieces:
            return Lua(name, source, keys, args)
        every_key = keys.names + tuple(f"{alias}.{key}" for alias, inner in pieces for key in inner.keys.names)
        every_arg = args.names + tuple(f"{alias}.{arg}" for alias, inner in pieces for arg in inner.args.names)
        return Lua(
            name,
            source,
            Names(every_key),
            Names(every_arg),
            tuple(inner.name for _, inner in pieces),
            len(keys.names),
            len(args.names),
        )


def _declared(name: str, text: str) -> tuple[Names, Names]:
    """The header's KEYS and ARGV, checked against the `local` lines that take them, in order."""
    headers: dict[str, Names] = {}
    for match in _HEADER.finditer(text):
        kind, listed = match.group(1), match.group(2).strip()
        if kind in headers:
            raise ScriptError(f"{name}.lua declares its {kind} twice")
        names = [] if listed == "none" else [item.strip() for item in listed.split(",")]
        more = bool(names) and names[-1].endswith(_MORE)
        if more:
            names[-1] = names[-1].removesuffix(_MORE)
        for item in names:
            if not _NAME.match(item) or item.endswith(_MORE):
                raise ScriptError(f"{name}.lua: {item!r} in its {kind} header is not a Lua name")
        headers[kind] = Names(tuple(names), more)
    for kind in ("KEYS", "ARGV"):
        if kind not in headers:
            raise ScriptError(f"{name}.lua has no `-- {kind}: …` header (`-- {kind}: none` when it takes none)")
        declared = headers[kind]
        lines = [(m.start(), m.group(0).strip()) for m in (*_DECLARED.finditer(text), *_REST.finditer(text))]
        found = [line for _, line in sorted(lines) if f" {kind}[" in line or f"({kind}," in line]
        wanted = [
            f"local {item} = rest({kind}, {position})"
            if declared.more and position == len(declared.names)
            else f"local {item} = {kind}[{position}]"
            for position, item in enumerate(declared.names, start=1)
        ]
        if found != wanted:
            raise ScriptError(
                f"{name}.lua: its {kind} header wants exactly these lines, in order: {'; '.join(wanted) or 'none'}"
            )
    return headers["KEYS"], headers["ARGV"]


def _check_body(name: str, text: str) -> None:
    """KEYS and ARGV only in the declaration lines: the body reads its keys and arguments by name."""
    body = _REST.sub("", _DECLARED.sub("", text))
    code = "\n".join(line.split("--", 1)[0] for line in body.splitlines())
    stray = re.search(r"\b(KEYS|ARGV)\b", code)
    if stray:
        line = code[: stray.start()].count("\n") + 1
        raise ScriptError(f"{name}.lua line {line}: {stray.group(1)} outside the declaration (use the named locals)")


def _lua_names(names: Names) -> str:
    return "{" + ", ".join(f"'{item}'" for item in names.names) + "}"


SCRIPTS = Library(files("handlers.store").joinpath("lua"))


class Script:
    """One script file registered on one client; every call is checked against its header."""

    def __init__(self, redis: Redis, name: str, *, library: Library = SCRIPTS) -> None:
        self.lua = library[name]
        self._registered = redis.register_script(self.lua.source)

    @property
    def name(self) -> str:
        return self.lua.name

    @property
    def sha(self) -> str:
        return str(self._registered.sha)

    def call(self, keys: Sequence[Any], args: Sequence[Any]) -> ScriptCall:
        return ScriptCall(self, list(keys), list(args))

    async def __call__(self, *, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        """Run the script alone: one round trip (two the first time, when the script is loaded)."""
        return await self.call(keys, args).run()

    async def _run(self, keys: list[Any], args: list[Any]) -> Any:
        return await self._registered(keys=keys, args=args)

    def with_pieces(self, args: Sequence[Any], pieces: Sequence[ScriptCall]) -> ScriptCall:
        """This script's call with its own `args` (it declares no keys of its own) and its pieces'
        own calls, in the order its `--- @piece` lines name them."""
        names = tuple(piece.script.name for piece in pieces)
        if names != self.lua.pieces:
            raise CallMismatch(f"{self.name}.lua runs the pieces {self.lua.pieces}; this call gives {names}")
        if len(args) != self.lua.own_args or self.lua.own_keys:
            raise CallMismatch(
                f"{self.name}.lua takes {self.lua.own_args} ARGV of its own before its pieces'; "
                f"this call gives {len(args)}"
            )
        every_key = [key for piece in pieces for key in piece.keys]
        return self.call(every_key, [*args, *(arg for piece in pieces for arg in piece.args)])


@dataclass(frozen=True, slots=True)
class ScriptCall:
    """One call of a registered script: what it runs on and with (checked when it is made)."""

    script: Script
    keys: list[Any]
    args: list[Any]

    def __post_init__(self) -> None:
        self.script.lua.check(self.keys, self.args)

    async def run(self) -> Any:
        """Alone: one round trip (two the first time, when the script is loaded)."""
        return await self.script._run(self.keys, self.args)


async def run_together(
    redis: Redis, calls: list[ScriptCall], *, raise_on_error: bool = True, in_order: bool = False
) -> list[Any]:
    """The replies of `calls`, run in one round trip; the first error is raised, or with
    `raise_on_error=False` returned in its call's place. (A lost connection always raises.)

    In one pipeline the calls run in order, one right after the other. `in_order` keeps that
    promise in a Redis Cluster too, where they are otherwise sent side by side."""
    if isinstance(redis, RedisCluster):
        # redis-py refuses scripts in a cluster pipeline: the calls are sent one by one or side by side
        replies: list[Any] = []
        if in_order:
            for call in calls:
                try:
                    replies.append(await call.run())
                except ResponseError as error:
                    replies.append(error)
        else:
            replies = list(await asyncio.gather(*(call.run() for call in calls), return_exceptions=True))
    else:
        async with redis.pipeline(transaction=False) as pipe:
            for call in calls:
                pipe.evalsha(call.script.sha, len(call.keys), *call.keys, *call.args)
            replies = await pipe.execute(raise_on_error=False)
        for index, reply in enumerate(replies):
            if isinstance(reply, NoScriptError):
                replies[index] = await calls[index].run()
    for reply in replies:
        if raise_on_error and isinstance(reply, Exception):
            raise reply
    return replies
