"""Uploaded images are decoded in small child processes, never in the web process.

Decoding the largest image an upload may carry takes about a hundred megabytes for a moment.
In a web process that already holds the app, that moment would push it well past its usual
size, once per worker; a decoder crash would take the requests of that worker with it. A
decoder process imports only Pillow and pledge.hoaxes.media, so its peak is what the image
needs on top of a small interpreter, and the web process never holds more than the upload.

Each web process keeps up to DECODERS children, started on the first upload. A child that
grew past RETIRE_ABOVE_KIB after an image leaves once it has answered, and one that waited
IDLE_SECONDS with nothing to do leaves too, so an idle site holds no decoder.

An image may cost its decoder CPU_SECONDS of processor time, no more: the system stops a
decoder that goes over (SIGXCPU), and the upload is refused as too slow to check. Time spent
waiting for a busy processor does not count; TIMEOUT_SECONDS bounds the wait as a whole.

The decoders are shared fairly among senders (see FairSlots): each sender's uploads wait
behind each other, never in front of another sender's, and a sender may have only
WAITING_PER_SENDER uploads waiting at once.

The protocol on the child's stdin and stdout, between processes of the same install:
a request is the locale and the upload, each preceded by its length, with the processor
seconds the image may take between them; the answer is a pickled (kind, value, retiring,
peak_kib) tuple, preceded by its length.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import pickle
import queue
import resource
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from pledge.hoaxes import media
from pledge.i18n import get_locale, set_locale
from pledge.i18n import gettext as _

DECODERS = 2
# Processor time one image may take in its decoder: real screenshots and photos take well
# under a second.
CPU_SECONDS = 5
# An image must be decoded within this time, or its decoder is stopped and the upload refused.
TIMEOUT_SECONDS = 60.0
# Uploads of one sender (an address, see networks.limit_key) that may wait for a decoder at
# once, and uploads of all senders: each waiting upload is held in memory.
WAITING_PER_SENDER = 8
WAITING_MAX = 16
IDLE_SECONDS = 60.0
RETIRE_ABOVE_KIB = 64 * 1024
_LENGTH = struct.Struct(">Q")
_MAX_PARTS = 2


class _Child:
    """One decoder process, answering one image at a time."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pledge.hoaxes.decoder"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def ask(
        self, operation: str, parts: list[bytes], *, locale: str, cpu_seconds: int, timeout: float
    ) -> tuple[str, object, bool, int]:
        assert self.process.stdin is not None and self.process.stdout is not None
        deadline = time.monotonic() + timeout
        language, name = locale.encode(), operation.encode()
        stdin = self.process.stdin
        stdin.write(
            _LENGTH.pack(len(language))
            + language
            + _LENGTH.pack(cpu_seconds)
            + _LENGTH.pack(len(name))
            + name
            + _LENGTH.pack(len(parts))
        )
        for part in parts:
            stdin.write(_LENGTH.pack(len(part)))
            stdin.write(part)
        stdin.flush()
        out = self.process.stdout.fileno()
        (size,) = _LENGTH.unpack(_read(out, _LENGTH.size, deadline))
        kind, value, retiring, peak = pickle.loads(_read(out, size, deadline))  # noqa: S301
        return kind, value, retiring, peak

    def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def kill(self) -> None:
        self.process.kill()
        self.close()


def _read(fd: int, size: int, deadline: float) -> bytes:
    parts: list[bytes] = []
    left = size
    while left:
        wait = deadline - time.monotonic()
        if wait <= 0 or not select.select([fd], [], [], wait)[0]:
            raise TimeoutError("the decoder did not answer in time")
        part = os.read(fd, min(left, 1 << 20))
        if not part:
            raise EOFError("the decoder stopped")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class Decoded:
    image: media.ProcessedImage | None
    refusal: str | None  # why the image was refused, in the request's language
    peak_kib: int  # the decoder process's peak resident memory so far (VmHWM)


@dataclass(frozen=True, slots=True)
class Compared:
    """difference.Comparison in plain values: the web process never imports OpenCV."""

    outcome: str  # difference.Outcome
    regions: tuple[tuple[int, int, int, int, float], ...]  # x, y, width, height, share
    matches: int
    changed_share: float
    overlay: bytes
    aligned: bytes


class Busy(Exception):
    """No decoder for this upload: its sender, or everyone, already has too many waiting, or
    none came free in time."""


class FairSlots:
    """The decoders of a process, handed out in turn among senders.

    A free decoder goes to the sender who has waited longest since their last turn: each
    sender's uploads wait behind each other, and a sender with forty uploads waiting delays
    another sender's one upload by at most one turn per decoder, not forty.
    """

    def __init__(self, size: int, *, per_sender: int, waiting_max: int) -> None:
        self.per_sender = per_sender
        self.waiting_max = waiting_max
        self._free = size
        self._lock = threading.Lock()
        # Waiting uploads by sender; the order of the senders is the order of their turns.
        self._waiting: dict[str, deque[threading.Event]] = {}
        self._count = 0

    @contextlib.contextmanager
    def slot(self, sender: str, timeout: float) -> Iterator[None]:
        """Hold a decoder while the block runs; Busy when none can be had."""
        turn = self._queue(sender)
        if turn is not None and not turn.wait(timeout):
            with self._lock:
                if not turn.is_set():  # still waiting: give up the place
                    self._leave(sender, turn)
                    raise Busy
        try:
            yield
        finally:
            self._release()

    def _queue(self, sender: str) -> threading.Event | None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return None
            line = self._waiting.get(sender)
            if self._count >= self.waiting_max or (line and len(line) >= self.per_sender):
                raise Busy
            turn = threading.Event()
            self._waiting.setdefault(sender, deque()).append(turn)
            self._count += 1
            return turn

    def _leave(self, sender: str, turn: threading.Event) -> None:
        line = self._waiting[sender]
        line.remove(turn)
        self._count -= 1
        if not line:
            del self._waiting[sender]

    def _release(self) -> None:
        with self._lock:
            if not self._waiting:
                self._free += 1
                return
            # The decoder passes straight to the next sender in turn, who goes to the back.
            sender = next(iter(self._waiting))
            line = self._waiting.pop(sender)
            turn = line.popleft()
            self._count -= 1
            if line:
                self._waiting[sender] = line
            turn.set()


class Decoders:
    """The decoder processes of this web process."""

    def __init__(self, size: int = DECODERS, *, cpu_seconds: int = CPU_SECONDS) -> None:
        self.cpu_seconds = cpu_seconds
        self._slots = FairSlots(size, per_sender=WAITING_PER_SENDER, waiting_max=WAITING_MAX)
        self._idle: queue.LifoQueue[_Child] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def decode(self, raw: bytes, *, sender: str = "", timeout: float = TIMEOUT_SECONDS) -> Decoded:
        """media.process_upload in a decoder process, with the decoder's peak memory. The
        sender's uploads take their turns with everyone else's."""
        kind, value, peak = self._ask("image", [raw], sender=sender, timeout=timeout)
        if kind == "image" and isinstance(value, media.ProcessedImage):
            return Decoded(image=value, refusal=None, peak_kib=peak)
        return Decoded(image=None, refusal=str(value), peak_kib=peak)

    def compare(
        self, original: bytes, suspect: bytes, *, sender: str = "", timeout: float = TIMEOUT_SECONDS
    ) -> Compared:
        """difference.compare of two stored pictures in a decoder process (OpenCV is loaded
        there, never in the web process); MediaError when the decoder could not answer."""
        kind, value, _peak = self._ask(
            "compare", [original, suspect], sender=sender, timeout=timeout
        )
        if kind == "comparison" and isinstance(value, tuple):
            return Compared(*value)
        raise media.MediaError(str(value))

    def _ask(
        self, operation: str, parts: list[bytes], *, sender: str, timeout: float
    ) -> tuple[str, object, int]:
        """An answer of a decoder process, in the sender's turn: (kind, value, peak KiB), or
        ("refused", message, 0) when none could answer."""
        started = time.monotonic()
        try:
            with self._slots.slot(sender, timeout):
                return self._ask_child(operation, parts, timeout - (time.monotonic() - started))
        except Busy:
            return "refused", str(busy()), 0

    def _ask_child(
        self, operation: str, parts: list[bytes], timeout: float
    ) -> tuple[str, object, int]:
        child = self._take()
        try:
            kind, value, retiring, peak = child.ask(
                operation,
                parts,
                locale=get_locale(),
                cpu_seconds=self.cpu_seconds,
                timeout=timeout,
            )
        except (OSError, EOFError, TimeoutError, pickle.UnpicklingError, struct.error):
            # Killed by the system (out of memory, or over its processor time), crashed in the
            # decoder, or too slow: the image is refused and the next upload gets a new decoder.
            child.kill()
            if child.process.returncode == -signal.SIGXCPU:
                return "refused", str(media.unusual()), 0
            return "refused", str(media.damaged()), 0
        if retiring:
            child.close()
        else:
            self._idle.put(child)
        return kind, value, peak

    def process_upload(self, raw: bytes, *, sender: str = "") -> media.ProcessedImage:
        """media.process_upload, in a decoder process: the same answers and refusals."""
        decoded = self.decode(raw, sender=sender)
        if decoded.image is None:
            raise media.MediaError(decoded.refusal or str(media.damaged()))
        return decoded.image

    def _take(self) -> _Child:
        if os.getpid() != self._pid:
            # A forked copy of this process: the children belong to the parent.
            self._idle = queue.LifoQueue()
            self._pid = os.getpid()
        while True:
            try:
                child = self._idle.get_nowait()
            except queue.Empty:
                return _Child()
            if child.alive():
                return child
            child.close()  # it left after waiting idle

    def close(self) -> None:
        while True:
            try:
                child = self._idle.get_nowait()
            except queue.Empty:
                return
            child.close()


decoders = Decoders()
atexit.register(decoders.close)


def process_upload(raw: bytes, *, sender: str = "") -> media.ProcessedImage:
    return decoders.process_upload(raw, sender=sender)


def busy() -> media.MediaError:
    return media.MediaError(
        _(
            "Many pictures are being checked right now. Please wait a minute and send your "
            "report again."
        )
    )


# --- the child ---------------------------------------------------------------------------


def _status_kib(field: str) -> int:
    """A memory figure of this process from Linux's /proc (0 where there is none)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _limit_processor_time(seconds: int) -> None:
    """Let the system stop this process (SIGXCPU) once it has used about `seconds` more of
    processor time (the limit is in whole seconds of the process's total: between
    `seconds` - 1 and `seconds` more)."""
    used = math.floor(time.process_time())
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    limit = used + seconds if hard == resource.RLIM_INFINITY else min(used + seconds, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (limit, hard))


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    parts: list[bytes] = []
    left = size
    while left:
        part = stream.read(left)
        if not part:
            return None  # the web process closed the pipe
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _read_field(stream: BinaryIO) -> bytes | None:
    head = _read_exactly(stream, _LENGTH.size)
    return None if head is None else _read_exactly(stream, _LENGTH.unpack(head)[0])


def _read_number(stream: BinaryIO) -> int | None:
    head = _read_exactly(stream, _LENGTH.size)
    return None if head is None else int(_LENGTH.unpack(head)[0])


def _read_request(stream: BinaryIO) -> tuple[str, int, str, list[bytes]] | None:
    """The next request: its language, processor seconds, operation and parts; None once the
    web process has closed the pipe."""
    language = _read_field(stream)
    cpu = _read_number(stream)
    operation = _read_field(stream)
    count = _read_number(stream)
    if language is None or cpu is None or operation is None or count is None:
        return None
    parts: list[bytes] = []
    for _part in range(min(count, _MAX_PARTS)):
        part = _read_field(stream)
        if part is None:
            return None
        parts.append(part)
    return language.decode(), cpu, operation.decode(), parts


def _answer(operation: str, parts: list[bytes]) -> tuple[str, object]:
    """What a decoder answers: an upload checked and re-encoded, or two stored pictures
    compared (OpenCV is imported for that only, so a decoder that never compares stays
    small; one that did is retired by its size)."""
    if operation == "image" and len(parts) == 1:
        try:
            return "image", media.process_upload(parts[0])
        except media.MediaError as error:
            return "refused", str(error)
    if operation == "compare" and len(parts) == 2:
        import cv2

        from pledge.hoaxes import difference

        # One thread: the processor-time limit counts every thread, and the web process's
        # cores are not the decoder's to take.
        cv2.setNumThreads(1)
        found = difference.compare(parts[0], parts[1])
        # Plain values: this module runs as __main__ here, so its classes would not unpickle.
        regions = tuple(
            (region.x, region.y, region.width, region.height, region.share)
            for region in found.regions
        )
        values = (str(found.outcome), regions, found.matches, found.changed_share)
        return "comparison", (*values, found.overlay, found.aligned_original)
    return "refused", str(media.damaged())


def serve(requests: BinaryIO, answers: BinaryIO, *, own_process: bool = False) -> None:
    """Answer images until the web process closes the pipe or none came for a while. In a
    decoder process of its own, each image's processor time is limited."""
    while True:
        if not select.select([requests], [], [], IDLE_SECONDS)[0]:
            return
        request = _read_request(requests)
        if request is None:
            return
        language, cpu, operation, parts = request
        set_locale(language)
        if own_process:
            _limit_processor_time(cpu)
        answer = _answer(operation, parts)
        del parts, request
        retiring = _status_kib("VmRSS") > RETIRE_ABOVE_KIB
        data = pickle.dumps((*answer, retiring, _status_kib("VmHWM")))
        answers.write(_LENGTH.pack(len(data)) + data)
        answers.flush()
        if retiring:
            return


def main() -> None:
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Answers go to a copy of stdout; anything a library prints goes to stderr instead.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    # Unbuffered: select() must see every byte that is waiting.
    requests = os.fdopen(0, "rb", buffering=0)
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        serve(requests, answers, own_process=True)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
