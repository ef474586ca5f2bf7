"""The image starts: its build replayed without a Docker engine, from the context `.dockerignore` leaves.

The Dockerfile installs the locked run set, then Sarah herself from the whole build context. Here the
same context is copied (ignored files left out, as Docker leaves them), installed with the Dockerfile's
own pip command into a folder of its own, and run from a directory outside this checkout: a package
that the build leaves out, or a file the context lacks, fails `sarah --help` or the health probe here
as it would fail the container. The test venv stands in for the image's dependencies: the run set is
the test set's subset at the same versions, which is checked too.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from sarah_testing.redis_process import free_port
from sarah_testing.slack_api import FakeSlack
from tests.conftest import REDIS_TEST_URL, SUPPORT_CHANNEL

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
INSTALL = "pip install --no-deps --no-build-isolation /tmp/sarah-src"
DEVELOPMENT_ONLY = {"tests", "bench", "sarah_testing"}  # every other package of the checkout ships


def shipped_packages() -> list[str]:
    return sorted(p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in DEVELOPMENT_ONLY)


def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """`.dockerignore` as Docker reads it: patterns from the context's root, `**` across folders,
    `*` and `?` within one name, a trailing `/` dropped, `!` re-includes; the last match wins."""
    rules = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        for part in re.split(r"(\*\*/?|\*|\?)", pattern):
            if part.startswith("**"):
                regex += "(?:.*/)?" if part.endswith("/") else ".*"
            elif part == "*":
                regex += "[^/]*"
            elif part == "?":
                regex += "[^/]"
            else:
                regex += re.escape(part)
        rules.append((keep, re.compile(regex)))
    return rules


def ignored(relative: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """A path is left out when it, or a folder above it, matches (Docker's rule for folders)."""
    parts = relative.split("/")
    verdict = False
    for keep, rule in rules:
        if any(rule.fullmatch("/".join(parts[: i + 1])) for i in range(len(parts))):
            verdict = not keep
    return verdict


def build_context(target: Path) -> Iterator[str]:
    """Copy this checkout into `target` as `docker build .` would send it; yields what was copied."""
    rules = dockerignore_rules()
    for folder, dirs, files in os.walk(ROOT):
        here = Path(folder).relative_to(ROOT).as_posix()
        prefix = "" if here == "." else here + "/"
        dirs[:] = [d for d in dirs if not ignored(prefix + d, rules)]
        for name in files:
            relative = prefix + name
            if not ignored(relative, rules):
                (target / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / relative, target / relative)
                yield relative


def locked(name: str) -> dict[str, str]:
    text = (ROOT / "requirements" / name).read_text()
    return {m[0].lower(): m[1] for m in re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", text, re.M)}


def test_the_dockerignore_reading_leaves_out_what_docker_leaves_out() -> None:
    rules = dockerignore_rules()
    assert ignored(".venv/lib/x.py", rules) and ignored("bot/__pycache__/a.pyc", rules)
    assert ignored(".env", rules) and not ignored(".env.example", rules)
    assert ignored("tests/conftest.py", rules) and not ignored("bot/tests_like.py", rules)
    assert not ignored("requirements/run.txt", rules) and not ignored("training/data/train.jsonl", rules)


def test_the_image_installs_the_locked_run_set_which_the_tests_run_against_too() -> None:
    assert "COPY requirements/pip.txt requirements/run.txt requirements/" in DOCKERFILE
    assert "pip install --require-hashes --no-deps -r requirements/run.txt" in DOCKERFILE
    assert INSTALL in DOCKERFILE and "COPY . /tmp/sarah-src" in DOCKERFILE
    run, test = locked("run.txt"), locked("test.txt")
    assert run, "requirements/run.txt pins nothing"
    differ = {name: (version, test.get(name)) for name, version in run.items() if test.get(name) != version}
    assert not differ, f"the image's versions differ from the tested ones (run scripts/lock): {differ}"


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sarah installed as the image installs her, into a folder of her own."""
    context = tmp_path_factory.mktemp("context")
    copied = set(build_context(context))
    assert "pyproject.toml" in copied and not any(p.startswith(("tests/", ".git/")) for p in copied)
    installed = tmp_path_factory.mktemp("image")
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target"]
    done = subprocess.run([*pip, str(installed), str(context)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return installed


def image_env(image: Path, **settings: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return {**keep, "PYTHONPATH": str(image), **settings}


def test_the_built_image_runs_sarah_from_its_own_files_not_from_this_checkout(image: Path, tmp_path: Path) -> None:
    packages = shipped_packages()
    assert {"bot", "handlers", "config", "sarah_cli"} <= set(packages)
    show = f"import importlib; print('\\n'.join(importlib.import_module(p).__file__ for p in {packages!r}))"
    where = subprocess.run(
        [sys.executable, "-c", show], cwd=tmp_path, env=image_env(image), capture_output=True, text=True, timeout=60
    )
    assert where.returncode == 0, where.stderr
    outside = [f for f in where.stdout.split() if not Path(f).is_relative_to(image)]
    assert not outside, f"packages the image lacks (found elsewhere instead): {outside}"
    helped = subprocess.run(
        [sys.executable, str(image / "bin" / "sarah"), "--help"],
        cwd=tmp_path,
        env=image_env(image),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert helped.returncode == 0, helped.stderr
    assert "chat" in helped.stdout and "doctor" in helped.stdout


def test_every_file_of_a_shipped_package_is_in_the_image(image: Path) -> None:
    """What a package reads at run time beside its code (the Redis scripts, the training data) must
    be package data, or the image has the code without it."""
    rules = dockerignore_rules()
    files = [
        path.relative_to(ROOT).as_posix()
        for package in shipped_packages()
        for path in sorted((ROOT / package).rglob("*"))
        if path.is_file() and not ignored(path.relative_to(ROOT).as_posix(), rules)
    ]
    assert any(f.startswith("handlers/store/lua/") for f in files)
    missing = [f for f in files if not (image / f).is_file()]
    assert not missing, f"files the image lacks (list them as package data in pyproject.toml): {missing}"


async def test_the_built_image_starts_and_its_health_probe_answers(
    image: Path, tmp_path: Path, fake_slack: FakeSlack, redis: Redis
) -> None:
    port = free_port()
    settings = {
        "SLACK_BOT_TOKEN": "xoxb-image",
        "SLACK_SIGNING_SECRET": "image-signing-secret",
        "SLACK_API_URL": fake_slack.api_url,
        "SARAH_HOST": "127.0.0.1",
        "SARAH_PORT": str(port),
        "REDIS_URL": REDIS_TEST_URL,
        "SUPPORT_CHANNEL": SUPPORT_CHANNEL,
    }
    env = image_env(image, **settings)
    sarah = await asyncio.create_subprocess_exec(
        sys.executable,
        str(image / "bin" / "sarah"),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        healthy = False
        while time.monotonic() < deadline and sarah.returncode is None and not healthy:
            probe = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.probe", "/healthz", cwd=tmp_path, env=env, stderr=asyncio.subprocess.DEVNULL
            )
            healthy = await probe.wait() == 0
            if not healthy:
                await asyncio.sleep(0.2)
        assert healthy, f"the image's health probe never answered 200 (Sarah exited {sarah.returncode})"
    finally:
        if sarah.returncode is None:
            sarah.terminate()
        _, stderr = await asyncio.wait_for(sarah.communicate(), 30)
    assert b"Traceback" not in stderr, stderr.decode(errors="replace")[-2000:]
