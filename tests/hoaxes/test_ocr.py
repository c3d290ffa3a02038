"""Text read from screenshots with tesseract, and nothing when there is none or no tesseract."""

from __future__ import annotations

import logging
import shutil

import pytest
from PIL import Image, ImageDraw, ImageFont

from pledge.hoaxes import ocr

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SENTENCE = "Relawan muda Surabaya menemukan 12 kotak suara"

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="tesseract is not installed"
)


def rendered(lines: list[str], size: tuple[int, int] = (1300, 700)) -> Image.Image:
    image = Image.new("RGB", size, (246, 246, 246))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 44)
    for index, line in enumerate(lines):
        draw.text((40, 60 + index * 70), line, font=font, fill=(20, 20, 24))
    return image


@needs_tesseract
def test_an_indonesian_sentence_is_read() -> None:
    text = ocr.read_text(rendered([SENTENCE, "pada tanggal 17 Agustus 2024."]))

    assert ocr.words(text) == ocr.words(SENTENCE + "\npada tanggal 17 Agustus 2024.")


@needs_tesseract
def test_white_text_on_a_dark_bar_is_read() -> None:
    image = Image.new("RGB", (1080, 300), (7, 94, 84))
    ImageDraw.Draw(image).text(
        (40, 100), "Kabar Pemilu Hari Ini", font=ImageFont.truetype(FONT, 52), fill="white"
    )

    assert ocr.words(ocr.read_text(image)) == ["kabar", "pemilu", "hari", "ini"]


def test_a_photo_without_text_reads_nothing() -> None:
    sky = Image.linear_gradient("L").resize((900, 1200))
    photo = Image.merge("RGB", [sky, sky.point(lambda v: 255 - v // 2), sky])
    ImageDraw.Draw(photo).ellipse((200, 500, 700, 1000), fill=(200, 120, 40))

    assert ocr.read_text(photo) == ""


def test_tiny_images_read_nothing_quickly() -> None:
    assert ocr.read_text(Image.new("RGB", (10, 10), "white")) == ""


def test_without_tesseract_the_text_is_empty_and_one_warning_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(ocr, "TESSERACT", "/nonexistent/tesseract")
    monkeypatch.setattr(ocr, "_warned", False)
    image = rendered([SENTENCE])

    with caplog.at_level(logging.WARNING, logger=ocr.__name__):
        assert ocr.read_text(image) == ""
        assert ocr.read_text(image) == ""

    assert len([r for r in caplog.records if "tesseract" in r.getMessage()]) == 1


def test_a_failing_tesseract_gives_no_text(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pytest.TempPathFactory
) -> None:
    broken = tmp_path / "tesseract"  # type: ignore[operator]
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setattr(ocr, "TESSERACT", str(broken))

    assert ocr.read_text(rendered([SENTENCE])) == ""
