"""Which port a Sarah process's health server listens on, for the runtime and the image's probe alike.

Standard library only: `python -m bot.probe` imports it in the container's health check.
"""

from __future__ import annotations


def health_port(role: str, sarah_port: int, configured: int | None) -> int:
    """SARAH_HEALTH_PORT when set; else SARAH_PORT, or SARAH_PORT + 1 for a worker, so that a worker
    started beside an ingress on one host with the same settings does not take the ingress's port."""
    if configured is not None:
        return configured
    if role == "worker" and sarah_port:
        return sarah_port + 1 if sarah_port < 65_535 else sarah_port - 1
    return sarah_port
