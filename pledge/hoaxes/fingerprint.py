"""Screenshots recognised through the copies people make of them, and told apart from twins.

A hoax travels as a phone screenshot: resized by a messenger, recompressed, cropped a little,
shown with another phone's status bar, screenshotted again. And one app screenshot may be the
template of several hoaxes, or a genuine notice doctored in one line. So a picture has

- a `Fingerprint`: perceptual hashes (pHash, 64-bit DCT) of the picture without its borders
  and phone bars (`trim`), of the whole and of windows cut 4 % and 8 % from its sides, so that
  a copy cropped by up to 8 % still has a hash close to one of the original's; the same for
  the picture without the page's side margins, which a crop through the header leaves as
  borders; and `bands()`, the low-frequency corner of each hash, for a database lookup;
- its text, read by tesseract (`read_text`), compared word by word with OCR's confusions
  forgiven (0/o, 1/l/i, 5/s, rn/m, a letter or two misread, words split or joined, letters
  cut at a line's edge by a crop): a copy has the same text up to OCR noise, a twin has a
  word or a number that differs.

`screenshots_match` decides: "same" (the same picture and the same text: one case),
"similar" (the same picture with other text: shown to the moderator, never merged) or
"different". Measured on the corpus of bench/screenshots.py; see docs/matching-screenshots.md.

The text is read and compared in `pledge.hoaxes.ocr`. This module is imported by the decoder
process (pledge/hoaxes/decoder.py): Pillow and the
standard library only.
"""

from __future__ import annotations

import itertools
import logging
import math
import statistics
import struct
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageChops

from pledge.hoaxes.ocr import text_similarity

log = logging.getLogger(__name__)

FORMAT = 2
# Windows of the trimmed picture that are hashed, as the share cut from (left, top, right,
# bottom): the whole, each side cut by 4 % and 8 %, two sides cut by 8 %. A copy cropped by
# up to 8 % is then within 2 % of one of them.
WINDOWS: tuple[tuple[float, float, float, float], ...] = (
    (0.0, 0.0, 0.0, 0.0),
    (0.04, 0.0, 0.0, 0.0),
    (0.0, 0.04, 0.0, 0.0),
    (0.0, 0.0, 0.04, 0.0),
    (0.0, 0.0, 0.0, 0.04),
    (0.08, 0.0, 0.0, 0.0),
    (0.0, 0.08, 0.0, 0.0),
    (0.0, 0.0, 0.08, 0.0),
    (0.0, 0.0, 0.0, 0.08),
    (0.08, 0.08, 0.0, 0.0),
    (0.0, 0.08, 0.08, 0.0),
    (0.08, 0.0, 0.0, 0.08),
    (0.0, 0.0, 0.08, 0.08),
    (0.08, 0.0, 0.08, 0.0),
    (0.0, 0.08, 0.0, 0.08),
)
HASH_BITS = 64
# At most this many differing bits between the closest hashes of two pictures: the same
# picture (see same_picture). Chosen from bench/screenshots.py.
SAME_BITS = 10
# Bands: the band number of Fingerprint.bands() (0 to 3 were slices of format 1's hashes),
# and the hash bits that make a band's value, as positions in the hash: the coefficients
# (u, v) with u, v < 4 of the 8 × 8 lowest DCT frequencies.
BAND = 4
_COARSE_BITS = tuple(u * 8 + v for u in range(4) for v in range(4))
BAND_BITS = len(_COARSE_BITS)
_MASK64 = (1 << 64) - 1

# --- trimming ------------------------------------------------------------------------------

# Analysis copy: rows and columns statistics are taken on a copy this long at most.
_ANALYSIS_SIDE = 400
# A row (or column) is uniform when its grey levels vary by at most this (standard deviation).
_UNIFORM_STD = 4.0
# A border's lines differ in mean grey level by at most this (compression noise).
_BORDER_DRIFT = 1.5
# Lines past a border's end that, all uniform and shading slowly, make it a gradient.
_GRADIENT_LINES = 6
# Each side may lose at most this share of the picture to borders.
_MAX_BORDER = 0.4
# Trimming that would keep less than this share of the width or height is not done.
_MIN_KEPT = 0.5
# A phone bar: a band at the top or bottom, between 1.5 % and _MAX_BAR of the height, of one
# background colour, above (below) content of another background colour.
_MIN_BAR = 0.015
_MAX_BAR = 0.085
_BAR_COLOUR_STEP = 40  # summed over R, G, B
_BAR_STABLE = 14
_BAR_DOMINANT = 0.55


def trim(image: Image.Image) -> Image.Image:
    """The picture without uniform borders (any colour, letterboxing included) and without a
    phone's status bar or navigation bar: thin bands at the top and bottom whose background
    colour differs from the content's. Photos are left as they are, or nearly."""
    rgb = image.convert("RGB")
    _framed, box, _inner_box = _content_boxes(rgb)
    return _cropped(rgb, box)


def _cropped(image: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    return image if box == (0, 0, image.width, image.height) else image.crop(box)


def _content_boxes(
    image: Image.Image,
) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int], tuple[int, int, int, int]]:
    """The picture's box without its uniform borders; without its bars as well; and that
    without the page's side margins (_inner)."""
    width, height = image.size
    whole = (0, 0, width, height)
    if width < 8 or height < 8:
        return whole, whole, whole
    scale = min(1.0, _ANALYSIS_SIDE / max(width, height))
    small = image.resize(
        (max(4, round(width * scale)), max(4, round(height * scale))), Image.Resampling.BOX
    )
    sw, sh = small.size

    def full_size(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        left, top, right, bottom = box
        if right - left < 4 or bottom - top < 4:
            return whole
        return (
            math.floor(left / sw * width),
            math.floor(top / sh * height),
            math.ceil(right / sw * width),
            math.ceil(bottom / sh * height),
        )

    framed = _without_borders(small, (0, 0, sw, sh))
    left, top, right, bottom = framed
    for _ in range(3):
        before = (left, top, right, bottom)
        top, bottom = _without_bars(small, (left, top, right, bottom))
        left, top, right, bottom = _without_borders(small, (left, top, right, bottom))
        if (left, top, right, bottom) == before:
            break
    if right - left < sw * _MIN_KEPT or bottom - top < sh * _MIN_KEPT:
        left, top, right, bottom = framed  # not a frame around a picture: keep it all
    if framed[2] - framed[0] < sw * _MIN_KEPT or framed[3] - framed[1] < sh * _MIN_KEPT:
        return whole, whole, whole
    content = (left, top, right, bottom)
    return full_size(framed), full_size(content), full_size(_inner(small, content))


# The body of a screenshot: below its top _HEAD share (a header bar that spans the margins).
_HEAD = 0.2


def _inner(small: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The box without the page's side margins: columns uniform over the body (all but the
    top _HEAD of the box), then rows uniform across what remains. A crop that cut a
    screenshot's header off leaves those margins as uniform borders, which trim removes."""
    left, top, right, bottom = box
    grey = small.convert("L")
    body_top = top + round((bottom - top) * _HEAD)
    if bottom - body_top < 4:
        return box
    columns = _line_std(grey, (left, body_top, right, bottom), rows=False)
    limit = int(len(columns) * _MAX_BORDER)
    left, right = left + _leading(columns, limit), right - _leading(columns[::-1], limit)
    rows = _line_std(grey, (left, top, right, bottom), rows=True)
    limit = int(len(rows) * _MAX_BORDER)
    top, bottom = top + _leading(rows, limit), bottom - _leading(rows[::-1], limit)
    if right - left < 4 or bottom - top < 4:
        return box
    return left, top, right, bottom


def _line_std(
    grey: Image.Image, box: tuple[int, int, int, int], rows: bool
) -> list[tuple[float, float]]:
    """Standard deviation and mean of the grey levels of each row (or column) of box."""
    part = grey.crop(box).convert("F")
    squares = ImageChops.multiply(grey.crop(box), grey.crop(box)).convert("F")  # g² / 255
    size = (1, part.height) if rows else (part.width, 1)
    count = size[0] * size[1]
    means = struct.unpack(f"={count}f", part.resize(size, Image.Resampling.BOX).tobytes())
    mean_squares = struct.unpack(f"={count}f", squares.resize(size, Image.Resampling.BOX).tobytes())
    return [
        (math.sqrt(max(0.0, 255.0 * sq - m * m)), m)
        for m, sq in zip(means, mean_squares, strict=True)
    ]


def _without_borders(
    small: Image.Image, box: tuple[int, int, int, int]
) -> tuple[int, int, int, int]:
    left, top, right, bottom = box
    grey = small.convert("L")
    for _ in range(2):
        rows = _line_std(grey, (left, top, right, bottom), rows=True)
        limit = int(len(rows) * _MAX_BORDER)
        cut_top = _leading(rows, limit)
        cut_bottom = _leading(rows[::-1], limit)
        top, bottom = top + cut_top, bottom - cut_bottom
        columns = _line_std(grey, (left, top, right, bottom), rows=False)
        limit = int(len(columns) * _MAX_BORDER)
        cut_left = _leading(columns, limit)
        cut_right = _leading(columns[::-1], limit)
        left, right = left + cut_left, right - cut_right
        if not (cut_top or cut_bottom or cut_left or cut_right):
            break
    return left, top, right, bottom


def _leading(lines: list[tuple[float, float]], limit: int) -> int:
    """How many lines at the start are a border: each uniform, and all of one grey level
    (the rows of a smooth vertical gradient are each uniform, but no border)."""
    count = 0
    while (
        count < limit
        and lines[count][0] <= _UNIFORM_STD
        and abs(lines[count][1] - lines[0][1]) <= _BORDER_DRIFT
    ):
        count += 1
    # Uniform lines going on past it, each shading a little from the last: a gradient.
    after = lines[max(0, count - 1) : count + _GRADIENT_LINES]
    if (
        0 < count < limit
        and len(after) == _GRADIENT_LINES + 1
        and all(
            line[0] <= _UNIFORM_STD and abs(line[1] - previous[1]) <= _BORDER_DRIFT
            for previous, line in itertools.pairwise(after)
        )
    ):
        return 0
    return count


def _row_profile(
    small: Image.Image, box: tuple[int, int, int, int]
) -> list[tuple[tuple[int, int, int], float]]:
    """Each row's background (the median colour) and the share of its pixels close to it."""
    top, bottom = box[1], box[3]
    part = small.crop(box)
    width = part.width
    data = part.tobytes()
    profile = []
    for y in range(bottom - top):
        row = data[y * width * 3 : (y + 1) * width * 3]
        reds, greens, blues = sorted(row[0::3]), sorted(row[1::3]), sorted(row[2::3])
        middle = width // 2
        colour = (reds[middle], greens[middle], blues[middle])
        close = sum(
            1
            for x in range(0, width * 3, 3)
            if abs(row[x] - colour[0]) + abs(row[x + 1] - colour[1]) + abs(row[x + 2] - colour[2])
            <= 24
        )
        profile.append((colour, close / width))
    return profile


def _distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> int:
    return abs(a[0] - b[0]) + abs(a[1] - b[1]) + abs(a[2] - b[2])


def _bar_end(profile: list[tuple[tuple[int, int, int], float]], height: int) -> int:
    """Rows of a phone bar at the start of profile, the first rows of a picture `height`
    rows high (0 when there is none)."""
    low, high = max(2, round(height * _MIN_BAR)), round(height * _MAX_BAR)
    if high <= low:
        return 0
    background = profile[0][0]
    dominant = 0.0
    for end in range(high + 1):
        colour, share = profile[end]
        if _distance(colour, background) > _BAR_COLOUR_STEP:
            break
        if _distance(colour, background) > _BAR_STABLE:
            return 0
        dominant += share
    else:
        return 0
    if end < low or dominant / end < _BAR_DOMINANT:
        return 0
    # What follows must be of its own colour for a while, not the gradient of a photo.
    after = profile[end : end + max(2, round(height * 0.015))]
    if len(after) < 2:
        return 0
    step = min(_distance(colour, background) for colour, _share in after)
    return end if step > _BAR_COLOUR_STEP else 0


def _without_bars(small: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, int]:
    left, top, right, bottom = box
    if right - left < 8 or bottom - top < 16:
        return top, bottom
    # Only rows near the edges can be bars: a bar and the rows that follow it.
    reach = min(bottom - top, round((bottom - top) * (_MAX_BAR + 0.03)) + 2)
    height = bottom - top
    cut_top = _bar_end(_row_profile(small, (left, top, right, top + reach)), height)
    ending = _row_profile(small, (left, bottom - reach, right, bottom))
    cut_bottom = _bar_end(ending[::-1], height)
    return top + cut_top, bottom - cut_bottom


# --- hashes --------------------------------------------------------------------------------

_HASH_SIDE = 32
_LOW = 8
# DCT-II basis for the 8 lowest frequencies over 32 samples.
_COSINES = [
    [math.cos(math.pi * (2 * n + 1) * k / (2 * _HASH_SIDE)) for n in range(_HASH_SIDE)]
    for k in range(_LOW)
]


def _phash(grey: Image.Image, box: tuple[float, float, float, float]) -> int:
    """64-bit pHash of box of grey: 32 × 32 grey levels, the 8 × 8 lowest DCT frequencies,
    each bit saying whether a coefficient is above their median (the DC term left out of the
    median)."""
    cells = grey.resize((_HASH_SIDE, _HASH_SIDE), Image.Resampling.BOX, box=box)
    values = list(cells.tobytes())
    rows = [values[r * _HASH_SIDE : (r + 1) * _HASH_SIDE] for r in range(_HASH_SIDE)]
    # Along the rows, then along the columns: coefficient (u, v) = Σ C[u][y] Σ C[v][x] f(y, x).
    partial = [
        [sum(c * f for c, f in zip(basis, row, strict=True)) for basis in _COSINES] for row in rows
    ]
    coefficients = [
        sum(_COSINES[u][y] * partial[y][v] for y in range(_HASH_SIDE))
        for u in range(_LOW)
        for v in range(_LOW)
    ]
    median = statistics.median(coefficients[1:])
    bits = 0
    for value in coefficients:
        bits = (bits << 1) | (value > median)
    return bits


@dataclass(frozen=True)
class Fingerprint:
    """Hashes of a picture: those of WINDOWS of its trimmed content, and more (see analyse);
    `wholes` are the positions of the hashes of whole pictures (not of windows): the first
    is the trimmed content's."""

    hashes: tuple[int, ...]
    wholes: tuple[int, ...] = (0,)

    def to_bytes(self) -> bytes:
        """FORMAT, the number of hashes, the number of wholes, each hash in 8 bytes
        big-endian, then the wholes' positions, a byte each."""
        return (
            bytes([FORMAT, len(self.hashes), len(self.wholes)])
            + b"".join(value.to_bytes(8, "big") for value in self.hashes)
            + bytes(self.wholes)
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        if len(data) < 3 or data[0] != FORMAT or len(data) != 3 + 8 * data[1] + data[2]:
            raise ValueError("not a fingerprint of this format")
        count = data[1]
        hashes = tuple(int.from_bytes(data[3 + 8 * i : 11 + 8 * i], "big") for i in range(count))
        positions = tuple(data[3 + 8 * count :])
        if any(p >= count for p in positions):
            raise ValueError("not a fingerprint of this format")
        return cls(hashes, positions)

    def bands(self) -> list[tuple[int, int]]:
        """(BAND, value) pairs for an exact-lookup index: for each hash, its BAND_BITS bits
        of the lowest frequencies (the 4 × 4 corner of the 8 × 8 DCT block), which copies
        keep when the finer bits move. Not a guarantee: measured in bench/screenshots.py,
        a copy that same_picture accepts shares one in nearly every case, and a picture
        shares one with few distinct pictures."""
        return sorted({(BAND, _coarse(value)) for value in self.hashes})


def _coarse(value: int) -> int:
    out = 0
    for position in _COARSE_BITS:
        out = (out << 1) | ((value >> (HASH_BITS - 1 - position)) & 1)
    return out


def _window_hashes(picture: Image.Image, windows: tuple[tuple[float, ...], ...]) -> list[int]:
    grey = picture.convert("L")
    # One small copy for all windows: box-averaging the full picture for each would cost more.
    scale = min(1.0, 256 / max(grey.size))
    small = grey.resize(
        (max(1, round(grey.width * scale)), max(1, round(grey.height * scale))),
        Image.Resampling.BOX,
    )
    width, height = small.size
    return [
        _phash(small, (x0 * width, y0 * height, width - x1 * width, height - y1 * height))
        for x0, y0, x1, y1 in windows
    ]


def analyse(image: Image.Image) -> tuple[Fingerprint, Image.Image]:
    """The picture's fingerprint, and the picture trimmed (for read_text).

    The hashes are those of WINDOWS of the trimmed picture; when bars were cut, one more: the
    whole picture with its bars (what was taken for a bar may be the rest of a header that
    a crop cut through); when the page has side margins below its header, those of WINDOWS
    of the picture without them (_inner): a copy whose crop cut the header off has lost
    them to trimming."""
    rgb = image.convert("RGB")
    framed, box, inner = _content_boxes(rgb)
    content = _cropped(rgb, box)
    hashes = _window_hashes(content, WINDOWS)
    wholes = [0]
    if box != framed:
        wholes.append(len(hashes))
        hashes += _window_hashes(_cropped(rgb, framed), WINDOWS[:1])
    if _apart(box, inner):
        wholes.append(len(hashes))
        hashes += _window_hashes(_cropped(rgb, inner), WINDOWS)
    return Fingerprint(tuple(hashes), tuple(wholes)), content


def _apart(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Whether two boxes differ by more than 2 % of the first's size on some side."""
    width, height = a[2] - a[0], a[3] - a[1]
    return any(
        abs(x - y) > 0.02 * (width if i % 2 == 0 else height)
        for i, (x, y) in enumerate(zip(a, b, strict=True))
    )


def fingerprint(image: Image.Image) -> Fingerprint:
    return analyse(image)[0]


def _wholes(print_: Fingerprint) -> tuple[int, ...]:
    return tuple(print_.hashes[i] for i in print_.wholes)


def distance(a: Fingerprint, b: Fingerprint) -> int:
    """Differing bits between the closest hashes: either picture whole against every window
    of the other (a crop of one is close to a window of the other)."""
    if not a.hashes or not b.hashes:
        return HASH_BITS
    pairs = itertools.chain(
        itertools.product(_wholes(a), b.hashes), itertools.product(a.hashes, _wholes(b))
    )
    return min(((x ^ y) & _MASK64).bit_count() for x, y in pairs)


def compare(a: Fingerprint, b: Fingerprint) -> float:
    """0 (unrelated: half the bits differ, as for random hashes) … 1 (identical)."""
    return max(0.0, 1.0 - distance(a, b) / (HASH_BITS / 2))


def same_picture(a: Fingerprint, b: Fingerprint) -> bool:
    return distance(a, b) <= SAME_BITS


Verdict = Literal["same", "similar", "different"]


@dataclass(frozen=True)
class Match:
    verdict: Verdict
    why: str  # e.g. "picture 0.97, text 0.99"
    score: float = 0.0  # how alike the pictures are (compare), 0 … 1


def screenshots_match(fp_a: Fingerprint, text_a: str, fp_b: Fingerprint, text_b: str) -> Match:
    """The same picture and the same text (or none): "same"; the same picture with other
    text: "similar" (never merged, shown to the moderator); otherwise "different"."""
    picture = compare(fp_a, fp_b)
    if not same_picture(fp_a, fp_b):
        return Match("different", f"picture {picture:.2f}", score=picture)
    score, same = text_similarity(text_a, text_b)
    why = f"picture {picture:.2f}, text {score:.2f}"
    if same:
        return Match("same", why, score=picture)
    return Match("similar", why + ", text differs", score=picture)
