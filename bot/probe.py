"""`python -m bot.probe /healthz`: the container's health check, with nothing but the standard library.

Asks this process's health server (SARAH_HEALTH_PORT, else SARAH_PORT (default 3000), plus one for a
worker: bot/ports.py) and exits 0 on a 200, 1 otherwise, so Docker's HEALTHCHECK works in every role
(HTTP, Socket Mode, worker).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

from bot.ports import health_port


def main(argv: list[str] | None = None) -> int:
    path = (argv if argv is not None else sys.argv[1:] or ["/healthz"])[0]
    configured = os.environ.get("SARAH_HEALTH_PORT")
    role = os.environ.get("SARAH_ROLE", "all")
    port = health_port(role, int(os.environ.get("SARAH_PORT") or 3000), int(configured) if configured else None)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"{path} on port {port}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
