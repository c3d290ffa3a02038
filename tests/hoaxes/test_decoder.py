"""Uploads are decoded in decoder processes: the same answers as decoding in place, in the
request's language, with the web process's memory untouched and a dead decoder replaced."""

from __future__ import annotations

import io
import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from pledge import i18n
from pledge.hoaxes import decoder, media
from pledge.hoaxes.decoder import Decoders

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024


def screenshot(size: tuple[int, int] = (1080, 2400)) -> bytes:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for row in range(0, size[1], 120):
        draw.rectangle((40, row + 20, size[0] - 40, row + 90), fill=(row % 255, 90, 160))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def decoders() -> Iterator[Decoders]:
    own = Decoders(size=1)
    yield own
    own.close()


def test_a_decoder_process_answers_as_decoding_in_place_would(decoders: Decoders) -> None:
    raw = screenshot()
    here = media.process_upload(raw)
    there = decoders.process_upload(raw)
    assert (there.width, there.height, there.mime) == (here.width, here.height, "image/jpeg")
    assert there.sha256 == here.sha256
    assert there.phash == here.phash


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", "Only JPEG, PNG and WebP images can be uploaded."),
        ("id", None),  # the Indonesian catalogue's words for the same refusal
    ],
)
def test_a_refusal_comes_back_in_the_language_of_the_request(
    decoders: Decoders, locale: str, message: str | None
) -> None:
    i18n.set_locale(locale)
    expected = message or str(media._not_an_image())
    with pytest.raises(media.MediaError) as caught:
        decoders.process_upload(b"GIF89a not what we take")
    assert str(caught.value) == expected
    if locale == "id":
        assert expected != "Only JPEG, PNG and WebP images can be uploaded."


def test_one_decoder_serves_upload_after_upload(decoders: Decoders) -> None:
    first = decoders.process_upload(screenshot((600, 800)))
    child = decoders._idle.get_nowait()
    decoders._idle.put(child)
    second = decoders.process_upload(screenshot((800, 600)))
    assert (first.width, second.width) == (600, 800)
    assert decoders._idle.get_nowait() is child  # the same process, still waiting
    child.close()


def test_a_decoder_killed_while_waiting_is_replaced(decoders: Decoders) -> None:
    decoders.process_upload(screenshot((600, 800)))
    child = decoders._idle.get_nowait()
    os.kill(child.process.pid, signal.SIGKILL)
    child.process.wait(timeout=10)
    decoders._idle.put(child)

    assert decoders.process_upload(screenshot((600, 800))).width == 600
    replacement = decoders._idle.get_nowait()
    assert replacement is not child and replacement.alive()
    replacement.close()


def test_a_decoder_too_slow_is_stopped_and_the_upload_refused(decoders: Decoders) -> None:
    decoded = decoders.decode(screenshot((3000, 4000)), timeout=0.001)
    assert decoded.image is None
    assert decoded.refusal == "The image is damaged or incomplete."
    assert decoders._idle.empty()  # that decoder is gone
    # The next upload gets a new decoder.
    assert decoders.process_upload(screenshot((600, 800))).height == 800


WEB_PROCESS = """
import json, sys
from pledge.hoaxes import decoder

def status(field):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) for line in lines if line.startswith(field + ":"))

raw = open(sys.argv[1], "rb").read()
assert decoder.decoders.decode(raw[:100]).refusal  # starts the decoder: refused, cut short
before = status("VmHWM")
result = decoder.decoders.decode(raw)
print(json.dumps({"grew_kib": status("VmHWM") - before, "decoder_kib": result.peak_kib,
                  "side": max(result.image.width, result.image.height)}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux /proc")
def test_the_web_process_never_holds_the_decoded_picture(tmp_path: Path) -> None:
    """A 4500 x 4800 PNG takes over 80 MB to decode; the process that took the upload grows by
    a few megabytes at most, while its decoder did the work."""
    image = Image.new("RGBA", (4500, 4800), (200, 30, 30, 180))
    path = tmp_path / "upload.png"
    image.save(path, "PNG", compress_level=1)
    completed = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    measured = json.loads(completed.stdout)
    assert measured["side"] == media.MAX_SIDE
    assert measured["decoder_kib"] * 1024 > 80 * MB  # the work happened over there
    assert measured["grew_kib"] * 1024 < 8 * MB, measured


# --- the decoder's side of the pipe ---------------------------------------------------------


def request(raw: bytes, locale: str = "en", cpu_seconds: int = 5) -> bytes:
    language = locale.encode()
    head = struct.Struct(">Q")
    operation = b"image"
    return (
        head.pack(len(language))
        + language
        + head.pack(cpu_seconds)
        + head.pack(len(operation))
        + operation
        + head.pack(1)
        + head.pack(len(raw))
        + raw
    )


def read_answer(fd: int) -> tuple[object, ...]:
    with os.fdopen(fd, "rb") as answers:
        data = answers.read()
    (size,) = struct.unpack(">Q", data[:8])
    answer: tuple[object, ...] = pickle.loads(data[8 : 8 + size])  # noqa: S301
    return answer


def test_a_decoder_with_nothing_to_do_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decoder, "IDLE_SECONDS", 0.05)
    requests_r, requests_w = os.pipe()
    answers_r, answers_w = os.pipe()
    with os.fdopen(requests_r, "rb", buffering=0) as requests, os.fdopen(answers_w, "wb") as out:
        finished = threading.Event()
        thread = threading.Thread(target=lambda: (decoder.serve(requests, out), finished.set()))
        thread.start()
        thread.join(timeout=60)
        assert finished.is_set()  # left on its own, with the pipe still open
    os.close(requests_w)
    os.close(answers_r)


def test_a_decoder_that_grew_answers_then_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decoder, "RETIRE_ABOVE_KIB", 0)
    raw = screenshot((600, 800))
    requests_r, requests_w = os.pipe()
    answers_r, answers_w = os.pipe()
    with os.fdopen(requests_r, "rb", buffering=0) as requests, os.fdopen(answers_w, "wb") as out:
        thread = threading.Thread(target=decoder.serve, args=(requests, out))
        thread.start()
        with os.fdopen(requests_w, "wb") as writer:
            writer.write(request(raw))
            writer.flush()
            thread.join(timeout=30)
            assert not thread.is_alive()  # it left before the pipe closed
    kind, value, retiring, peak = read_answer(answers_r)
    assert kind == "image" and isinstance(value, media.ProcessedImage) and value.width == 600
    assert retiring is True
    assert isinstance(peak, int) and peak > 0
