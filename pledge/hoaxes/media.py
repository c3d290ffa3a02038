"""Uploaded screenshots: refused or re-encoded safely, hashed for near-duplicates, reopened."""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass
from io import BytesIO

from PIL import Image

from pledge.hoaxes import fingerprint, ocr, provenance
from pledge.hoaxes.headers import Header, TooManyParts, read_header, sniff
from pledge.i18n import gettext as _

# Longest side of a stored image: enough to read any screenshot, small enough to serve.
MAX_SIDE = 2048
# Pixels an upload may have, whatever its type, read from the header before anything is decoded.
MAX_PIXELS = 40_000_000
# Memory one upload may hold while it is decoded: the upload itself (and the copy of its pixel
# data, for a PNG) and what the decoder needs, estimated from the header before decoding. With
# the interpreter, one strip and the output, the decoder process stays under 150 MB.
# In practice: baseline JPEG up to MAX_PIXELS; progressive JPEG up to 12 megapixels, more when
# it is large enough to decode at half size; PNG up to 21 megapixels in colour (MAX_PIXELS
# with a palette or in grey), less for a file of several megabytes; WebP up to 5.5 megapixels.
DECODE_BUDGET = 84 * 1024 * 1024
# Each scan of a progressive JPEG walks every block again: a small file with thousands of scans
# costs minutes of CPU. Real encoders write about ten.
MAX_JPEG_SCANS = 100
# Parts of a file that Pillow walks one by one in Python before any pixel: segments before a
# JPEG's first scan (real files have about ten), chunks of a PNG (a 10 MB PNG in libpng's
# 8 KiB chunks has 1,300). Millions of empty ones cost seconds and hundreds of megabytes.
MAX_JPEG_SEGMENTS = 1000
MAX_PNG_CHUNKS = 10_000
# At most this many differing bits of two dhashes = the same picture.
SIMILAR_BITS = 6

JPEG_QUALITY = 85
# Pillow keeps "RGB" and every mode with alpha at four bytes a pixel.
_WIDE_PIXEL = 4
# Measured: Pillow's WebP decoder holds libwebp's two canvases, a bytes copy and the image.
_WEBP_BYTES_PER_PIXEL = 16
# Pixels of the source flattened at once while shrinking (a few 4 MiB copies).
_STRIP_PIXELS = 1 << 18
# Lanczos reads three source pixels either side, times the reduction factor.
_LANCZOS_SUPPORT = 3.0
_WHITE = (255, 255, 255, 255)

# Chunks that make the pixels. Text, colour profiles and animation are dropped before Pillow
# parses the file: compressed text alone may expand to 64 MiB in Pillow, and none of it is kept.
_PNG_PIXEL_CHUNKS = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"eXIf"})
# What Image.open may report for each sniffed type (phone cameras write MPO: JPEG frames).
_FORMATS = {
    "JPEG": frozenset({"JPEG", "MPO"}),
    "PNG": frozenset({"PNG"}),
    "WEBP": frozenset({"WEBP"}),
}
# EXIF orientation -> the transposition that stands the picture upright (as ImageOps.exif_transpose).
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_ORIENTATION = 0x0112
# Pillow raises all of these for damaged data, depending on the format and where it breaks.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error)
_MASK64 = (1 << 64) - 1
# In grey levels (0..255): smaller differences between neighbouring cells are noise.
_HASH_TOLERANCE = 0.1


class MediaError(ValueError):
    """An upload that is refused; str(error) is a message for the reporter, in their language."""


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    mime: str
    width: int
    height: int
    sha256: str
    phash: int  # media.dhash, for the band index of near copies
    # fingerprint.Fingerprint.to_bytes(): hashes of the picture without borders and phone bars
    fingerprint: bytes = b""
    # The picture's text (ocr.read_text): one line per line, "" when there is none.
    text: str = ""
    # What the file said of where it came from, read before it was re-encoded
    # (provenance.Provenance as JSON).
    provenance: str = ""


def _not_an_image() -> MediaError:
    return MediaError(_("Only JPEG, PNG and WebP images can be uploaded."))


def damaged() -> MediaError:
    return MediaError(_("The image is damaged or incomplete."))


def unusual() -> MediaError:
    return MediaError(
        _(
            "This picture's file is built in an unusual way and cannot be checked. Please "
            "send a screenshot of it, or save it again as a JPEG or PNG."
        )
    )


def _too_large(width: int, height: int) -> MediaError:
    return MediaError(
        _(
            "The image is too large (%(width)s × %(height)s pixels). "
            "Please send a screenshot or a smaller photo."
        )
        % {"width": width, "height": height}
    )


def process_upload(raw: bytes) -> ProcessedImage:
    """Check an upload from its bytes alone and re-encode it as a metadata-free JPEG."""
    kind, header = _checked_header(raw)
    # Read from the file as sent: nothing of it survives the re-encoding below.
    found = provenance.read(raw)
    held = len(raw)  # the caller keeps the upload until the answer
    if kind == "PNG":
        raw = _png_pixel_chunks(raw)
        held += len(raw)
    picture, orientation = _decode(raw, kind, header, held)
    if orientation in _ORIENTATION:
        # Phone photos store the sensor's rows and a rotation tag; the tag is not kept, so turn
        # the pixels. Done after shrinking, where it moves a few megabytes at most.
        picture = picture.transpose(_ORIENTATION[orientation])

    data = _encode_jpeg(picture)
    prints, content = fingerprint.analyse(picture)
    return ProcessedImage(
        data=data,
        mime="image/jpeg",
        width=picture.width,
        height=picture.height,
        sha256=hashlib.sha256(data).hexdigest(),
        phash=dhash(picture),
        fingerprint=prints.to_bytes(),
        text=ocr.read_text(content),
        provenance=found.to_json(),
    )


def _checked_header(raw: bytes) -> tuple[str, Header]:
    """The upload's type and header, refused before anything is decoded when it is not an
    image we take or would not fit the limits."""
    if not raw:
        raise MediaError(_("The file is empty."))
    kind = sniff(raw)
    if kind is None:
        raise _not_an_image()
    try:
        header = read_header(kind, raw, max_parts=MAX_JPEG_SEGMENTS)
    except TooManyParts:
        raise unusual() from None
    if header is None:
        raise _not_an_image()
    if header.width < 1 or header.height < 1:
        raise damaged()
    pixels = header.width * header.height
    if pixels > MAX_PIXELS:
        raise _too_large(header.width, header.height)
    if kind == "WEBP" and pixels * _WEBP_BYTES_PER_PIXEL + len(raw) > DECODE_BUDGET:
        # Pillow's WebP reader allocates its canvas while opening, so this must come first.
        raise _too_large(header.width, header.height)
    if header.scans > MAX_JPEG_SCANS:
        raise damaged()
    return kind, header


def _decode(raw: bytes, kind: str, header: Header, held: int) -> tuple[Image.Image, int]:
    """The picture, shrunk and flattened, and its EXIF orientation; `held` bytes of the
    upload are in memory meanwhile."""
    try:
        image = Image.open(BytesIO(raw), formats=[kind])
    except Image.DecompressionBombError as error:
        raise _too_large(header.width, header.height) from error
    except _DECODE_ERRORS as error:
        # The header was right, what follows is not.
        raise damaged() from error
    # Image's context manager does not release the pixels; close() does, before encoding.
    try:
        _load(image, kind, header, held)
        picture = _shrink_flat(image)
        orientation = _orientation(image)
    finally:
        image.close()
    return picture, orientation


def _load(image: Image.Image, kind: str, header: Header, held: int) -> None:
    """Decode the opened image's pixels, unless they would not fit DECODE_BUDGET."""
    # Our header reading and Pillow's must agree, or the limits above checked something else.
    if image.format not in _FORMATS[kind] or image.size != (header.width, header.height):
        raise _not_an_image()
    if kind == "JPEG":
        # libjpeg scales by 1/2, 1/4 or 1/8 while decoding: a large photo never exists at
        # full size in memory. Asking for the final size keeps at least that much detail.
        image.draft(None, _fit(header.width, header.height))
    decoded = image.width * image.height * _bytes_per_pixel(image.mode)
    if held + header.coefficient_bytes + decoded > DECODE_BUDGET:
        raise _too_large(header.width, header.height)
    try:
        image.load()
    except Image.DecompressionBombError as error:
        raise _too_large(header.width, header.height) from error
    except _DECODE_ERRORS as error:
        # Truncated data is refused, never padded with grey (LOAD_TRUNCATED_IMAGES stays off).
        raise damaged() from error


def _png_pixel_chunks(raw: bytes) -> bytes:
    """The PNG with only the chunks that make its first frame; anything after IEND goes too."""
    view = memoryview(raw)
    parts = [view[:8]]
    position = 8
    chunks = 0
    while position + 12 <= len(raw):
        chunks += 1
        if chunks > MAX_PNG_CHUNKS:
            raise unusual()
        length = int.from_bytes(raw[position : position + 4], "big")
        kind = raw[position + 4 : position + 8]
        end = position + 12 + length
        if kind in _PNG_PIXEL_CHUNKS:
            parts.append(view[position:end])  # a chunk cut short stays cut: Pillow refuses it
        if kind == b"IEND" or end > len(raw):
            break
        position = end
    return b"".join(parts)


def _bytes_per_pixel(mode: str) -> int:
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return _WIDE_PIXEL


def _fit(width: int, height: int, limit: int = MAX_SIDE) -> tuple[int, int]:
    """The size within limit × limit with the same proportions (never below one pixel)."""
    longest = max(width, height)
    if longest <= limit:
        return width, height
    if width >= height:
        return limit, max(1, round(height * limit / width))
    return max(1, round(width * limit / height)), limit


def _shrink_flat(image: Image.Image) -> Image.Image:
    """A new RGB image on white, longest side at most MAX_SIDE, with no metadata.

    Built strip by strip across the long side: converting or resizing a whole large image
    makes full-size copies (Pillow resizes RGBA through a premultiplied copy), which would
    double the memory of the decoded picture. A strip carries enough neighbouring pixels for
    the Lanczos filter, so there are no seams: the result is one resize of the whole image up
    to rounding (Pillow may run its two passes in the other order for a strip).
    """
    width, height = image.size
    out_width, out_height = _fit(width, height)
    canvas = Image.new("RGB", (out_width, out_height))
    across_x = width > height
    source_length, out_length = (width, out_width) if across_x else (height, out_height)
    other_length = height if across_x else width
    scale = source_length / out_length
    resizing = (out_width, out_height) != (width, height)
    margin = math.ceil(_LANCZOS_SUPPORT * scale) + 2 if resizing else 0
    step = max(1, int(_STRIP_PIXELS / (other_length * scale)))
    for start in range(0, out_length, step):
        stop = min(out_length, start + step)
        low = max(0, math.floor(start * scale) - margin)
        high = min(source_length, math.ceil(stop * scale) + margin)
        if across_x:
            part = _flatten(image.crop((low, 0, high, height)))
            size = (stop - start, out_height)
            box = (start * scale - low, 0.0, stop * scale - low, float(height))
            offset = (start, 0)
        else:
            part = _flatten(image.crop((0, low, width, high)))
            size = (out_width, stop - start)
            box = (0.0, start * scale - low, float(width), stop * scale - low)
            offset = (0, start)
        if resizing:
            part = part.resize(size, Image.Resampling.LANCZOS, box=box)
        canvas.paste(part, offset)
    return canvas


def _flatten(part: Image.Image) -> Image.Image:
    """RGB, with any transparency laid on white (a screenshot's page colour)."""
    if part.mode.startswith("I"):
        # 16-bit grey: scale to 8 bits, where a plain convert would clip everything to white.
        part = part.point(lambda value: value / 256).convert("L")
    if part.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in part.info:
        backdrop = Image.new("RGBA", part.size, _WHITE)
        backdrop.alpha_composite(part.convert("RGBA"))
        return backdrop.convert("RGB")
    return part.convert("RGB")


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:
        # EXIF is discarded anyway: a damaged tag must not refuse a good picture.
        return 1
    return value if isinstance(value, int) else 1


def _encode_jpeg(picture: Image.Image) -> bytes:
    """Baseline choice: every stored image is a JPEG. One type to serve, label and hash, and no
    path keeps transparency or metadata. Text stays legible through full-resolution colour
    (no chroma subsampling), which is what blurs coloured text in screenshots saved as JPEG."""
    picture.info.clear()  # Pillow writes a comment found in info; nothing of the upload remains
    buffer = BytesIO()
    picture.save(
        buffer,
        "JPEG",
        quality=JPEG_QUALITY,
        optimize=True,
        progressive=True,
        subsampling=0,
    )
    return buffer.getvalue()


def dhash(image: Image.Image) -> int:
    """64-bit difference hash as a signed integer (it fits a PostgreSQL BIGINT).

    Grey levels are averaged to 9 x 8 cells and each bit says whether a cell is brighter than
    its right neighbour by more than _HASH_TOLERANCE. The averages stay in floating point, and
    the tolerance makes near-equal neighbours count as equal: in flat areas with grain (skies,
    walls) re-compression moves averages by a fraction of a grey level, and without it a
    half-size, quality-60 copy of such a photo differed by up to 16 bits. Measured on
    generated screenshots, text, shapes and photos: copies within 3 bits, and distinct
    pictures at least 6 apart, the closest being sparse text on plain white.
    """
    grey = image.convert("L").convert("F").resize((9, 8), Image.Resampling.BICUBIC)
    values = struct.unpack(f"={9 * 8}f", grey.tobytes())
    bits = 0
    for row in range(8):
        for column in range(8):
            left = values[row * 9 + column]
            right = values[row * 9 + column + 1]
            bits = (bits << 1) | (left > right + _HASH_TOLERANCE)
    return bits - (1 << 64) if bits >= 1 << 63 else bits


def bands(phash: int) -> list[int]:
    """The 8 bytes of the hash (two's complement), most significant first, for the band index."""
    return list((phash & _MASK64).to_bytes(8, "big"))


def hamming(a: int, b: int) -> int:
    """Differing bits between two 64-bit hashes, signed or not."""
    return ((a ^ b) & _MASK64).bit_count()


def open_stored(data: bytes) -> Image.Image:
    """A stored image's pixels, in RGB, to draw a verdict picture from (pledge.hoaxes.stamp)."""
    # Stored images were made by process_upload, so at most MAX_SIDE a side; anything else in
    # the column is refused rather than decoded.
    try:
        with Image.open(BytesIO(data), formats=["JPEG", "PNG", "WEBP"]) as source:
            if max(source.size) > MAX_SIDE:
                raise damaged()
            source.load()
            return _flatten(source)
    except MediaError:
        raise
    except (Image.DecompressionBombError, *_DECODE_ERRORS) as error:
        raise damaged() from error
