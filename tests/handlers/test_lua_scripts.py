"""Sarah's Lua scripts are files that name what they take, and nothing reads a position it was not given.

A script's header is the one declaration of its KEYS and ARGV: the loader refuses a file whose body
reads KEYS or ARGV by number, a call that gives a script more or fewer than it declares, and builds
the positions of scripts run as one (the front door's) from the declared counts alone.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest
from redis.asyncio import Redis

from handlers.store.limits import Limits
from handlers.store.scripts import SCRIPTS, CallMismatch, Library, Script, ScriptError

LUA = Path(str(files("handlers.store").joinpath("lua")))


def library(tmp_path: Path, **scripts: str) -> Library:
    """A folder of scripts of the test's own, with the store's shared includes."""
    (tmp_path / "include").mkdir(exist_ok=True)
    for include in (LUA / "include").glob("*.lua"):
        (tmp_path / "include" / include.name).write_text(include.read_text())
    for name, text in scripts.items():
        (tmp_path / f"{name}.lua").write_text(text)
    return Library(tmp_path)


PAIR = """-- KEYS: first, second
-- ARGV: a, b
local first = KEYS[1]
local second = KEYS[2]
local a = ARGV[1]
local b = ARGV[2]
return {first, second, a, b}
"""
SINGLE = """-- KEYS: only
-- ARGV: x, y, z
local only = KEYS[1]
local x = ARGV[1]
local y = ARGV[2]
local z = ARGV[3]
return {only, x, y, z}
"""
DRIVER = """-- KEYS: none
-- ARGV: mode
--- @piece pair as p
--- @piece single as s
local mode = ARGV[1]
if mode == 'change' then s.arg.y = 'changed' end
return {run_piece(p), run_piece(s), s.key.only, p.arg.b}
"""


def test_every_script_of_the_store_is_a_file_that_loads_with_its_declaration() -> None:
    names = sorted(path.stem for path in LUA.glob("*.lua"))
    assert len(names) >= 28
    for name in names:
        assert "--- @" not in SCRIPTS[name].source, f"{name}: a directive was left in"
    root = LUA.parents[2]
    glued = [
        str(path.relative_to(root))
        for package in ("handlers", "bot", "sarah_cli", "sarah_model", "training")
        for path in (root / package).rglob("*.py")
        if "redis.call(" in path.read_text()
    ]
    assert not glued, f"Lua glued from Python strings (make it a file in handlers/store/lua/): {glued}"


def test_a_script_that_reads_a_position_by_number_is_refused(tmp_path: Path) -> None:
    planted = DRIVER.replace("local mode = ARGV[1]\n", "local mode = ARGV[1]\nif ARGV[6] == '1' then mode = '' end\n")
    scripts = library(tmp_path, pair=PAIR, single=SINGLE, driver=planted)
    with pytest.raises(ScriptError, match="ARGV outside the declaration"):
        scripts["driver"]


def test_a_declaration_out_of_step_with_the_header_is_refused(tmp_path: Path) -> None:
    swapped = PAIR.replace("local a = ARGV[1]\nlocal b = ARGV[2]", "local a = ARGV[2]\nlocal b = ARGV[1]")
    with pytest.raises(ScriptError, match="its ARGV header wants"):
        library(tmp_path, pair=swapped)["pair"]
    missing = PAIR.replace("local second = KEYS[2]\n", "")
    with pytest.raises(ScriptError, match="its KEYS header wants"):
        library(tmp_path, pair=missing)["pair"]


async def test_pieces_get_their_own_keys_and_arguments_from_the_declared_counts(tmp_path: Path, redis: Redis) -> None:
    scripts = library(tmp_path, pair=PAIR, single=SINGLE, driver=DRIVER)
    pair, single = Script(redis, "pair", library=scripts), Script(redis, "single", library=scripts)
    driver = Script(redis, "driver", library=scripts)
    pieces = [pair.call(["k:1", "k:2"], ["a", "b"]), single.call(["k:3"], ["x", "y", "z"])]

    reply = await driver.with_pieces(["change"], pieces).run()

    assert reply == [[b"k:1", b"k:2", b"a", b"b"], [b"k:3", b"x", b"changed", b"z"], b"k:3", b"b"]


async def test_pieces_named_in_another_order_are_refused(tmp_path: Path, redis: Redis) -> None:
    scripts = library(tmp_path, pair=PAIR, single=SINGLE, driver=DRIVER)
    pair, single = Script(redis, "pair", library=scripts), Script(redis, "single", library=scripts)
    driver = Script(redis, "driver", library=scripts)
    swapped = [single.call(["k:3"], ["x", "y", "z"]), pair.call(["k:1", "k:2"], ["a", "b"])]
    with pytest.raises(CallMismatch, match="runs the pieces"):
        driver.with_pieces(["plain"], swapped)


async def test_a_call_with_one_argument_more_than_its_script_declares_sends_nothing(redis: Redis) -> None:
    """What a literal offset used to get wrong in silence: every later argument shifted by one."""
    limits = Limits(redis, messages_per_minute=5, max_open_threads=3, index_ttl_seconds=3_600)
    good = limits.check_call("UCUSTOMER", "C0HELP:1.0", opens_thread=True, now=1_800_000_000.0, size=10)
    check = Script(redis, "limits_check")
    with pytest.raises(CallMismatch, match=r"limits_check\.lua takes KEYS: 3 \(rate, threads, stored\)"):
        check.call(good.keys, [*good.args, "one too many"])
    with pytest.raises(CallMismatch):
        await check(keys=good.keys[:2], args=good.args)
    assert await redis.dbsize() == 0
