"""Uploaded images against a hostile corpus made here: bombs, impostors, polyglots, metadata."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from PIL import (
    Image,
    ImageChops,
    ImageCms,
    ImageDraw,
    ImageFile,
    ImageFilter,
    ImageFont,
    ImageOps,
    ImageStat,
)
from PIL.PngImagePlugin import PngInfo

from pledge.hoaxes import media, stamp
from pledge.hoaxes.decoder import Decoders
from pledge.hoaxes.media import (
    MAX_SIDE,
    SIMILAR_BITS,
    MediaError,
    ProcessedImage,
    bands,
    dhash,
    hamming,
    open_stored,
    process_upload,
)
from pledge.hoaxes.models import Verdict

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
GPS_IFD = 0x8825
EXIF_IFD = 0x8769
ORIENTATION = 0x0112
TYPES_MESSAGE = "Only JPEG, PNG and WebP images can be uploaded."
DAMAGED_MESSAGE = "The image is damaged or incomplete."


# --- the corpus ------------------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def shapes(seed: int, size: tuple[int, int] = (1200, 900)) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    width, height = size
    for _ in range(10):
        x, y = rng.randrange(width), rng.randrange(height)
        reach = (rng.randrange(width // 20, width // 2), rng.randrange(height // 20, height // 2))
        box = (x, y, x + reach[0] + 1, y + reach[1] + 1)
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    return image


def chat(seed: int, size: tuple[int, int] = (1080, 2400)) -> Image.Image:
    """A messenger screenshot: a title bar and bubbles of text on a pale background."""
    rng = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size, (236, 229, 221))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=40)
    draw.rectangle((0, 0, width, 130), fill=(7, 94, 84))
    y = 160
    while y < height - 300:
        lines = rng.randint(1, 6)
        right = rng.random() < 0.5
        left = 300 if right else 40
        bubble = (left, y, left + width - 340, y + lines * 50 + 40)
        draw.rounded_rectangle(bubble, 20, fill=(220, 248, 198) if right else (255, 255, 255))
        for line in range(lines):
            words = "".join(rng.choice("abcdefghij klmnop qrstu") for _ in range(30))
            draw.text((left + 20, y + 20 + line * 50), words, fill="black", font=font)
        y = bubble[3] + rng.randint(20, 60)
    return image


def headline(text: str, seed: int) -> Image.Image:
    """Large text drawn on a plain background, where the seed moves it about."""
    rng = random.Random(seed)
    image = Image.new("RGB", (1200, 800), "white")
    draw = ImageDraw.Draw(image)
    draw.multiline_text(
        (rng.randrange(20, 300), rng.randrange(20, 400)),
        text,
        fill=(rng.randrange(100), 0, rng.randrange(100)),
        font=ImageFont.load_default(size=rng.randrange(70, 130)),
    )
    return image


def gradient(angle: int) -> Image.Image:
    return Image.linear_gradient("L").rotate(angle).resize((1000, 700)).convert("RGB")


def noise(size: tuple[int, int], sigma: int = 40) -> Image.Image:
    return Image.effect_noise(size, sigma).convert("RGB")


def photo(seed: int) -> Image.Image:
    """A landscape-like photo: a sky, soft shapes on the ground and sensor grain."""
    size = (1600, 1200)
    sky = Image.linear_gradient("L").resize(size)
    picture = Image.merge(
        "RGB", [sky.point(lambda v: 90 + v // 2), sky, sky.point(lambda v: 255 - v // 3)]
    )
    ground = shapes(seed, (1600, 500)).filter(ImageFilter.GaussianBlur(12))
    picture.paste(ground, (0, 700))
    return Image.blend(picture, noise(size, 30), 0.15)


def halves(size: tuple[int, int], first: str, second: str, *, across: bool) -> Image.Image:
    """Two colours side by side (across) or one above the other."""
    image = Image.new("RGB", size, first)
    width, height = size
    box = (width // 2, 0, width, height) if across else (0, height // 2, width, height)
    ImageDraw.Draw(image).rectangle(box, fill=second)
    return image


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG header for a huge picture, followed by one tiny compressed row."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def webp_claiming(width: int, height: int) -> bytes:
    """An extended WebP whose canvas is width x height (what libwebp allocates on opening)."""
    vp8x = (
        b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    )
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


def jpeg_claiming(
    width: int, height: int, *, progressive: bool = False, scan_components: int = 3
) -> bytes:
    """Markers only: a frame of width x height in full-resolution colour, and a scan header."""
    frame = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00"
    sof = b"\xff\xc2" if progressive else b"\xff\xc0"
    scan = bytes([scan_components]) + b"".join(
        bytes([component, 0]) for component in range(1, scan_components + 1)
    )
    scan += b"\x00\x3f\x00"
    return (
        b"\xff\xd8"
        + sof
        + struct.pack(">H", len(frame) + 2)
        + frame
        + b"\xff\xda"
        + struct.pack(">H", len(scan) + 2)
        + scan
        + b"\x00" * 64
        + b"\xff\xd9"
    )


def gps_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    if orientation is not None:
        exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {
        1: "S",  # latitude ref
        2: (6.0, 10.0, 30.5),  # latitude: central Jakarta
        3: "E",
        4: (106.0, 49.0, 44.0),
    }
    return exif


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def mean_colour(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[float, ...]:
    return tuple(ImageStat.Stat(image.convert("RGB").crop(box)).mean)


def close_to(
    colour: tuple[float, ...], expected: tuple[int, int, int], tolerance: int = 16
) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def refused(raw: bytes) -> str:
    with pytest.raises(MediaError) as caught:
        process_upload(raw)
    return str(caught.value)


# --- what comes out ------------------------------------------------------------------------


def test_output_is_a_jpeg_described_by_its_fields() -> None:
    result = process_upload(encode(shapes(1, (640, 480)), "PNG"))

    assert isinstance(result, ProcessedImage)
    stored = opened(result.data)
    assert stored.format == "JPEG"
    assert result.mime == "image/jpeg"
    assert (result.width, result.height) == stored.size == (640, 480)
    assert result.sha256 == hashlib.sha256(result.data).hexdigest()
    assert hamming(result.phash, dhash(stored)) <= 2  # hashed before encoding, nearly the same
    assert -(2**63) <= result.phash < 2**63


def test_the_same_upload_gives_the_same_bytes() -> None:
    raw = encode(shapes(2), "JPEG", quality=90)

    assert process_upload(raw) == process_upload(raw)


# --- refused by type -------------------------------------------------------------------------


def test_an_empty_file_is_refused() -> None:
    assert refused(b"") == "The file is empty."


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"<html><body><script>alert(1)</script></body></html>", id="html-named-jpg"),
        pytest.param(b"<!DOCTYPE html><img src=x onerror=alert(1)>", id="doctype"),
        pytest.param(
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            id="svg-named-jpg",
        ),
        pytest.param(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', id="xml"),
        pytest.param(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF", id="pdf"),
        pytest.param(b"just some text, with a .png name", id="text"),
        pytest.param(b"\x00" * 100, id="zeros"),
        pytest.param(b"\xff\xd8", id="two-bytes-of-jpeg"),
        pytest.param(b"RIFF\x00\x00\x00\x00WAVEfmt ", id="wav"),
    ],
)
def test_what_is_not_an_image_is_refused_by_its_bytes(raw: bytes) -> None:
    assert refused(raw) == TYPES_MESSAGE


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO", "PPM"])
def test_other_image_types_are_refused(fmt: str) -> None:
    message = refused(encode(shapes(3, (64, 48)), fmt))

    assert message == TYPES_MESSAGE
    assert all(name in message for name in ("JPEG", "PNG", "WebP"))


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\xff\xd8\xff<html><script>alert(1)</script></html>", id="jpeg-magic-html"),
        pytest.param(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00<script>alert(1)</script>", id="jfif-js"),
        pytest.param(b"\x89PNG\r\n\x1a\n<svg onload=alert(1)>", id="png-magic-svg"),
        pytest.param(b"RIFF\x10\x00\x00\x00WEBP<html></html>", id="webp-magic-html"),
    ],
)
def test_magic_bytes_followed_by_markup_are_refused(raw: bytes) -> None:
    assert refused(raw) == TYPES_MESSAGE


def test_a_png_named_by_jpeg_magic_is_refused() -> None:
    """The sniffed type and the one Pillow reads must agree: here the IHDR is missing."""
    png = encode(shapes(4, (32, 32)), "PNG")

    assert refused(b"\xff\xd8\xff" + png) == TYPES_MESSAGE


@pytest.mark.parametrize(
    ("fmt", "trailer"),
    [
        ("JPEG", b"<script>alert('polyglot')</script>"),
        ("PNG", b"<html><script>alert('polyglot')</script></html>"),
        ("WEBP", b"<script>alert('polyglot')</script>"),
    ],
)
def test_script_appended_to_a_real_image_does_not_survive(fmt: str, trailer: bytes) -> None:
    raw = encode(shapes(5, (300, 200)), fmt) + trailer
    assert trailer in raw

    result = process_upload(raw)

    assert b"script" not in result.data
    assert b"alert" not in result.data
    assert opened(result.data).size == (300, 200)


def test_script_in_a_jpeg_comment_does_not_survive() -> None:
    raw = encode(shapes(6, (300, 200)), "JPEG", comment=b"<script>alert(1)</script>")
    assert opened(raw).info["comment"] == b"<script>alert(1)</script>"

    result = process_upload(raw)

    assert b"script" not in result.data
    assert "comment" not in opened(result.data).info


# --- refused by size, from the header -------------------------------------------------------


def _refused_quickly_without_pillow(raw: bytes) -> tuple[str, int, int]:
    """Refuse raw with Image.open unavailable; also how often Pillow was asked to open it
    (none: only the header was read, which is what makes the refusal quick) and the memory
    allocated at the peak."""
    tracemalloc.start()
    try:
        with mock.patch.object(Image, "open", side_effect=OSError("opened")) as opener:
            message = refused(raw)
    finally:
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return message, opener.call_count, peak


def test_a_png_claiming_30000_by_30000_is_refused_from_its_header() -> None:
    raw = png_claiming(30000, 30000)
    assert len(raw) < 200

    message, opened, peak = _refused_quickly_without_pillow(raw)

    assert "too large" in message
    assert "30000 × 30000" in message
    assert opened == 0
    assert peak < MB


def test_a_png_between_our_limit_and_pillows_is_refused_by_ours() -> None:
    """49 megapixels: Pillow would not even warn (its limit is about 89), ours refuses."""
    message, _opened, peak = _refused_quickly_without_pillow(png_claiming(7000, 7000))

    assert "too large" in message
    assert peak < MB


def test_the_bomb_is_refused_by_pillow_too_if_our_check_were_missing() -> None:
    """Defence in depth: Pillow's own guard becomes a MediaError, never a 500."""
    with mock.patch.object(media, "MAX_PIXELS", 10**12):
        message = refused(png_claiming(30000, 30000))

    assert "too large" in message


def test_a_webp_canvas_beyond_the_budget_is_refused_before_pillow_allocates_it() -> None:
    for width, height in [(16383, 16383), (2600, 2600)]:
        message, opened, peak = _refused_quickly_without_pillow(webp_claiming(width, height))

        assert "too large" in message
        assert opened == 0
        assert peak < MB


def test_a_jpeg_frame_beyond_the_pixel_limit_is_refused_from_its_header() -> None:
    message, opened, peak = _refused_quickly_without_pillow(jpeg_claiming(65000, 65000))

    assert "65000 × 65000" in message
    assert opened == 0
    assert peak < MB


def test_jpegs_that_hold_all_coefficients_are_held_to_the_memory_budget() -> None:
    """6000 x 6000 in full colour: streamed it decodes at half size in 36 MB; progressive, or
    with one component per scan, libjpeg keeps 216 MB of coefficients, so it is refused."""
    streamed = jpeg_claiming(6000, 6000)
    progressive = jpeg_claiming(6000, 6000, progressive=True)
    separate_scans = jpeg_claiming(6000, 6000, scan_components=1)

    # Refused before any picture data is decoded, which is what makes it quick.
    with mock.patch.object(ImageFile.ImageFile, "load", side_effect=OSError("decoded")) as load:
        assert "too large" in refused(progressive)
        assert "too large" in refused(separate_scans)
    assert load.call_count == 0
    # The streamed one passes the limits; it has no picture data, so decoding fails.
    assert refused(streamed) == DAMAGED_MESSAGE


def test_a_jpeg_with_too_many_scans_is_refused() -> None:
    """Each scan walks the whole picture again: a few KB of scans cost minutes of CPU."""
    real = encode(shapes(7, (200, 150)), "JPEG", progressive=True)
    assert process_upload(real).width == 200

    assert refused(real + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" * 500) == DAMAGED_MESSAGE


# --- refused as damaged -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_file_cut_in_half_is_refused(fmt: str) -> None:
    whole = encode(noise((400, 300)), fmt)
    assert process_upload(whole).width == 400

    assert refused(whole[: len(whole) // 2]) == DAMAGED_MESSAGE


def test_a_png_with_a_broken_checksum_is_refused() -> None:
    raw = bytearray(encode(shapes(8, (100, 80)), "PNG"))
    raw[28] = 1  # IHDR's interlace flag, without fixing the chunk's CRC

    assert refused(bytes(raw)) == DAMAGED_MESSAGE


def test_a_png_with_corrupt_compressed_pixels_is_refused() -> None:
    raw = bytearray(encode(noise((100, 80)), "PNG"))
    idat = raw.index(b"IDAT") + 4
    raw[idat + 2 : idat + 40] = b"\xff" * 38

    assert refused(bytes(raw)) == DAMAGED_MESSAGE


def test_a_header_of_zero_pixels_is_refused() -> None:
    assert refused(png_claiming(0, 100)) == DAMAGED_MESSAGE


# --- metadata -----------------------------------------------------------------------------


def test_gps_and_all_exif_are_gone_from_a_phone_photo() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    raw = encode(
        shapes(9, (800, 600)),
        "JPEG",
        exif=gps_exif(),
        icc_profile=icc,
        xmp=b"<x:xmpmeta><exif:GPSLatitude>6,10.5S</exif:GPSLatitude></x:xmpmeta>",
    )
    source = Image.open(io.BytesIO(raw))
    assert source.getexif().get_ifd(GPS_IFD)[2] == (6.0, 10.0, 30.5)
    assert source.getexif()[0x010F] == "PhoneMaker"
    assert "icc_profile" in source.info

    result = process_upload(raw)

    stored = opened(result.data)
    assert "exif" not in stored.info
    assert len(stored.getexif()) == 0
    assert stored.getexif().get_ifd(GPS_IFD) == {}
    assert "icc_profile" not in stored.info
    assert "xmp" not in stored.info
    for trace in (b"Exif", b"PhoneMaker", b"Model X", b"GPS", b"xmpmeta"):
        assert trace not in result.data


def test_text_and_exif_chunks_of_a_png_are_gone() -> None:
    info = PngInfo()
    info.add_text("Author", "reporter@example.org")
    info.add_itxt("Comment", "diambil di Jl. Merdeka 12", zip=True)
    raw = encode(shapes(10, (400, 300)), "PNG", pnginfo=info, exif=gps_exif())
    source = Image.open(io.BytesIO(raw))
    source.load()
    assert source.info["Author"] == "reporter@example.org"
    assert source.getexif().get_ifd(GPS_IFD)[1] == "S"

    result = process_upload(raw)

    stored = opened(result.data)
    assert len(stored.getexif()) == 0
    assert b"reporter@example.org" not in result.data
    assert b"Merdeka" not in result.data


def test_compressed_text_in_a_png_is_never_expanded() -> None:
    """Sixty 1 KB zTXt chunks that Pillow would inflate to 60 MB of strings: dropped unread."""
    image = encode(shapes(12, (200, 150)), "PNG")
    text = zlib.compress(b"A" * 1_000_000, 9)
    bombs = b"".join(png_chunk(b"zTXt", b"Note%d\x00\x00" % n + text) for n in range(60))
    raw = image[:33] + bombs + image[33:]
    assert len(raw) < 200_000

    tracemalloc.start()
    try:
        result = process_upload(raw)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.width == 200
    assert peak < 8 * MB


def test_gps_of_a_webp_is_gone() -> None:
    raw = encode(shapes(11, (400, 300)), "WEBP", exif=gps_exif())
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(GPS_IFD)[3] == "E"

    stored = opened(process_upload(raw).data)

    assert len(stored.getexif()) == 0


# --- orientation -------------------------------------------------------------------------


def test_a_portrait_photo_stored_sideways_comes_out_upright() -> None:
    """The sensor wrote 600 x 400 rows, red on the left; orientation 6 says turn it clockwise,
    so the upright picture is 400 x 600 with red on top."""
    sideways = halves((600, 400), "red", "blue", across=True)
    raw = encode(sideways, "JPEG", exif=gps_exif(orientation=6))

    stored = opened(process_upload(raw).data)

    assert stored.size == (400, 600)
    assert close_to(mean_colour(stored, (0, 0, 400, 280)), (255, 0, 0), 30)
    assert close_to(mean_colour(stored, (0, 320, 400, 600)), (0, 0, 255), 30)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_exif_transpose(orientation: int) -> None:
    image = Image.new("RGB", (300, 200), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 100, 60), fill="red")  # a corner tells every turn and flip apart
    draw.rectangle((200, 140, 300, 200), fill="blue")
    raw = encode(image, "JPEG", quality=95, exif=gps_exif(orientation=orientation))
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(raw)))

    stored = opened(process_upload(raw).data)

    assert stored.size == expected.size
    difference = ImageStat.Stat(ImageChops.difference(stored, expected.convert("RGB"))).mean
    assert max(difference) < 3


# --- sizes -------------------------------------------------------------------------


def test_a_4000_by_3000_photo_becomes_2048_by_1536() -> None:
    result = process_upload(encode(shapes(12, (4000, 3000)), "JPEG", quality=90))

    assert (result.width, result.height) == (2048, 1536)
    assert opened(result.data).size == (2048, 1536)


def test_a_2_by_6000_sliver_is_resized_to_the_longest_side() -> None:
    result = process_upload(encode(Image.new("RGB", (2, 6000), "green"), "PNG"))

    assert max(result.width, result.height) == MAX_SIDE
    assert result.height == MAX_SIDE
    assert result.width in (1, 2)
    assert opened(result.data).size == (result.width, result.height)


def test_a_long_scrolling_screenshot_keeps_its_proportions() -> None:
    result = process_upload(encode(chat(1, (1080, 9000)), "PNG"))

    assert (result.width, result.height) == (246, 2048)


def test_a_small_screenshot_keeps_its_size() -> None:
    result = process_upload(encode(chat(2, (720, 1280)), "PNG"))

    assert (result.width, result.height) == (720, 1280)


@pytest.mark.parametrize("size", [(3000, 1000), (1000, 3001)])
def test_shrinking_in_strips_leaves_no_seams(size: tuple[int, int]) -> None:
    """Strips overlap by the filter's reach, so no row (or column) of the result is worse than
    the others. Against one resize of the whole picture only rounding differs: Pillow may run
    its two passes in the other order for a strip. Random pixels make any seam stand out."""
    width, height = size
    image = Image.frombytes("RGB", size, random.Random(1).randbytes(width * height * 3))
    whole = image.resize(media._fit(*size), Image.Resampling.LANCZOS)

    strips = media._shrink_flat(image)

    assert strips.size == whole.size
    difference = ImageChops.difference(strips, whole).convert("L")
    if width > height:  # strips are columns: look at them as rows
        difference = difference.transpose(Image.Transpose.TRANSPOSE)
    lines = [
        ImageStat.Stat(difference.crop((0, y, difference.width, y + 1))).mean[0]
        for y in range(difference.height)
    ]
    typical = sorted(lines)[len(lines) // 2]
    assert ImageStat.Stat(difference).mean[0] < 1
    assert max(lines) < 2 * typical + 0.2


def test_shrinking_in_strips_lays_transparency_on_white_as_the_whole_would() -> None:
    size = (3000, 1000)
    image = shapes(5, size).convert("RGBA")
    image.putalpha(Image.linear_gradient("L").rotate(90).resize(size))
    backdrop = Image.new("RGBA", size, (255, 255, 255, 255))
    backdrop.alpha_composite(image)
    whole = backdrop.convert("RGB").resize(media._fit(*size), Image.Resampling.LANCZOS)

    strips = media._shrink_flat(image)

    difference = ImageStat.Stat(ImageChops.difference(strips, whole))
    assert max(difference.extrema[band][1] for band in range(3)) <= 8
    assert max(difference.mean) < 0.05


# --- colour and transparency -------------------------------------------------------------


def _transparent_left(mode: str) -> Image.Image:
    """Left half fully transparent, right half opaque dark blue."""
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((100, 0, 199, 99), fill=(10, 20, 120, 255))
    if mode == "P":
        return image.convert("P", palette=Image.Palette.ADAPTIVE, colors=4)  # keeps tRNS
    if mode == "LA":
        return image.convert("LA")
    return image


@pytest.mark.parametrize(
    ("mode", "fmt"), [("RGBA", "PNG"), ("RGBA", "WEBP"), ("LA", "PNG"), ("P", "PNG")]
)
def test_transparency_is_laid_on_white(mode: str, fmt: str) -> None:
    source = _transparent_left(mode)
    raw = encode(source, fmt, lossless=True) if fmt == "WEBP" else encode(source, fmt)
    reopened = Image.open(io.BytesIO(raw))
    assert reopened.mode in ("RGBA", "LA", "P")

    stored = opened(process_upload(raw).data)

    assert stored.mode == "RGB"
    assert close_to(mean_colour(stored, (5, 5, 90, 95)), (255, 255, 255))
    right = mean_colour(stored, (110, 5, 195, 95))
    assert max(right) < 140  # the opaque half stays dark, whatever grey LA made of it


def test_half_transparent_red_becomes_pink() -> None:
    raw = encode(Image.new("RGBA", (64, 64), (255, 0, 0, 128)), "PNG")

    stored = opened(process_upload(raw).data)

    assert close_to(mean_colour(stored, (0, 0, 64, 64)), (255, 127, 127), 6)


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    raw = encode(Image.new("I;16", (100, 100), 32768), "PNG")
    assert Image.open(io.BytesIO(raw)).mode.startswith("I;16")

    stored = opened(process_upload(raw).data)

    assert close_to(mean_colour(stored, (0, 0, 100, 100)), (128, 128, 128), 3)


def test_a_cmyk_jpeg_becomes_rgb() -> None:
    raw = encode(Image.new("CMYK", (120, 80), (0, 255, 255, 0)), "JPEG")

    stored = opened(process_upload(raw).data)

    assert stored.mode == "RGB"
    assert close_to(mean_colour(stored, (0, 0, 120, 80)), (255, 0, 0), 10)


def test_an_animation_keeps_its_first_frame() -> None:
    red = Image.new("RGB", (80, 60), "red")
    blue = Image.new("RGB", (80, 60), "blue")
    for fmt in ("PNG", "WEBP"):
        raw = encode(red, fmt, save_all=True, append_images=[blue], duration=100)
        assert getattr(Image.open(io.BytesIO(raw)), "n_frames", 1) == 2

        stored = opened(process_upload(raw).data)

        assert close_to(mean_colour(stored, (0, 0, 80, 60)), (255, 0, 0), 10)


def test_a_multi_picture_jpeg_from_a_camera_is_accepted() -> None:
    raw = encode(
        Image.new("RGB", (160, 120), "green"),
        "MPO",
        save_all=True,
        append_images=[Image.new("RGB", (160, 120), "blue")],
    )
    assert Image.open(io.BytesIO(raw)).format == "MPO"

    stored = opened(process_upload(raw).data)

    assert close_to(mean_colour(stored, (0, 0, 160, 120)), (0, 128, 0), 10)


# --- perceptual hash ---------------------------------------------------------------------


def messenger_copy(image: Image.Image) -> bytes:
    """What a messenger does to a forwarded picture: half the size, quality 60."""
    half = image.resize((image.width // 2, image.height // 2), Image.Resampling.BILINEAR)
    return encode(half, "JPEG", quality=60)


PICTURES: dict[str, Callable[[], Image.Image]] = {
    "shapes-1": lambda: shapes(1),
    "shapes-2": lambda: shapes(2),
    "shapes-3": lambda: shapes(3),
    "chat-1": lambda: chat(1),
    "chat-2": lambda: chat(2),
    "headline-a": lambda: headline("HOAKS!\nTPS DITUTUP", 1),
    "headline-b": lambda: headline("Coblos\ntanggal 15", 2),
    "gradient-45": lambda: gradient(45),
    "gradient-270": lambda: gradient(270),
    "photo-1": lambda: photo(1),
    "photo-2": lambda: photo(2),
}


@pytest.fixture(scope="module")
def hashes() -> dict[str, tuple[int, int]]:
    """Each picture's hash as uploaded (PNG) and as its messenger copy."""
    found = {}
    for name, make in PICTURES.items():
        image = make()
        found[name] = (
            process_upload(encode(image, "PNG")).phash,
            process_upload(messenger_copy(image)).phash,
        )
    return found


@pytest.mark.parametrize("name", PICTURES)
def test_a_resized_recompressed_copy_keeps_its_hash(
    name: str, hashes: dict[str, tuple[int, int]]
) -> None:
    original, copy = hashes[name]

    assert hamming(original, copy) <= SIMILAR_BITS


def test_different_pictures_are_far_apart(hashes: dict[str, tuple[int, int]]) -> None:
    names = list(PICTURES)
    for index, first in enumerate(names):
        for second in names[index + 1 :]:
            distance = hamming(hashes[first][0], hashes[second][0])
            assert distance > 2 * SIMILAR_BITS, (first, second, distance)


def test_dhash_bits_run_from_the_top_left_comparison_down() -> None:
    cells = Image.new("L", (9, 8), 100)
    cells.putpixel((0, 0), 200)  # only the first comparison is brighter on the left
    assert dhash(cells) == -(2**63)  # the top bit: a negative signed 64-bit value

    cells = Image.new("L", (9, 8), 100)
    cells.putpixel((7, 7), 200)  # only the last comparison
    assert dhash(cells) == 1


def test_dhash_of_gradients() -> None:
    brighter_rightwards = Image.linear_gradient("L").rotate(90).resize((300, 200))
    darker_rightwards = brighter_rightwards.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    assert ImageStat.Stat(darker_rightwards.crop((0, 0, 10, 200))).mean[0] > 200

    assert dhash(darker_rightwards) == -1  # every bit set
    assert dhash(brighter_rightwards) == 0
    assert hamming(dhash(darker_rightwards), dhash(brighter_rightwards)) == 64


def test_bands_are_the_bytes_most_significant_first() -> None:
    assert bands(0x0102030405060708) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert bands(0) == [0] * 8
    assert bands(-1) == [255] * 8
    assert bands(-2) == [255] * 7 + [254]
    assert bands(-(2**63)) == [128] + [0] * 7
    assert bands(2**63 - 1) == [127] + [255] * 7


def test_hamming_counts_bits_of_the_64_bit_pattern() -> None:
    assert hamming(0, 0) == 0
    assert hamming(-1, -1) == 0
    assert hamming(-1, 0) == 64
    assert hamming(-1, 2**63 - 1) == 1
    assert hamming(-(2**63), 0) == 1
    assert hamming(-2, -1) == 1
    assert hamming(0b1011, 0b0110) == 3


def test_near_hashes_always_share_a_band() -> None:
    """Why the band index finds every near copy: 7 flipped bits cannot touch all 8 bytes."""
    rng = random.Random(4)
    for _ in range(500):
        value = rng.randrange(-(2**63), 2**63)
        flips = sum(1 << bit for bit in rng.sample(range(64), rng.randint(1, 7)))
        unsigned = (value % 2**64) ^ flips
        other = unsigned - 2**64 if unsigned >= 2**63 else unsigned
        assert hamming(value, other) <= 7
        assert any(a == b for a, b in zip(bands(value), bands(other), strict=True))


# --- the verdict stamp -------------------------------------------------------------------


@pytest.mark.parametrize("label", [verdict.value for verdict in Verdict])
@pytest.mark.parametrize("size", [(800, 600), (24, 16), (2048, 300), (300, 2048), (1, 2048)])
def test_every_verdict_stamps_every_shape(label: str, size: tuple[int, int]) -> None:
    stored = process_upload(encode(Image.new("RGB", size, (240, 240, 240)), "PNG")).data
    text = stamp.StampText(
        label=label,
        meaning="",
        claim="Klaim",
        fact="Fact: benar",
        address="example.id/v/1",
        site_name="Suara Kita",
    )

    image = opened(stamp.jpeg(stamp.stamped(open_stored(stored), text)))

    assert image.format == "JPEG"
    assert image.size == size
    assert ImageChops.difference(image, opened(stored)).getbbox() is not None
    assert len(image.getexif()) == 0


def test_a_stored_image_opens_again_in_rgb() -> None:
    stored = process_upload(encode(Image.new("RGBA", (40, 30), (10, 20, 30, 255)), "PNG")).data
    image = open_stored(stored)
    assert (image.mode, image.size) == ("RGB", (40, 30))


def test_what_is_not_a_stored_image_is_refused() -> None:
    with pytest.raises(MediaError):
        open_stored(b"<html></html>")
    with pytest.raises(MediaError):
        open_stored(png_claiming(30000, 30000))


# --- memory -----------------------------------------------------------------------------


def _rgba_gradient(size: tuple[int, int]) -> Image.Image:
    return Image.merge("RGBA", [Image.linear_gradient("L").resize(size)] * 4)


# The largest images the limits let through, one for each way of decoding.
LARGEST: dict[str, Callable[[], bytes]] = {
    # Decoded at half size by libjpeg.
    "jpeg-6000x6000": lambda: encode(noise((6000, 6000), 16), "JPEG", quality=70),
    # Just too small to be halved: decoded at full size.
    "jpeg-4095x4095": lambda: encode(noise((4095, 4095), 16), "JPEG", quality=70),
    # A 12 megapixel phone photo saved progressive: all its coefficients, and full size.
    "progressive-4000x3000": lambda: encode(noise((4000, 3000), 16), "JPEG", progressive=True),
    # Four bytes a pixel: 86 MB decoded.
    "png-rgba-4500x4800": lambda: encode(_rgba_gradient((4500, 4800)), "PNG", compress_level=1),
    # libwebp's canvases and copies: sixteen bytes a pixel.
    "webp-2250x2250": lambda: encode(_rgba_gradient((2250, 2250)), "WEBP", method=0),
}


@pytest.fixture(scope="module")
def largest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("largest")
    paths = {}
    for name, make in LARGEST.items():  # one at a time: together they would take 400 MB
        paths[name] = folder / name
        paths[name].write_bytes(make())
    return paths


def test_the_largest_jpeg_stays_under_150_mb_of_python_memory(largest: dict[str, Path]) -> None:
    raw = largest["jpeg-6000x6000"].read_bytes()
    assert len(raw) < 10 * MB  # within the upload cap

    tracemalloc.start()
    try:
        result = process_upload(raw)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 150 * MB
    assert (result.width, result.height) == (2048, 2048)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux /proc")
@pytest.mark.parametrize("name", LARGEST)
def test_the_largest_images_stay_under_150_mb_in_the_process_that_decodes_them(
    name: str, largest: dict[str, Path]
) -> None:
    """Pixels live outside Python's allocator: the decoder process reports its peak resident
    memory as the kernel counts it (VmHWM), interpreter and upload included."""
    raw = largest[name].read_bytes()
    assert len(raw) < 10 * MB  # within the upload cap
    decoders = Decoders(size=1)  # a new decoder process: the peak is this image's
    try:
        decoded = decoders.decode(raw)
    finally:
        decoders.close()

    assert decoded.image is not None, decoded.refusal
    assert max(decoded.image.width, decoded.image.height) == MAX_SIDE
    assert 0 < decoded.peak_kib * 1024 < 150_000_000, decoded.peak_kib


def test_just_beyond_the_budget_is_refused() -> None:
    """4600 x 4800 (88 MB decoded, four bytes a pixel) is one step past the largest PNG above;
    the same pixels in one byte each (a palette) are fine."""
    assert "too large" in refused(png_claiming(4600, 4800))
    palette = png_claiming(4600, 4800).replace(
        png_chunk(b"IHDR", struct.pack(">IIBBBBB", 4600, 4800, 8, 2, 0, 0, 0)),
        png_chunk(b"IHDR", struct.pack(">IIBBBBB", 4600, 4800, 8, 3, 0, 0, 0))
        + png_chunk(b"PLTE", b"\x00\x00\x00"),
    )
    assert refused(palette) == DAMAGED_MESSAGE  # past the limits; its one row is not enough


def test_the_upload_itself_counts_in_the_budget() -> None:
    """The decoder holds the upload, and a PNG's pixel data twice: 4500 x 4800 fits in a small
    file, not in a file of a few megabytes."""
    small = png_claiming(4500, 4800)
    assert refused(small) == DAMAGED_MESSAGE  # past the limits; its one row is not enough
    padded = small.replace(
        png_chunk(b"IEND", b""), png_chunk(b"IDAT", random.randbytes(MB)) + png_chunk(b"IEND", b"")
    )
    assert "too large" in refused(padded)
