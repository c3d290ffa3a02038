"""Log lines: JSON objects (production) or plain text, each carrying the id of the request it
was written for, with contacts redacted and, in the text format, control characters escaped;
the handler every line goes through, and the logging set-up of `pledge serve`.

uvicorn loads this module in every worker before the worker answers its supervisor's first
health check, so it imports nothing of the application.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import signal
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from pledge.config import Settings

# --- redaction -----------------------------------------------------------------------

REDACTED = "[redacted]"
EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*")
# A phone number: 10 to 15 digits, split by spaces, dashes or brackets when it starts like
# one (0812 3456 7890, (021) 5550-1234, +62 812-3456-7890, 62 812 3456 7890), or in one run
# (6281234567890). Dates and times (2024-02-14 10:20) do not start like a phone number;
# digits inside a word or a longer number (an id, a hash) are left alone.
PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d(?:[ \-()]{0,2}\d){9,14}"
    r"|\(?0(?:[ \-()]{0,2}\d){9,14}"
    r"|\(?62(?:[ \-()]{0,2}\d){8,13}"
    r"|\d{10,15}"
    r")(?!\d)"
)
# Attributes of a log record, other than its message, that may carry what a client sent.
REDACTED_FIELDS = ("path",)


def redact(text: str) -> str:
    """The text with email addresses and phone numbers replaced by ``[redacted]``."""
    return PHONE.sub(REDACTED, EMAIL.sub(REDACTED, text))


_traceback_formatter = logging.Formatter()


class RedactFilter(logging.Filter):
    """Keeps contacts out of the log: the message with its arguments, the traceback (a
    database error quotes the values of its statement) and the access line's path."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging reports it when it formats
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _traceback_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name in REDACTED_FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, str):
                setattr(record, name, redact(value))
        return True


# --- control characters ----------------------------------------------------------------

# What could end a line, or move or colour a terminal's text: the C0 controls (CR and LF among
# them), DEL, the C1 controls (NEL among them) and the Unicode line and paragraph separators,
# which str.splitlines() and many log viewers take for line ends too.
CONTROLS = [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
CONTROL = re.compile("[" + "".join(re.escape(chr(c)) for c in CONTROLS) + "]")
_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
TEXT_ESCAPES = {
    c: _SHORT_ESCAPES.get(chr(c)) or (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}")
    for c in CONTROLS
}
# json.dumps escapes the C0 controls; with ensure_ascii=False it leaves the others as they are.
JSON_ESCAPES = {c: f"\\u{c:04x}" for c in CONTROLS if c >= 0x7F}


def escape_controls(text: str, *, keep_newlines: bool = False) -> str:
    """The text with each control character and line separator written as its escape (\\n,
    \\x1b, \\u2028), so that it stays on its line; a traceback keeps its own line breaks."""
    if CONTROL.search(text) is None:
        return text
    if keep_newlines:
        return "\n".join(line.translate(TEXT_ESCAPES) for line in text.split("\n"))
    return text.translate(TEXT_ESCAPES)


class _Escaped:
    """A value of a message written by its escaped text, by %s as by %r."""

    def __init__(self, value: object) -> None:
        self.value = value

    def __str__(self) -> str:
        return escape_controls(str(self.value))

    def __repr__(self) -> str:
        return escape_controls(repr(self.value))


def _escaped_value(value: Any) -> Any:
    if isinstance(value, str):
        return escape_controls(value)
    if isinstance(value, int | float) or value is None:
        return value
    return _Escaped(value) if CONTROL.search(str(value)) else value


def _escaped_args(args: tuple[Any, ...] | Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
    if isinstance(args, Mapping):
        return {name: _escaped_value(value) for name, value in args.items()}
    return tuple(_escaped_value(value) for value in args)


# --- request ids ---------------------------------------------------------------------

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_HEADER_RAW = b"x-request-id"
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def current_request_id() -> str | None:
    return REQUEST_ID.get()


def request_id_from(raw: str | None) -> str:
    """A proxy's or client's id when it is short and harmless in a log, else a new one.
    An id that looks like a phone number is replaced too: ids are logged unredacted."""
    if raw and SAFE_REQUEST_ID.fullmatch(raw) and not PHONE.search(raw):
        return raw
    # 128 random bits in hex, as a UUID's hex would show them, at a quarter of its cost: no
    # UUID object is built for every request. Random, not counted: an id shown to a visitor
    # must not tell how many requests the site served before theirs.
    return os.urandom(16).hex()


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (or None outside a request) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


# --- log formats ---------------------------------------------------------------------

# What the access line adds to a record, in the order a JSON line shows it.
ACCESS_FIELDS = ("method", "route", "path", "status", "duration_ms", "client_ip")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and for access
    lines the request's method, route, path, status, duration and client address."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                data[name] = getattr(record, name)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exception"] = record.exc_text
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        line = json.dumps(data, ensure_ascii=False, default=str)
        # Only ever inside a string (JSON's own characters are ASCII), where a \u escape is valid.
        return line.translate(JSON_ESCAPES) if CONTROL.search(line) else line


class TextFormatter(logging.Formatter):
    """A line for people: time, level, logger, [request id], message. Every value the message
    holds is escaped (control characters, line breaks and line separators), so that nothing a
    client sent (a path with %0a in it) can start a line of its own. The template of a message
    with arguments is the code's own and keeps its layout; a message without arguments (or
    one the redaction wrote out with its values) is escaped whole. A traceback keeps its lines, with anything
    else escaped in them."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_label)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.request_label = escape_controls(str(getattr(record, "request_id", None) or "-"))
        template, args, exc_text = record.msg, record.args, record.exc_text
        if record.exc_info and not exc_text:
            exc_text = self.formatException(record.exc_info)
        try:
            if args:
                record.args = _escaped_args(args)
            else:
                record.msg = escape_controls(str(template))
            if exc_text:
                record.exc_text = escape_controls(exc_text, keep_newlines=True)
            return super().format(record)
        finally:
            record.msg, record.args, record.exc_text = template, args, exc_text


def log_format(settings: Settings) -> str:
    if settings.log_format:
        return settings.log_format
    return "json" if settings.env == "production" else "text"


# --- the handler, and its buffer ---------------------------------------------------------

# Lines waiting for the writer thread, at most: about 3 MB. A stream that cannot take them
# (a full disk, a reader that stopped reading stderr) costs lines, never the site.
BUFFER_LINES = 10_000
# The writer writes what waits at least this often (seconds), and at once when a batch is full.
WRITE_EVERY = 0.2
BATCH = 500
# How long a flush, or closing the handler, waits for the writer before giving up on it.
FLUSH_WAIT = 5.0


class AccessLine(NamedTuple):
    """What the access line of one request is made of, taken on the request's path as it is;
    the writer thread formats it."""

    created: float  # time.time()
    level: int
    request_id: str | None
    method: str
    route: str
    path: str
    status: int
    duration_ms: float
    client_ip: str | None

    @property
    def message(self) -> str:
        return (
            f'{self.client_ip or "-"} "{self.method} {self.path}" '
            f"{self.status} {self.duration_ms:.1f}ms"
        )


# A contact in a path needs an @ or at least ten digits close together: most paths have
# neither, and are written without the redaction's two passes.
_MAY_HOLD_CONTACT = re.compile(r"@|\d(?:[ \-()]{0,2}\d){9}")
_json_string = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _json(text: str) -> str:
    quoted: str = _json_string(text)
    return quoted.translate(JSON_ESCAPES) if CONTROL.search(quoted) else quoted


class _Clock:
    """The time of a line, formatted once a second and then only its milliseconds: in JSON
    as datetime writes it (the microseconds rounded first), in text as a LogRecord does."""

    def __init__(self, fmt: str, convert: Any, *, rounded: bool) -> None:
        self.fmt, self.convert, self.rounded = fmt, convert, rounded
        self.second, self.text = -1, ""

    def __call__(self, created: float) -> tuple[str, int]:
        fraction, whole = math.modf(created)
        second = int(whole)
        if self.rounded:
            micro = round(fraction * 1e6)
            if micro >= 1_000_000:
                second, micro = second + 1, micro - 1_000_000
            ms = micro // 1000
        else:
            ms = int(fraction * 1000)
        if second != self.second:
            self.second, self.text = second, time.strftime(self.fmt, self.convert(second))
        return self.text, ms


class LogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler every log line goes through: the format, the request id, the redaction.

    Buffered (as ``pledge serve`` runs it), a line is handed to a writer thread, which writes
    what has come in a batch, off the requests' path: one write for hundreds of lines. The
    access line of a request is handed over as its raw fields (``access``), formatted by the
    writer. Nothing waits for the stream: when the buffer is full, lines are counted in
    ``dropped`` and left out. A flush, and closing the handler (at a clean shutdown), writes
    everything that waits."""

    def __init__(
        self, log_format: str = "text", stream: IO[str] | None = None, *, buffered: bool = False
    ) -> None:
        super().__init__(stream if stream is not None else sys.stderr)
        self.json = log_format == "json"
        self.setFormatter(JsonFormatter() if self.json else TextFormatter())
        self.addFilter(RequestIdFilter())
        self.addFilter(RedactFilter())
        self.buffered = buffered
        self.dropped = 0
        self._waiting: deque[AccessLine | str | threading.Event] = deque()
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        self._writer_pid = 0
        self._stopped = False
        self._start_lock = threading.Lock()
        self._clock = (
            _Clock("%Y-%m-%dT%H:%M:%S", time.gmtime, rounded=True)
            if self.json
            else _Clock("%Y-%m-%d %H:%M:%S", time.localtime, rounded=False)
        )
        if buffered:
            _BUFFERED.add(self)
            _write_before_termination()

    # -- taking lines --

    def access(self, line: AccessLine) -> None:
        """Write one request's access line (the level was checked by the caller)."""
        if line.level >= self.level:
            self._take(line)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self._take(text)

    def _take(self, item: AccessLine | str) -> None:
        if not self.buffered or self._stopped:
            self._write_now([item])
            return
        if self._writer is None or self._writer_pid != os.getpid():
            self._start_writer()
        waiting = self._waiting
        if len(waiting) >= BUFFER_LINES:
            self.dropped += 1
            return
        waiting.append(item)
        if len(waiting) == BATCH:
            self._wake.set()

    # -- formatting --

    def format_access(self, line: AccessLine) -> str:
        path = redact(line.path) if _MAY_HOLD_CONTACT.search(line.path) else line.path
        if path is not line.path:
            line = line._replace(path=path)
        stamp, ms = self._clock(line.created)
        level = logging.getLevelName(line.level)
        if not self.json:
            request = escape_controls(line.request_id or "-")
            message = escape_controls(line.message)
            return f"{stamp},{ms:03d} {level} pledge.access [{request}] {message}\n"
        request_id = "null" if line.request_id is None else _json(line.request_id)
        client = "null" if line.client_ip is None else _json(line.client_ip)
        return (
            f'{{"time": "{stamp}.{ms:03d}Z", "level": "{level}", "logger": "pledge.access", '
            f'"message": {_json(line.message)}, "request_id": {request_id}, '
            f'"method": {_json(line.method)}, "route": {_json(line.route)}, '
            f'"path": {_json(line.path)}, "status": {line.status}, '
            f'"duration_ms": {line.duration_ms!r}, "client_ip": {client}}}\n'
        )

    def _text(self, items: list[AccessLine | str]) -> str:
        return "".join(
            item if isinstance(item, str) else self.format_access(item) for item in items
        )

    # -- writing --

    def _write_now(self, items: list[AccessLine | str]) -> None:
        text = self._text(items)
        # Buffered, the writer thread is the stream's only writer, and holds no lock a
        # request could wait on while the stream is stuck.
        with contextlib.nullcontext() if self.buffered or self.lock is None else self.lock:
            try:
                self.stream.write(text)
                self.stream.flush()
            except Exception:  # a full disk, a closed pipe: the lines are lost, not the site
                self.dropped += len(items)

    def _start_writer(self) -> None:
        with self._start_lock:
            if self._writer is not None and self._writer_pid == os.getpid():
                return
            # A forked child has this handler but not its thread, nor the lines before it.
            self._waiting.clear()
            self._writer_pid = os.getpid()
            self._writer = threading.Thread(
                target=self._write_batches, name="pledge-log-writer", daemon=True
            )
            self._writer.start()

    def _write_batches(self) -> None:
        while True:
            self._wake.wait(WRITE_EVERY)
            self._wake.clear()
            stopping = self._stopped
            items: list[AccessLine | str] = []
            markers: list[threading.Event] = []
            waiting = self._waiting
            while waiting:
                item = waiting.popleft()
                if isinstance(item, threading.Event):
                    markers.append(item)
                    break  # what came before a flush is written before it returns
                items.append(item)
            if items:
                try:
                    self._write_now(items)
                except Exception:  # a line that cannot be formatted: the rest are written
                    self.dropped += len(items)
            for marker in markers:
                marker.set()
            if waiting:
                self._wake.set()
            elif stopping:
                return

    def flush(self) -> None:
        """Everything handed over so far, written (or, from a stuck stream, given up)."""
        writer = self._writer
        if not self.buffered or writer is None or not writer.is_alive():
            super().flush()
            return
        written = threading.Event()
        self._waiting.append(written)
        self._wake.set()
        written.wait(FLUSH_WAIT)

    def close(self) -> None:
        if self.buffered and not self._stopped:
            self.flush()
            self._stopped = True
            self._wake.set()
            if self._writer is not None:
                self._writer.join(FLUSH_WAIT)
        super().close()


# Every buffered handler of this process, for a stop signal to write what waits.
_BUFFERED: weakref.WeakSet[LogHandler] = weakref.WeakSet()


def _write_then_end(signum: int, _frame: object) -> None:
    for handler in list(_BUFFERED):
        handler.flush()
    signal.signal(signum, signal.SIG_DFL)
    signal.raise_signal(signum)


def _write_before_termination() -> None:
    """uvicorn, stopped by SIGTERM, shuts down and then ends itself by the same signal, whose
    default action ends the process at once: no exit handler, no flush. Here that action
    writes what waits first. Only where nothing else handles the signal."""
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    ):
        signal.signal(signal.SIGTERM, _write_then_end)


def log_handler(
    log_format: str = "text", stream: IO[str] | None = None, buffered: bool = False
) -> LogHandler:
    """The handler every log line goes through (see ``LogHandler``)."""
    return LogHandler(log_format, stream, buffered=buffered)


ACCESS_LOGGER = "pledge.access"
_access_logger = logging.getLogger(ACCESS_LOGGER)


def _our_handlers() -> Iterator[LogHandler]:
    """The handlers of the access logger and its parents that are ours."""
    logger: logging.Logger | None = _access_logger
    while logger is not None:
        for handler in logger.handlers:
            if isinstance(handler, LogHandler):
                yield handler
        logger = logger.parent if logger.propagate else None


def lines_dropped() -> int:
    """The lines the access logger's handlers (ours) have dropped so far."""
    return sum(handler.dropped for handler in _our_handlers())


def write_access(line: AccessLine) -> int:
    """Hand a request's access line to the handlers of the access logger (and of its
    parents, as logging would): the raw fields to ours, a log record to any other (a test's
    capture, a handler an operator added). The lines our handlers have dropped so far."""
    logger: logging.Logger | None = _access_logger
    if not _access_logger.isEnabledFor(line.level):
        return 0
    dropped = 0
    record = None
    while logger is not None:
        for handler in logger.handlers:
            if isinstance(handler, LogHandler):
                handler.access(line)
                dropped += handler.dropped
            elif line.level >= handler.level:
                record = record or _access_record(line)
                handler.handle(record)
        logger = logger.parent if logger.propagate else None
    return dropped


def _access_record(line: AccessLine) -> logging.LogRecord:
    record = _access_logger.makeRecord(
        ACCESS_LOGGER,
        line.level,
        __file__,
        0,
        "%s",
        (line.message,),
        None,
        extra={name: getattr(line, name) for name in ACCESS_FIELDS},
    )
    record.created = line.created
    record.msecs = int((line.created - int(line.created)) * 1000) + 0.0
    record.relativeCreated = (line.created - logging._startTime) * 1000  # type: ignore[attr-defined]
    record.request_id = line.request_id
    return record


def log_config(settings: Settings) -> dict[str, Any]:
    """The logging set-up of ``pledge serve``, given to uvicorn, which applies it in every
    process: uvicorn's own lines go through the same handler as the application's. Its
    access log is off; the middleware writes a better one (route, request id, duration)."""
    level = settings.log_level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {
            "default": {
                "()": "pledge.logs.log_handler",
                "log_format": log_format(settings),
                "stream": "ext://sys.stderr",
                # Written in batches by a thread of its own, off the requests' path.
                "buffered": True,
            }
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
