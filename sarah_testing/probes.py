"""Reading a running Sarah from outside, as a probe or Prometheus would: HTTP GETs and /metrics."""

from __future__ import annotations

from typing import Protocol

import aiohttp
from prometheus_client.parser import text_string_to_metric_families


class Probed(Protocol):
    """A running Sarah: the port of her /healthz, /readyz and /metrics."""

    health_port: int | None


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def get(port: int | None, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, await response.text()


async def scrape(sarah: Probed) -> Samples:
    status, text = await get(sarah.health_port, "/metrics")
    assert status == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)
