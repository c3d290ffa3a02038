"""Hold thousands of live-count streams open on one server process; measure its memory per
stream and how long a signature takes to reach all of them."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass
class StreamResult:
    wanted: int
    opened: int
    refused: int
    rss_before_mib: float
    rss_after_mib: float
    updated: int
    slowest_s: float
    median_s: float
    cpu_s: float  # of the server process, from the signature to the last stream's update

    @property
    def kib_per_stream(self) -> float:
        return (self.rss_after_mib - self.rss_before_mib) * 1024 / max(self.opened, 1)

    def __str__(self) -> str:
        return (
            f"{self.opened} streams open ({self.refused} refused), "
            f"{self.kib_per_stream:.1f} KiB each; {self.updated} updated, "
            f"slowest after {self.slowest_s:.2f} s"
        )


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Stream:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.count: int | None = None

    async def next_count(self) -> int:
        """The supporters number of the next count event."""
        while True:
            line = await self.reader.readline()
            if not line:
                raise ConnectionError("closed")
            if line.startswith(b"data: "):
                return int(json.loads(line[6:])["supporters"])

    def close(self) -> None:
        self.writer.close()


async def open_stream(host: str, port: int, path: str) -> Stream | None:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    status = await reader.readline()
    if b" 200 " not in status:
        writer.close()
        return None
    stream = Stream(reader, writer)
    stream.count = await stream.next_count()
    return stream


async def measure_streams(
    url: str, slug: str, wanted: int, *, pid: int, sign: Callable[[], None]
) -> StreamResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = f"/c/{slug}/events"
    before = rss_mib(pid)
    streams: list[Stream] = []
    refused = 0
    for start in range(0, wanted, 250):
        batch = await asyncio.gather(
            *(open_stream(host, port, path) for _ in range(min(250, wanted - start))),
            return_exceptions=True,
        )
        for item in batch:
            if isinstance(item, Stream):
                streams.append(item)
            else:
                refused += 1
    await asyncio.sleep(2)
    after = rss_mib(pid)

    started = time.monotonic()
    delays: list[float] = []

    async def wait_for_change(stream: Stream) -> None:
        while await stream.next_count() == stream.count:
            pass
        delays.append(time.monotonic() - started)

    waiting = [asyncio.create_task(wait_for_change(s)) for s in streams]
    cpu_before = cpu_seconds(pid)
    await asyncio.to_thread(sign)
    await asyncio.wait(waiting, timeout=15)
    cpu_after = cpu_seconds(pid)
    for task in waiting:
        task.cancel()
    for stream in streams:
        stream.close()
    return StreamResult(
        wanted=wanted,
        opened=len(streams),
        refused=refused,
        rss_before_mib=before,
        rss_after_mib=after,
        updated=len(delays),
        slowest_s=max(delays, default=float("inf")),
        median_s=statistics.median(delays) if delays else float("inf"),
        cpu_s=cpu_after - cpu_before,
    )
