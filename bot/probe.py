"""`python -m bot.probe /healthz`: the container's health check, with nothing but the standard library.

Asks this process's health server (SARAH_HEALTH_PORT, else SARAH_PORT, else 3000) and exits 0 on a
200, 1 otherwise, so Docker's HEALTHCHECK works in every role (HTTP, Socket Mode, worker).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str] | None = None) -> int:
    path = (argv if argv is not None else sys.argv[1:] or ["/healthz"])[0]
    port = os.environ.get("SARAH_HEALTH_PORT") or os.environ.get("SARAH_PORT") or "3000"
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"{path} on port {port}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
