"""Image headers read from an upload's bytes alone, before anything is decoded: its type, its
size and, for a JPEG, what libjpeg will hold in memory to decode it."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Start-of-frame markers (baseline, extended, progressive, lossless; Huffman or arithmetic).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_PROGRESSIVE_SOF = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_JPEG_SOS = 0xDA

# A JPEG frame: width, height, progressive, and each component's sampling factors.
_Frame = tuple[int, int, bool, list[tuple[int, int]]]


@dataclass(frozen=True)
class Header:
    width: int
    height: int
    # JPEG: bytes libjpeg holds for every DCT coefficient of the picture when it decodes in
    # several passes (progressive, or components in separate scans); 0 when it streams.
    coefficient_bytes: int = 0
    scans: int = 1


class TooManyParts(Exception):
    """The file holds more parts before its pixels than any real image does."""


def sniff(raw: bytes) -> str | None:
    """The type from the first bytes: names and Content-Type headers are the sender's claims."""
    if raw.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if raw.startswith(PNG_SIGNATURE):
        return "PNG"
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "WEBP"
    return None


def read_header(kind: str, raw: bytes, *, max_parts: int) -> Header | None:
    """The header, or None when the file is not a well-formed image of its kind;
    TooManyParts when a JPEG has more than `max_parts` markers before its first scan."""
    if kind == "JPEG":
        return _jpeg_header(raw, max_parts)
    if kind == "PNG":
        return _png_header(raw)
    return _webp_header(raw)


def _png_header(raw: bytes) -> Header | None:
    # IHDR must be the first chunk, 13 bytes long, width and height first.
    if len(raw) < 33 or raw[8:16] != b"\x00\x00\x00\x0dIHDR":
        return None
    width, height = struct.unpack(">II", raw[16:24])
    return Header(width, height)


def _webp_header(raw: bytes) -> Header | None:
    chunk = raw[12:16]
    if chunk == b"VP8 " and len(raw) >= 30 and raw[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", raw[26:30])
        return Header(width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and len(raw) >= 25 and raw[20] == 0x2F:
        (bits,) = struct.unpack("<I", raw[21:25])
        return Header((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X" and len(raw) >= 30:
        # The canvas of an extended (possibly animated) file: what the decoder allocates.
        width = int.from_bytes(raw[24:27], "little") + 1
        height = int.from_bytes(raw[27:30], "little") + 1
        return Header(width, height)
    return None


def _jpeg_header(raw: bytes, max_parts: int) -> Header | None:
    """Walk the markers up to the first scan: the frame size and how libjpeg will decode it."""
    position = 2
    frame: _Frame | None = None
    parts = 0
    while position + 4 <= len(raw):
        parts += 1  # a segment, a marker of its own or a fill byte
        if parts > max_parts:
            raise TooManyParts
        if raw[position] != 0xFF:
            return None
        marker = raw[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in _JPEG_STANDALONE:
            position += 2
            continue
        if marker in (0xD8, 0xD9):  # a second start, or the end, before any scan
            return None
        length = int.from_bytes(raw[position + 2 : position + 4], "big")
        segment = raw[position + 4 : position + 2 + length]
        if length < 2 or len(segment) != length - 2:
            return None
        if marker in _JPEG_SOF:
            if frame is not None:
                return None
            frame = _jpeg_frame(marker, segment)
            if frame is None:
                return None
        elif marker == _JPEG_SOS:
            return _jpeg_scan(raw, position, frame, segment)
        position += 2 + length
    return None


def _jpeg_frame(marker: int, segment: bytes) -> _Frame | None:
    """The frame a start-of-frame segment describes, unless it is malformed."""
    if len(segment) < 6:
        return None
    height, width = struct.unpack(">HH", segment[1:5])
    count = segment[5]
    if count == 0 or len(segment) < 6 + 3 * count:
        return None
    factors = [(b >> 4, b & 0x0F) for b in segment[7 : 6 + 3 * count : 3]]
    if any(not (1 <= h <= 4 and 1 <= v <= 4) for h, v in factors):
        return None
    return width, height, marker in _JPEG_PROGRESSIVE_SOF, factors


def _jpeg_scan(raw: bytes, position: int, frame: _Frame | None, segment: bytes) -> Header | None:
    """The header, from the frame and the first scan (at `position`)."""
    if frame is None or not segment:
        return None
    width, height, progressive, factors = frame
    # libjpeg streams only a single scan holding every component; otherwise it keeps
    # the coefficients of the whole picture until the last scan.
    buffered = progressive or segment[0] < len(factors)
    coefficients = _coefficient_bytes(width, height, factors) if buffered else 0
    # Inside entropy-coded data 0xFF is always followed by 0x00 or a restart marker,
    # so every FF DA from here on starts a scan.
    return Header(width, height, coefficients, raw.count(b"\xff\xda", position))


def _coefficient_bytes(width: int, height: int, factors: list[tuple[int, int]]) -> int:
    max_h = max(h for h, _v in factors)
    max_v = max(v for _h, v in factors)
    total = 0
    for h, v in factors:
        # As jdcoefct.c allocates: blocks per component, rounded up to whole MCUs,
        # 64 coefficients of two bytes each.
        blocks_x = math.ceil(math.ceil(width * h / max_h / 8) / h) * h
        blocks_y = math.ceil(math.ceil(height * v / max_v / 8) / v) * v
        total += blocks_x * blocks_y * 64 * 2
    return total
