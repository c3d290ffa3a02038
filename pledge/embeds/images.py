"""Pictures of a campaign's count: the SVG badge and the PNG share card, both pure functions."""

from __future__ import annotations

import hashlib
import re
from io import BytesIO
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, ImageDraw, ImageFont

from pledge.cache import Cache

# --- the badge -------------------------------------------------------------------------

CHAR_WIDTH = 7  # px per character of Verdana 11 px, near enough for a badge
PADDING = 6


# Characters XML 1.0 does not allow even escaped: one in a title would make the badge invalid.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text_width(text: str) -> int:
    return len(text) * CHAR_WIDTH + 2 * PADDING


def badge_svg(*, label: str, value: str, title: str) -> str:
    """A shields-style badge: the label on grey, the value on colour; text is XML-escaped."""
    label, value, title = (_NOT_XML.sub("", text) for text in (label, value, title))
    left = _text_width(label)
    right = _text_width(value)
    width = left + right
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="20" role="img" aria-label={quoteattr(title)}>'
        f"<title>{escape(title)}</title>"
        '<linearGradient id="s" x2="0" y2="100%">'
        '<stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>'
        '<g clip-path="url(#r)">'
        f'<rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="#b3123b"/>'
        f'<rect width="{width}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" '
        'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left / 2:g}" y="14">{escape(label)}</text>'
        f'<text x="{left + right / 2:g}" y="14">{escape(value)}</text>'
        "</g></svg>"
    )


# --- the share card --------------------------------------------------------------------

SHARE_SIZE = (1200, 630)
MARGIN = 72
TITLE_SIZE = 64
TITLE_LINES = 3
BRAND = (179, 18, 59)  # the site's theme colour, #b3123b


def rounded_count(count: int) -> tuple[int, bool]:
    """The count as a share card shows it: exact below 1000, else rounded down to two
    significant figures (8215 -> 8200). The flag says whether it is "at least" (8.200+)."""
    if count < 1000:
        return count, False
    step = 10 ** (len(str(count)) - 2)
    return count // step * step, True


def _wrap(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    width: int,
) -> list[str]:
    """Greedy word wrap to at most TITLE_LINES lines; the last one ends in … if cut."""
    lines: list[str] = []
    current = ""
    words = text.split()
    for index, word in enumerate(words):
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=font) <= width or not current:
            current = candidate
            continue
        lines.append(current)
        current = word
        if len(lines) == TITLE_LINES:
            current = " ".join(words[index:])
            break
    if current:
        lines.append(current)
    if len(lines) > TITLE_LINES or (lines and draw.textlength(lines[-1], font=font) > width):
        lines = lines[:TITLE_LINES]
        last = lines[-1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1].rstrip()
        lines[-1] = last + "…"
    return lines


# Drawn share cards, by title, headline and site name.
_share_cards: Cache[tuple[str, str, str], bytes] = Cache("embeds.share_cards", size=64)


def share_png(*, title: str, headline: str, site_name: str) -> bytes:
    """The 1200x630 share card. Cached: callers pass the rounded count in ``headline``,
    so the picture is drawn again only when that text (or the title) changes."""
    key = (title, headline, site_name)
    card = _share_cards.get(key)
    if card is None:
        card = _share_cards.put(key, _draw_share_card(title, headline, site_name))
    return card


def _draw_share_card(title: str, headline: str, site_name: str) -> bytes:
    """The share card's picture: the title, the count and the site's name, as a PNG."""
    image = Image.new("RGB", SHARE_SIZE, "white")
    draw = ImageDraw.Draw(image)
    width = SHARE_SIZE[0] - 2 * MARGIN
    draw.rectangle((0, 0, SHARE_SIZE[0], 16), fill=BRAND)

    title_font = ImageFont.load_default(size=TITLE_SIZE)
    y = MARGIN
    for line in _wrap(draw, title, title_font, width):
        draw.text((MARGIN, y), line, font=title_font, fill=(20, 20, 20))
        y += int(TITLE_SIZE * 1.2)

    count_font = ImageFont.load_default(size=56)
    draw.text((MARGIN, SHARE_SIZE[1] - 200), headline, font=count_font, fill=BRAND)
    site_font = ImageFont.load_default(size=36)
    draw.text((MARGIN, SHARE_SIZE[1] - 100), site_name, font=site_font, fill=(90, 90, 90))

    buffer = BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def share_etag(*parts: object) -> str:
    """A strong ETag from the share card's cache key: equal keys draw equal pictures."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()
    return f'"{digest}"'
