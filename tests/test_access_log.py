"""The access log's writer: every line once and in order, the same JSON as any other line, a
stream that is stuck or full costing lines (counted in /metrics) but never requests, and nothing
lost at a clean shutdown."""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

import httpx2
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from pledge import logs, observability
from pledge.logs import ACCESS_LOGGER, AccessLine, JsonFormatter, LogHandler
from tests.support.appserver import ROOT, STARTUP_DEADLINE, free_port
from tests.support.waiting import wait_until

BASE = 1_767_225_600.0  # 2026-01-01T00:00:00Z
DROPPED = "pledge_log_lines_dropped_total"
# What a thread of the test gets to finish in: a safety net, never what is checked.
JOIN_TIMEOUT = 30.0
ordinary = logging.getLogger("pledge.test_access_log")


# --- helpers -------------------------------------------------------------------------


def access_line(n: int, path: str | None = None, **fields: Any) -> AccessLine:
    """The access line of request ``n``, written at a time to the millisecond, as a clock
    with millisecond steps gives it."""
    values: dict[str, Any] = {
        "created": BASE + n / 1000,
        "level": logging.INFO,
        "request_id": f"req-{n}",
        "method": "GET",
        "route": "/c/{slug}",
        "path": path if path is not None else f"/c/kampanye-{n}",
        "status": 200,
        "duration_ms": round(0.1 + n % 997 / 10, 1),
        "client_ip": "203.0.113.7",
    }
    return AccessLine(**{**values, **fields})


class Recording(logging.Handler):
    """A handler of any other kind (a test's capture, an operator's own): keeps the records."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def attached(handler: logging.Handler, name: str = "pledge") -> Iterator[None]:
    """The handler on a logger, which lets every level through, for the test only."""
    logger = logging.getLogger(name)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def in_thread(work: Callable[[], object]) -> threading.Thread:
    """Run the work in a thread, and return it once finished (or once the safety net ran out:
    the caller asserts it finished)."""
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(JOIN_TIMEOUT)
    return thread


def as_formatter_writes(record: logging.LogRecord) -> dict[str, Any]:
    """The JSON line of an access record as the formatter of every other line writes it."""
    logs.RedactFilter().filter(record)
    parsed: dict[str, Any] = json.loads(JsonFormatter().format(record))
    return parsed


class FillingDisk(io.StringIO):
    """A log file on a disk that is full until told otherwise."""

    full = True

    def write(self, text: str) -> int:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(text)


class BrokenStream(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(errno.EPIPE, "Broken pipe")


# --- every line, once, in order, as the formatter writes it ---------------------------


def test_a_buffered_json_log_writes_every_line_once_in_order_as_the_formatter_would() -> None:
    stream, recording = io.StringIO(), Recording()
    handler = logs.log_handler("json", stream, buffered=True)
    lines = [access_line(n) for n in range(3 * logs.BATCH + 7)]
    expected_order = []
    with attached(handler), attached(recording, ACCESS_LOGGER):
        for n, line in enumerate(lines):
            logs.write_access(line)
            expected_order.append(line.request_id)
            if n % 300 == 0:  # a line of the application, between requests
                ordinary.warning("between %d", n)
                expected_order.append(f"between {n}")
        handler.flush()
        written = stream.getvalue().splitlines()
    handler.close()

    parsed = [json.loads(text) for text in written]  # every line is JSON
    assert [r["request_id"] or r["message"] for r in parsed] == expected_order
    access = [r for r in parsed if r["logger"] == ACCESS_LOGGER]
    assert len(recording.records) == len(access) == len(lines)
    for fast, record in zip(access, recording.records, strict=True):
        # The same keys in the same order, and the same values, the time included.
        assert list(fast.items()) == list(as_formatter_writes(record).items())


@pytest.mark.parametrize(
    "created",
    [BASE + 0.123, BASE + 0.997, BASE + 0.5, 1_796_610_936.7969997, BASE + 0.9999996],
)
def test_the_time_of_a_json_access_line_is_the_formatters_to_the_millisecond(
    created: float,
) -> None:
    line = access_line(1, created=created)
    handler = logs.log_handler("json", io.StringIO())

    fast = json.loads(handler.format_access(line))

    assert fast["time"] == as_formatter_writes(logs._access_record(line))["time"]


@pytest.mark.parametrize("created", [BASE + 0.5, BASE + 0.123, BASE + 0.9999996])
def test_a_text_access_line_reads_as_the_record_another_handler_gets(created: float) -> None:
    stream, recording = io.StringIO(), Recording()
    handler = logs.log_handler("text", stream)
    with attached(handler), attached(recording, ACCESS_LOGGER):
        logs.write_access(access_line(1, "/c/x\nFAKE-LINE", created=created))

    [record] = recording.records
    handler.filter(record)
    # The same line, its time to the millisecond included, as the formatter writes it.
    assert stream.getvalue() == handler.format(record) + "\n"


# --- what a client sent stays on its one line --------------------------------------------

HOSTILE_IP = 'x"\\\x1b[2J\u2028'


@pytest.mark.parametrize(
    "path",
    [
        "/c/x\nFAKE-LINE",
        "/c/x\r\n\t\x00\x7fy",
        "/c/\x1b[2Jx",
        "/c/x\x85y",
        "/c/x\u2028y\u2029z",
        '/c/"quoted" \\back\\slash\\',
        "/c/café-漢字",
        '/c/\x1b\x85\u2028"\\é漢',
    ],
    ids=repr,
)
def test_a_hostile_path_reads_back_exactly_from_its_one_json_line(path: str) -> None:
    stream, recording = io.StringIO(), Recording()
    line = access_line(1, path, client_ip=HOSTILE_IP)
    handler = logs.log_handler("json", stream)
    with attached(handler), attached(recording, ACCESS_LOGGER):
        logs.write_access(line)

    text = stream.getvalue()
    assert text.endswith("\n") and text.splitlines() == [text[:-1]]
    assert logs.CONTROL.search(text[:-1]) is None
    fast = json.loads(text)
    assert fast["path"] == path and fast["client_ip"] == HOSTILE_IP
    assert fast["message"] == line.message
    # Letters are written as they are, readable in the file.
    assert all(char in text for char in path if char.isalpha())
    [record] = recording.records
    formatter = as_formatter_writes(record)
    assert {**fast, "time": None} == {**formatter, "time": None}  # the time: tests above


@pytest.mark.parametrize("log_format", ["json", "text"])
@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/c/x/0812-3456-7890", "/c/x/[redacted]"),
        ("/c/a@b.id", "/c/[redacted]"),
        ("/c/x/+62 812 3456 7890/sign", "/c/x/[redacted]/sign"),
        ("/c/x/6281234567890/sign", "/c/x/[redacted]/sign"),
        ("/hoaxes/123", "/hoaxes/123"),
        ("/c/kampanye-2024/thanks/9f3a0123456789ab", "/c/kampanye-2024/thanks/9f3a0123456789ab"),
    ],
)
def test_a_contact_in_a_path_is_redacted_in_its_path_and_its_message(
    log_format: str, path: str, logged: str
) -> None:
    stream = io.StringIO()
    handler = logs.log_handler(log_format, stream)
    with attached(handler):
        logs.write_access(access_line(1, path))

    text = stream.getvalue()
    assert f'"GET {logged}" 200' in (json.loads(text)["message"] if log_format == "json" else text)
    if log_format == "json":
        assert json.loads(text)["path"] == logged
    assert logs.redact(text) == text  # no contact left anywhere in the line


# --- a stream that cannot take lines costs lines, never the caller -------------------------


def test_a_stream_nobody_reads_costs_lines_not_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "FLUSH_WAIT", 1.0)  # what close() gives a stuck writer
    read_end, write_end = os.pipe()  # a pipe holds 64 KiB: a few hundred lines
    stream = open(write_end, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
    handler = logs.log_handler("json", stream, buffered=True)
    # Before it is stuck the writer may take a batch of up to a buffer's worth; then the
    # buffer fills: three buffers' worth is more than both and the pipe can hold.
    total = 3 * logs.BUFFER_LINES
    try:
        with attached(handler):
            writing = in_thread(lambda: [logs.write_access(access_line(n)) for n in range(total)])
            assert not writing.is_alive(), "writing a line waited on the stream"
        assert 0 < handler.dropped < total
        closing = in_thread(handler.close)
        assert not closing.is_alive(), "close() waited on the stream"
    finally:
        os.close(read_end)  # the stuck write fails, and the writer ends
        with suppress(OSError, ValueError):
            stream.close()


def test_a_full_disk_costs_the_lines_written_to_it_and_the_writer_carries_on() -> None:
    disk = FillingDisk()
    handler = logs.log_handler("json", disk, buffered=True)
    with attached(handler):
        for n in range(50):
            logs.write_access(access_line(n))
        handler.flush()
        lost = handler.dropped
        disk.full = False
        for n in range(50, 80):
            logs.write_access(access_line(n))
        ordinary.warning("after the disk was freed")
        handler.flush()
    handler.close()

    assert lost == 50
    # The lines after the disk was freed went through the writer thread: it carried on.
    assert handler.dropped == lost  # nothing more once the disk has room
    written = [json.loads(text) for text in disk.getvalue().splitlines()]
    assert [r["request_id"] for r in written[:-1]] == [f"req-{n}" for n in range(50, 80)]
    assert written[-1]["message"] == "after the disk was freed"


def test_closing_the_handler_writes_every_line_that_waits() -> None:
    stream = io.StringIO()
    handler = logs.log_handler("json", stream, buffered=True)
    count = 2 * logs.BATCH + 3
    with attached(handler):
        for n in range(count):
            logs.write_access(access_line(n))
        ordinary.warning("the last line before the shutdown")
        handler.close()  # at once, as logging does when the process exits
        logs.write_access(access_line(count))  # after closing: written there and then

    assert handler.dropped == 0
    written = [json.loads(text) for text in stream.getvalue().splitlines()]
    ids = [r["request_id"] or r["message"] for r in written]
    assert ids == [
        *(f"req-{n}" for n in range(count)),
        "the last line before the shutdown",
        f"req-{count}",
    ]


# --- the lines left out, in /metrics -----------------------------------------------------


def dropped_from(metrics: str) -> float:
    for family in text_string_to_metric_families(metrics):
        for found in family.samples:
            if found.name == DROPPED:
                return float(found.value)
    raise AssertionError(f"no {DROPPED} in /metrics")


def dropped_in(app: FastAPI) -> float:
    with TestClient(app, base_url="http://testserver", client=("127.0.0.1", 50000)) as client:
        response = client.get("/metrics")  # from loopback, which may read them
    assert response.status_code == 200
    return dropped_from(response.text)


@contextmanager
def root_handler(stream: IO[str]) -> Iterator[LogHandler]:
    """The handler of `pledge serve` (buffered) on the root logger, for the test only."""
    handler = observability.log_handler("text", stream, buffered=True)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        handler.close()


def requests_then_drops(app: FastAPI, client: TestClient, handler: LogHandler) -> float:
    for _ in range(3):
        assert client.get("/privacy").status_code == 200
    handler.flush()  # the writer has tried them
    assert client.get("/privacy").status_code == 200  # its line shows the count to /metrics
    return dropped_in(app)


def test_lines_a_broken_stream_lost_are_counted_in_the_metrics(
    app: FastAPI, client: TestClient
) -> None:
    with root_handler(BrokenStream()) as handler:
        first = requests_then_drops(app, client, handler)
        second = requests_then_drops(app, client, handler)

    assert first >= 3  # the three requests' lines, at least
    assert second >= first + 3


def test_no_line_is_counted_lost_when_the_stream_takes_them(
    app: FastAPI, client: TestClient
) -> None:
    stream = io.StringIO()
    with root_handler(stream) as handler:
        first = requests_then_drops(app, client, handler)
        second = requests_then_drops(app, client, handler)
        handler.flush()

    assert first == second == 0
    assert stream.getvalue().count('"GET /privacy" 200') == 8


# --- pledge serve ------------------------------------------------------------------------

# `pledge serve` with a log buffer of SMALL_BUFFER lines (production's holds BUFFER_LINES):
# a few thousand requests overflow it, as hundreds of thousands would in production.
SMALL_BUFFER = 500
SERVE_SMALL_BUFFER = (
    "import sys; from pledge import logs; "
    f"logs.BUFFER_LINES = {SMALL_BUFFER}; "
    "from pledge.cli import main; sys.exit(main(sys.argv[1:]))"
)


def serve(
    args: list[str], stderr: IO[bytes] | int, *, python: list[str], **env: str
) -> tuple[subprocess.Popen[bytes], str]:
    """`pledge serve` on a free loopback port, answering; its process and its address."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k != observability.MULTIPROC_ENV}
    environment.update(env)
    process = subprocess.Popen(
        [*python, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    url = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        assert process.poll() is None, f"pledge serve exited with {process.returncode}"
        with suppress(httpx2.TransportError):
            return httpx2.get(f"{url}/healthz", timeout=2).status_code == 200
        return False

    try:
        wait_until(answering, STARTUP_DEADLINE, "pledge serve did not answer /healthz")
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process, url


def ask(url: str, requests: int, connections: int, path: str = "/api/v1/campaigns") -> None:
    """Requests over a few keep-alive connections, each answered 200 in the client's time."""
    clients = [httpx2.Client(base_url=url, timeout=10) for _ in range(connections)]
    try:
        for n in range(requests):
            response = clients[n % connections].get(path, headers={"X-Request-ID": f"probe-{n}"})
            assert response.status_code == 200, (n, response.status_code)
    finally:
        for client in clients:
            client.close()


def dropped_served(url: str) -> float:
    response = httpx2.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200
    return dropped_from(response.text)


@pytest.mark.server
def test_a_stderr_nobody_reads_costs_log_lines_not_answers(
    database_url: str, engine: sa.Engine
) -> None:
    process, url = serve(
        [],
        subprocess.PIPE,  # never read: full after a few hundred lines
        python=[sys.executable, "-c", SERVE_SMALL_BUFFER],
        PLEDGE_DATABASE_URL=database_url,
        PLEDGE_LOG_LEVEL="info",
    )
    try:
        # The pipe, a batch the writer took before it was stuck, and the buffer hold fewer.
        ask(url, 2_000, connections=4)
        dropped = dropped_served(url)
        ask(url, 200, connections=2)
        more = dropped_served(url)
    finally:
        process.kill()
        process.wait()
        if process.stderr is not None:
            process.stderr.close()

    assert 0 < dropped < more


# How `pledge serve` ends on SIGTERM, by its number of workers: one worker is uvicorn's own
# process, which re-raises the signal once it has shut down gracefully; with several, the
# parent process exits 0.
SIGTERM_STATUS = {1: -signal.SIGTERM, 2: 0}


@pytest.mark.server
@pytest.mark.parametrize("workers", [1, 2])
def test_pledge_serve_writes_every_line_before_it_exits(
    database_url: str, engine: sa.Engine, tmp_path: Path, workers: int
) -> None:
    requests = 400
    logfile = tmp_path / "stderr.log"
    with logfile.open("wb") as stderr:
        process, url = serve(
            ["--workers", str(workers)],
            stderr,
            python=[sys.executable, "-m", "pledge.cli"],
            PLEDGE_DATABASE_URL=database_url,
            PLEDGE_LOG_FORMAT="json",
            PLEDGE_LOG_LEVEL="info",
            TMPDIR=str(tmp_path),
        )
    try:
        ask(url, requests, connections=40)  # new ones go to either worker
    finally:
        process.send_signal(signal.SIGTERM)  # at once after the last answer
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    log = logfile.read_text()
    assert process.returncode == SIGTERM_STATUS[workers], log[-3000:]
    records = [json.loads(line) for line in log.splitlines()]
    probes = [
        r["request_id"]
        for r in records
        if r["logger"] == ACCESS_LOGGER and r["path"] == "/api/v1/campaigns"
    ]
    assert sorted(probes) == sorted(f"probe-{n}" for n in range(requests))
    # The last line each worker writes, just before its process ends, is there too.
    finished = [r for r in records if r["message"].startswith("Finished server process")]
    assert len(finished) == workers, [r["message"] for r in records[-8:]]
