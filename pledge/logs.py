"""Log lines: JSON objects (production) or plain text, each carrying the id of the request it
was written for, with contacts redacted and, in the text format, control characters escaped;
the handler every line goes through, and the logging set-up of `pledge serve`.

uvicorn loads this module in every worker before the worker answers its supervisor's first
health check, so it imports nothing of the application.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

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
    return uuid.uuid4().hex


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


def log_handler(log_format: str = "text", stream: IO[str] | None = None) -> logging.Handler:
    """The handler every log line goes through: the format, the request id, the redaction."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactFilter())
    return handler


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
            }
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
