"""Verdict pictures: the hoax voided by its label across the whole of it, on a share card, a
phone story, or alone; pure functions of a picture and texts, drawn with Pillow."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import TypeAlias

from PIL import Image, ImageDraw, ImageFont

CARD_SIZE = (1200, 630)
STORY_SIZE = (1080, 1920)

_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # fonts-dejavu-core (Dockerfile)
_BOLD = "DejaVuSans-Bold.ttf"
_REGULAR = "DejaVuSans.ttf"

RED = (200, 16, 32)
WHITE = (255, 255, 255)
INK = (17, 17, 20)  # the background of our own parts: near black
GREY = (200, 200, 205)
FACT = (134, 239, 172)  # a light green: the correction, set apart from the struck claim
# Stripes lean 30° up to the right, far enough apart to leave the picture recognisable, close
# enough that any quarter of it is cut by several.
_ANGLE = math.radians(30)
_JPEG_QUALITY = 85

_Font: TypeAlias = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True, slots=True)
class StampText:
    """What a verdict picture says, already in the reader's language."""

    label: str  # the verdict, in Indonesian capitals: "SALAH"
    meaning: str  # the label's meaning in the reader's language, "" when it would repeat it
    claim: str  # the claim as it circulates: drawn struck through
    fact: str  # "Fact: ...", "" when the verdict has no short correction
    address: str  # the verdict's short link without its scheme: "example.id/v/12"
    site_name: str


@lru_cache(maxsize=64)
def font(size: int, *, bold: bool = True) -> _Font:
    """DejaVu Sans at this pixel size; Pillow's own font where DejaVu is not installed."""
    size = max(1, size)
    try:
        return ImageFont.truetype(str(_FONT_DIR / (_BOLD if bold else _REGULAR)), size)
    except OSError:
        return ImageFont.load_default(size=size)


def jpeg(image: Image.Image) -> bytes:
    """A baseline of every verdict picture: JPEG without metadata, text kept sharp (no chroma
    subsampling blurs the red on white)."""
    buffer = BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=_JPEG_QUALITY, subsampling=0)
    return buffer.getvalue()


# --- voiding a picture ------------------------------------------------------------------


def void(picture: Image.Image, label: str) -> Image.Image:
    """The picture greyed and darkened, cut by red stripes with the label written between
    them, corner to corner: any crop of it carries the verdict."""
    width, height = picture.size
    # Greyed, at under half its brightness and a third of its contrast: still recognisable,
    # never mistaken for the original, and its text no longer what the eye goes to.
    grey = picture.convert("L").point(lambda value: 45 + value * 0.28)
    voided = Image.merge("RGB", (grey, grey, grey)).convert("RGBA")
    overlay = Image.new("RGBA", picture.size, (0, 0, 0, 0))
    gap = max(12, round(min(width, height, max(width, height) * 0.5) * 0.2))
    _stripes(overlay, gap, (*RED, 230))
    _tile_label(overlay, label, gap)
    voided.alpha_composite(overlay)
    return voided.convert("RGB")


def _stripe_offsets(width: int, height: int, gap: int) -> list[float]:
    """Where each stripe meets the left edge (y), covering the whole area."""
    step = gap / math.cos(_ANGLE)
    rise = width * math.tan(_ANGLE)
    count = math.ceil((height + rise) / step) + 1
    return [index * step for index in range(count)]


def _stripes(overlay: Image.Image, gap: int, colour: tuple[int, int, int, int]) -> None:
    """Bands leaning up to the right, `gap` pixels apart across them."""
    width, height = overlay.size
    draw = ImageDraw.Draw(overlay)
    thick = max(2.0, gap * 0.14) / math.cos(_ANGLE)
    rise = width * math.tan(_ANGLE)
    for offset in _stripe_offsets(width, height, gap):
        draw.polygon(
            [
                (0, offset),
                (width, offset - rise),
                (width, offset - rise + thick),
                (0, offset + thick),
            ],
            fill=colour,
        )


def _tile_label(overlay: Image.Image, label: str, gap: int) -> None:
    """The label written along the middle of every gap between two stripes, over and over."""
    size = max(6, round(gap * 0.42))
    tile_font = font(size)
    text = f" {label} "
    probe = ImageDraw.Draw(overlay)
    left, top, right, bottom = probe.textbbox((0, 0), text, font=tile_font)
    tile_size = (max(1, math.ceil(right - left)), max(1, math.ceil(bottom - top)))
    tile = Image.new("RGBA", tile_size, (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((-left, -top), text, font=tile_font, fill=(*WHITE, 185))
    tile = tile.rotate(math.degrees(_ANGLE), resample=Image.Resampling.BICUBIC, expand=True)
    width, height = overlay.size
    along = (right - left) * 1.25
    step_x = along * math.cos(_ANGLE)
    middle = gap / math.cos(_ANGLE) / 2
    for row, offset in enumerate(_stripe_offsets(width, height, gap)):
        x = -step_x * ((row % 2) / 2 + 0.5)  # rows staggered, like bricks
        while x < width:
            # The tile's centre sits on the gap's middle line.
            y = offset + middle - (x + tile.width / 2) * math.tan(_ANGLE)
            overlay.paste(tile, (round(x), round(y - tile.height / 2)), tile)
            x += step_x


# --- text -------------------------------------------------------------------------------


def wrap(text: str, face: _Font, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap within width; a word wider than a line is cut; the last line ends
    in … when text is left over."""
    words: list[str] = []
    for word in text.split():
        while _length(word, face) > width and len(word) > 1:
            cut = _fitting(word, face, width)
            words.append(word[:cut])
            word = word[cut:]
        words.append(word)
    lines: list[str] = []
    current = ""
    for index, word in enumerate(words):
        candidate = f"{current} {word}".strip()
        if _length(candidate, face) <= width or not current:
            current = candidate
            continue
        lines.append(current)
        current = word
        if len(lines) == max_lines:
            lines[-1] = _ellipsis(" ".join([lines[-1], *words[index:]]), face, width)
            return lines
    if current:
        lines.append(current)
    return lines


def _length(text: str, face: _Font) -> float:
    return face.getlength(text)


def _fitting(word: str, face: _Font, width: float) -> int:
    """How many first characters of word fit width (at least one)."""
    cut = len(word)
    while cut > 1 and _length(word[:cut], face) > width:
        cut -= 1
    return cut


def _ellipsis(text: str, face: _Font, width: float) -> str:
    """The start of text that fits width with … after it."""
    text = text[: _fitting(text, face, width)]
    while text and _length(text.rstrip() + "…", face) > width:
        text = text[:-1]
    return text.rstrip() + "…"


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph of a layout: its text, its size, how it is drawn."""

    text: str
    size: int
    colour: tuple[int, int, int] = WHITE
    bold: bool = True
    max_lines: int = 3
    struck: bool = False
    space_after: float = 0.5  # of the size


def measure(blocks: list[Block], width: float, scale: float) -> float:
    """The height of the blocks set in width at scale."""
    height = 0.0
    for block in blocks:
        size = max(8, round(block.size * scale))
        lines = wrap(block.text, font(size, bold=block.bold), width, block.max_lines)
        height += len(lines) * size * 1.25 + block.space_after * size
    return height


def fitted_scale(blocks: list[Block], width: float, height: float) -> float:
    """The largest scale at most 1 at which the blocks fit the box."""
    scale = 1.0
    for _attempt in range(8):
        needed = measure(blocks, width, scale)
        if needed <= height:
            break
        scale *= max(0.6, height / needed * 0.98)
    return scale


def draw_blocks(
    draw: ImageDraw.ImageDraw, blocks: list[Block], box: tuple[float, float, float], scale: float
) -> float:
    """Set the blocks from (left, top) in width at scale; the y below the last."""
    left, top, width = box
    y = top
    for block in blocks:
        size = max(8, round(block.size * scale))
        face = font(size, bold=block.bold)
        for line in wrap(block.text, face, width, block.max_lines):
            draw.text((left, y), line, font=face, fill=block.colour)
            if block.struck:
                # Through the middle of the small letters: crossed out, still readable.
                middle = y + size * 0.62
                length = _length(line, face)
                draw.line((left, middle, left + length, middle), fill=RED, width=max(2, size // 9))
            y += size * 1.25
        y += block.space_after * size
    return y


def badge(
    draw: ImageDraw.ImageDraw,
    label: str,
    origin: tuple[float, float],
    size: int,
    fill: tuple[int, int, int] = RED,
) -> float:
    """The label, white on a box of `fill` (red) with a white edge, from origin; the box's
    right edge."""
    face = font(size)
    left, top, right, bottom = draw.textbbox((0, 0), label, font=face)
    pad = max(2, round(size * 0.28))
    x, y = origin
    box = (x, y, x + right - left + 2 * pad, y + bottom - top + 2 * pad)
    draw.rounded_rectangle(box, radius=pad, fill=fill, outline=WHITE, width=max(1, size // 16))
    draw.text((x + pad - left, y + pad - top), label, font=face, fill=WHITE)
    return box[2]


def badge_size(label: str, size: int) -> tuple[int, int]:
    """The width and height of badge(label, size)."""
    left, top, right, bottom = font(size).getbbox(label)
    pad = max(2, round(size * 0.28))
    return math.ceil(right - left) + 2 * pad, math.ceil(bottom - top) + 2 * pad


def largest_badge(label: str, width: float, height: float, limit: int) -> int:
    """The font size at most limit whose badge fits width × height."""
    size = limit
    for _attempt in range(8):
        badge_width, badge_height = badge_size(label, size)
        shrink = min(width / badge_width, height / badge_height)
        if shrink >= 1 or size <= 4:
            break
        size = max(4, int(size * shrink * 0.98))
    return size


# --- the three pictures -----------------------------------------------------------------


def _canvas(size: tuple[int, int], gap: int) -> Image.Image:
    """Our own background: near black, with faint red stripes, so that a crop of the text
    alone still looks like the verdict and not like a plain quote."""
    canvas = Image.new("RGBA", size, (*INK, 255))
    overlay = Image.new("RGBA", size, (0, 0, 0, 0))
    _stripes(overlay, gap, (*RED, 70))
    canvas.alpha_composite(overlay)
    return canvas


def _fit_into(picture: Image.Image, width: int, height: int) -> Image.Image:
    """The picture shrunk (or grown) to fit width × height whole, its proportions kept."""
    scale = min(width / picture.width, height / picture.height)
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    if size == picture.size:
        return picture
    return picture.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def _panel(
    canvas: Image.Image, picture: Image.Image, box: tuple[int, int, int, int], label: str
) -> None:
    """The voided picture centred in box (left, top, width, height) with the label's badge
    over its middle."""
    left, top, width, height = box
    fitted = void(_fit_into(picture.convert("L"), width, height), label)
    x = left + (width - fitted.width) // 2
    y = top + (height - fitted.height) // 2
    canvas.paste(fitted, (x, y))
    size = largest_badge(label, fitted.width * 0.8, fitted.height * 0.2, round(width * 0.16))
    badge_width, badge_height = badge_size(label, size)
    draw = ImageDraw.Draw(canvas)
    badge(
        draw,
        label,
        (x + (fitted.width - badge_width) / 2, y + (fitted.height - badge_height) / 2),
        size,
    )


def _heading(text: StampText, size: int) -> list[Block]:
    """The meaning of the label, when it says more than the label."""
    return [Block(text.meaning, size, WHITE, max_lines=1, space_after=0.6)] if text.meaning else []


def _claim(text: StampText, size: int, lines: int) -> list[Block]:
    return [
        Block(
            f"“{text.claim}”", size, GREY, bold=False, max_lines=lines, struck=True, space_after=0.7
        )
    ]


def fact_blocks(text: StampText, size: int, lines: int) -> list[Block]:
    """The correction, when the verdict has one."""
    return [Block(text.fact, size, FACT, max_lines=lines, space_after=0.6)] if text.fact else []


def _footer(
    draw: ImageDraw.ImageDraw, text: StampText, left: float, bottom: float, size: int
) -> None:
    """The short link in white and the site's name beside it, on the line above bottom."""
    face = font(size)
    draw.text((left, bottom - size * 1.2), text.address, font=face, fill=WHITE)
    small = font(round(size * 0.8), bold=False)
    after = left + _length(text.address, face) + size
    draw.text((after, bottom - size * 1.1), text.site_name, font=small, fill=GREY)


def card(picture: Image.Image | None, text: StampText) -> Image.Image:
    """The 1200 × 630 share card (og:image): the voided picture on the left when there is
    one, the verdict, the struck claim, the correction and the short link."""
    width, height = CARD_SIZE
    canvas = _canvas(CARD_SIZE, 90)
    margin = 48
    left = margin
    if picture is not None:
        panel = 440
        _panel(canvas, picture, (0, 0, panel, height), text.label)
        left = panel + margin
    column = width - left - margin
    draw = ImageDraw.Draw(canvas)
    footer = 34
    badge_size_ = largest_badge(text.label, column, 120, 84 if picture is not None else 100)
    badge(draw, text.label, (left, margin), badge_size_)
    top = margin + badge_size(text.label, badge_size_)[1] + 24
    blocks = [*_heading(text, 36), *_claim(text, 40, 3), *fact_blocks(text, 36, 4)]
    room = height - margin - footer * 1.6 - top
    draw_blocks(draw, blocks, (left, top, column), fitted_scale(blocks, column, room))
    _footer(draw, text, left, height - margin + 8, footer)
    return canvas.convert("RGB")


def story(picture: Image.Image | None, text: StampText) -> Image.Image:
    """The 1080 × 1920 picture for a phone story, its words inside the part no app covers."""
    width = STORY_SIZE[0]
    canvas = _canvas(STORY_SIZE, 140)
    margin, top, bottom = 72, 210, 1700  # apps lay their own bars over the top and bottom
    column = width - 2 * margin
    draw = ImageDraw.Draw(canvas)
    size = largest_badge(text.label, column, 220, 150)
    badge(draw, text.label, (margin, top), size)
    y: float = top + badge_size(text.label, size)[1] + 36
    head = [*_heading(text, 56), *_claim(text, 54, 4)]
    tail = fact_blocks(text, 50, 5)
    footer = 46
    if picture is None:
        # Alone, the words are larger, and sit in the middle of the room they have.
        heading = _heading(text, 72)
        blocks = [*_claim(text, 68, 5), *fact_blocks(text, 64, 6)]
        room = bottom - footer * 2 - y
        scale = fitted_scale(heading + blocks, column, room)
        y = draw_blocks(draw, heading, (margin, y, column), scale)
        spare = max(0.0, bottom - footer * 2 - y - measure(blocks, column, scale))
        draw_blocks(draw, blocks, (margin, y + spare / 3, column), scale)
    else:
        # The words take what they need (a third of the room at most), the picture the rest.
        room = bottom - footer * 2 - y
        scale = fitted_scale(head + tail, column, room / 3)
        y = draw_blocks(draw, head, (margin, y, column), scale)
        tail_height = measure(tail, column, scale)
        picture_height = round(bottom - footer * 2 - tail_height - y - 24)
        _panel(canvas, picture, (margin, round(y), column, picture_height), text.label)
        draw = ImageDraw.Draw(canvas)
        draw_blocks(draw, tail, (margin, y + picture_height + 24, column), scale)
    _footer(draw, text, margin, bottom, footer)
    return canvas.convert("RGB")


def footer_size(width: int) -> int:
    """The size of the band's text at the foot of a picture this wide."""
    return max(8, min(40, round(width / 26)))


def stamped(picture: Image.Image, text: StampText) -> Image.Image:
    """The picture at its own size, voided, the label's badge across its middle and a band
    at its foot with the correction and the short link."""
    width, height = picture.size
    canvas = void(picture, text.label).convert("RGBA")
    draw = ImageDraw.Draw(canvas)
    size = largest_badge(text.label, width * 0.84, height * 0.3, max(4, round(width * 0.2)))
    badge_width, badge_height = badge_size(text.label, size)
    badge(draw, text.label, ((width - badge_width) / 2, (height - badge_height) / 2), size)
    footer = footer_size(width)
    blocks = [
        *fact_blocks(text, footer, 3),
        Block(text.address, footer, WHITE, max_lines=1, space_after=0),
    ]
    pad = footer * 0.6
    scale = fitted_scale(blocks, width - 2 * pad, height * 0.3)
    band = measure(blocks, width - 2 * pad, scale) + 2 * pad
    draw.rectangle((0, height - band, width, height), fill=(*INK, 235))
    draw_blocks(draw, blocks, (pad, height - band + pad, width - 2 * pad), scale)
    return canvas.convert("RGB")
