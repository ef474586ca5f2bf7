"""Which Redis a `sarah` command talks to: REDIS_URL, the Sentinels, or an embedded server.

Shared by `sarah` (run, chat, forget) and `sarah dead-letters`; the embedded server is imported only
when it is the answer, so a command with REDIS_URL never loads it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from config import Settings

log = logging.getLogger("sarah")


@contextlib.contextmanager
def redis_url_for(settings: Settings) -> Iterator[str]:
    """REDIS_URL when set; otherwise an embedded Redis server with its data in SARAH_DATA_DIR."""
    if settings.redis.redis_url:
        yield settings.redis.redis_url
        return
    if settings.redis.redis_sentinels:  # the Sentinels name the master; no REDIS_URL needed
        yield ""
        return
    from bot.cli.embedded_redis import start_embedded_redis

    data_dir = Path(settings.redis.sarah_data_dir)
    with start_embedded_redis(data_dir) as embedded:
        log.info("no REDIS_URL: using an embedded Redis with its data in %s", data_dir.resolve())
        yield embedded.url
