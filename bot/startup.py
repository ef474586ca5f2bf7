"""Why Sarah could not start, as one sentence that names the setting to change.

The runtime turns what failed while connecting (Redis, Slack, a port to listen on) into a
`StartupError`; `sarah` prints its message alone and exits non-zero (with LOG_LEVEL=DEBUG the
traceback too). A message never quotes a password or a token: Redis is named by host and port.
"""

from __future__ import annotations

import errno
import os
import socket
from urllib.parse import urlsplit

from config.settings import RedisSettings, SlackSettings, WorkerSettings


class StartupError(Exception):
    """Sarah cannot start with her settings; the message says what to change."""


class SlackStartError(StartupError):
    """Sarah cannot connect to Slack with her settings; the message says what to do."""


def reason(error: BaseException) -> str:
    """The cause in a few words (connection refused, timed out, …), from the innermost OS error."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, TimeoutError):
            return "timed out"
        if isinstance(seen, OSError) and seen.errno:
            return os.strerror(seen.errno) if seen.errno > 0 else str(seen.strerror or seen)
        seen = seen.__cause__ or seen.__context__
    text = str(error).strip().split("\n")[0]
    return text[:160] if text else type(error).__name__


def redis_failed(settings: RedisSettings, url: str, error: BaseException) -> StartupError:
    """Redis did not answer Sarah's first PING, or refused her credentials."""
    from redis.exceptions import AuthenticationError, ResponseError

    refused = isinstance(error, AuthenticationError) or (
        isinstance(error, ResponseError) and str(error).startswith(("NOAUTH", "WRONGPASS", "NOPERM"))
    )
    if settings.redis_sentinels:
        where = f"the Redis master {settings.redis_sentinel_master!r} named by the Sentinels {settings.redis_sentinels}"
        fix = "check REDIS_SENTINELS and REDIS_SENTINEL_MASTER"
    elif settings.redis_cluster:
        where = f"the Redis Cluster node at {_address(url)}"
        fix = "check REDIS_URL (any node of the cluster, with REDIS_CLUSTER=true)"
    elif settings.redis_url:
        where = f"Redis at {_address(url)}"
        fix = "start Redis there or fix REDIS_URL"
    else:
        where = f"the embedded Redis at {_address(url)}"
        fix = "set REDIS_URL to a Redis server, or check SARAH_DATA_DIR"
    if refused:
        text = str(error)
        why = (
            "a password is required"
            if any(sign in text for sign in ("NOAUTH", "Authentication required", "HELLO must be called"))
            else "wrong user or password"
        )
        return StartupError(
            f"{where[0].upper()}{where[1:]} refused Sarah's credentials ({why}): put the right user "
            "and password in REDIS_URL, as redis://USER:PASSWORD@host:6379/0."
        )
    why = reason(error)
    if settings.redis_sentinels and type(error).__name__ == "MasterNotFoundError":
        why = "no Sentinel answered" if "ConnectionError" in str(error) else "the Sentinels do not know this master"
    return StartupError(f"Sarah cannot reach {where} ({why}): {fix}.")


def slack_unreachable(settings: SlackSettings, error: BaseException) -> SlackStartError:
    return SlackStartError(
        f"Sarah cannot reach Slack at SLACK_API_URL {settings.slack_api_url} ({reason(error)}): check "
        "SLACK_API_URL (normally https://slack.com/api/) and this machine's network."
    )


def cannot_listen(
    slack: SlackSettings, worker: WorkerSettings, port: int, setting: str, error: OSError
) -> StartupError:
    """Binding `port` failed; `setting` is the variable that chose it (SARAH_PORT or SARAH_HEALTH_PORT)."""
    where = f"{slack.sarah_host}:{port}"
    if error.errno == errno.EADDRINUSE:
        if setting == "SARAH_HEALTH_PORT" and slack.sarah_health_port is None and worker.sarah_role == "worker":
            return StartupError(
                f"Port {port} ({setting}, which defaults to SARAH_PORT + 1 for a worker) is already in use on "
                f"{slack.sarah_host}, perhaps by another Sarah worker on this host: give each worker its own "
                f"{setting}."
            )
        return StartupError(
            f"Port {port} ({setting}) is already in use on {slack.sarah_host}, perhaps by another Sarah: stop what "
            f"listens there or set {setting} to a free port."
        )
    if error.errno == errno.EADDRNOTAVAIL or isinstance(error, socket.gaierror):
        return StartupError(
            f"Sarah cannot listen on {where} ({reason(error)}): SARAH_HOST is not an address of this machine."
        )
    return StartupError(f"Sarah cannot listen on {where} ({reason(error)}): choose another {setting} or SARAH_HOST.")


def _address(url: str) -> str:
    """host:port of a redis:// URL (never its password), or the socket path of a unix:// one."""
    try:
        parts = urlsplit(url)
        if parts.scheme == "unix":
            return parts.path
        return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
    except ValueError:
        return "REDIS_URL"
