"""Uploads built to be slow cannot starve reporting: files of an absurd structure are refused
before they are decoded, an image may cost its decoder only a few seconds of processor time,
and the decoders are shared fairly among senders."""

from __future__ import annotations

import io
import threading
import time
import zlib
from collections.abc import Iterator

import pytest
from PIL import Image

from pledge.hoaxes import decoder, media
from pledge.hoaxes.decoder import Busy, Decoders, FairSlots

UNUSUAL = "This picture's file is built in an unusual way and cannot be checked."


def small_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 60, 40)).save(out, "JPEG", quality=90)
    return out.getvalue()


def jpeg_with_empty_segments(count: int) -> bytes:
    """A real JPEG with `count` empty comment segments (FF FE 00 02) before its frame."""
    raw = small_jpeg()
    return raw[:2] + b"\xff\xfe\x00\x02" * count + raw[2:]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")


def png_in_chunks_of(size: int, dimensions: tuple[int, int] = (64, 48)) -> tuple[bytes, int]:
    """A real PNG whose pixel data is split into IDAT chunks of `size` bytes, and how many."""
    out = io.BytesIO()
    Image.effect_noise(dimensions, 50).convert("RGB").save(out, "PNG")
    raw = out.getvalue()
    ihdr_end = 8 + 25
    data = b""
    position = ihdr_end
    while position < len(raw):
        length = int.from_bytes(raw[position : position + 4], "big")
        if raw[position + 4 : position + 8] == b"IDAT":
            data += raw[position + 8 : position + 8 + length]
        position += 12 + length
    pieces = [data[n : n + size] for n in range(0, len(data), size)]
    built = raw[:ihdr_end] + b"".join(png_chunk(b"IDAT", p) for p in pieces)
    return built + png_chunk(b"IEND", b""), len(pieces)


def refusal(raw: bytes) -> str:
    with pytest.raises(media.MediaError) as caught:
        media.process_upload(raw)
    return str(caught.value)


# --- absurd structure, refused before decoding --------------------------------------------


def test_a_jpeg_of_millions_of_empty_segments_is_refused_before_pillow_opens_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[object] = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    raw = jpeg_with_empty_segments(2_400_000)  # 9.6 MB
    assert refusal(raw).startswith(UNUSUAL)
    assert opened == []  # refused from the bytes alone


def test_a_jpeg_with_some_empty_segments_is_still_taken() -> None:
    image = media.process_upload(jpeg_with_empty_segments(media.MAX_JPEG_SEGMENTS - 20))
    assert (image.width, image.height) == (64, 48)


def test_a_png_of_one_byte_chunks_is_refused_before_pillow_opens_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw, chunks = png_in_chunks_of(1, (700, 500))
    assert chunks > media.MAX_PNG_CHUNKS
    opened: list[object] = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    assert refusal(raw).startswith(UNUSUAL)
    assert opened == []


def test_a_png_in_many_small_chunks_within_the_limit_is_taken() -> None:
    raw, chunks = png_in_chunks_of(64, (300, 200))
    assert 1000 < chunks < media.MAX_PNG_CHUNKS
    image = media.process_upload(raw)
    assert (image.width, image.height) == (300, 200)


def test_the_refusal_is_in_the_reporters_language() -> None:
    from pledge import i18n

    i18n.set_locale("id")
    try:
        message = refusal(jpeg_with_empty_segments(5000))
    finally:
        i18n.set_locale("en")
    assert message and not message.startswith(UNUSUAL)


# --- processor time per image -------------------------------------------------------------


@pytest.fixture
def strict_decoders() -> Iterator[Decoders]:
    # No processor time at all: the system stops the decoder as soon as it starts on an image.
    own = Decoders(size=1, cpu_seconds=0)
    yield own
    own.close()


def test_a_decoder_over_its_processor_time_is_stopped_and_the_upload_refused(
    strict_decoders: Decoders,
) -> None:
    out = io.BytesIO()
    Image.effect_noise((2400, 2400), 60).convert("RGB").save(out, "PNG")
    decoded = strict_decoders.decode(out.getvalue())
    assert decoded.image is None
    assert decoded.refusal is not None and decoded.refusal.startswith(UNUSUAL)
    assert strict_decoders._idle.empty()  # that decoder is gone
    # With time to work, the next upload gets a new decoder and is taken.
    strict_decoders.cpu_seconds = decoder.CPU_SECONDS
    assert strict_decoders.process_upload(small_jpeg()).width == 64


# --- a fair share of the decoders -----------------------------------------------------------


def run_in_turns(slots: FairSlots, uploads: list[str], hold: threading.Event) -> list[str]:
    """Queue the uploads (by sender) in this order behind one upload that holds the only
    decoder, then free it; the order in which the uploads got the decoder."""
    served: list[str] = []
    lock = threading.Lock()

    def upload(name: str) -> None:
        with slots.slot(name.split("-")[0], timeout=30), lock:
            served.append(name)

    def holder() -> None:
        with slots.slot("first", timeout=30):
            hold.wait(30)

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    while slots._free:
        time.sleep(0.001)
    for name in uploads:
        thread = threading.Thread(target=upload, args=(name,))
        thread.start()
        threads.append(thread)
        # Queued in this order: each waits before the next starts.
        while sum(len(line) for line in slots._waiting.values()) < len(threads) - 1:
            time.sleep(0.001)
    hold.set()
    for thread in threads:
        thread.join(30)
    return served


def test_one_sender_with_many_uploads_does_not_queue_another_behind_them_all() -> None:
    slots = FairSlots(1, per_sender=4, waiting_max=16)
    served = run_in_turns(slots, ["a-1", "a-2", "a-3", "a-4", "b-1"], threading.Event())
    # b's one upload goes second, not fifth.
    assert served == ["a-1", "b-1", "a-2", "a-3", "a-4"]
    assert (slots._free, slots._waiting) == (1, {})


def test_a_sender_with_too_many_waiting_is_told_to_wait_and_others_still_queue() -> None:
    slots = FairSlots(1, per_sender=2, waiting_max=3)
    hold = threading.Event()
    served: list[str] = []

    def upload(sender: str) -> None:
        with slots.slot(sender, timeout=30):
            served.append(sender)
            hold.wait(30)

    threads = [threading.Thread(target=upload, args=("a",)) for _ in range(3)]
    for thread in threads:
        thread.start()
    while slots._count < 2:
        time.sleep(0.001)
    with pytest.raises(Busy), slots.slot("a", timeout=30):  # a's third waiting upload
        pass
    threads.append(threading.Thread(target=upload, args=("b",)))
    threads[-1].start()
    while slots._count < 3:
        time.sleep(0.001)
    with pytest.raises(Busy), slots.slot("c", timeout=30):  # the process's places are full
        pass
    hold.set()
    for thread in threads:
        thread.join(30)
    assert sorted(served) == ["a", "a", "a", "b"]
    assert (slots._free, slots._count) == (1, 0)


def test_an_upload_that_waited_too_long_gives_up_its_place() -> None:
    slots = FairSlots(1, per_sender=4, waiting_max=16)
    hold = threading.Event()

    def hold_slot() -> None:
        with slots.slot("a", timeout=30):
            hold.wait(30)

    holder = threading.Thread(target=hold_slot)
    holder.start()
    while slots._free:
        time.sleep(0.001)
    with pytest.raises(Busy), slots.slot("b", timeout=0.05):
        pass
    assert slots._waiting == {}
    hold.set()
    holder.join(30)
    assert slots._free == 1  # the decoder came back, not to the one who left


def test_decoders_refuse_an_upload_with_no_place_to_wait() -> None:
    own = Decoders(size=1)
    own._slots = FairSlots(0, per_sender=0, waiting_max=0)
    decoded = own.decode(small_jpeg(), sender="a")
    assert decoded.image is None
    assert decoded.refusal == (
        "Many pictures are being checked right now. Please wait a minute and send your "
        "report again."
    )
