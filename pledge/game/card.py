"""The game's pictures, drawn with Pillow from a stored picture and words already in the
reader's language: a question (small, with the game's band at its foot, so that a screenshot
of it does not pass as news), its answer (a fake stamped with its verdict, an original marked
as one) and the share card of a score."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageDraw

from pledge.hoaxes import stamp, stamp_pair

GAME_NAME = "Asli atau palsu?"
QUALITY = 70
CARD_SIZE = stamp.CARD_SIZE
_BAND_INK = (*stamp.INK, 225)


def jpeg(image: Image.Image) -> bytes:
    """A small JPEG for a phone on a slow network: no metadata, quality about 70."""
    buffer = BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=QUALITY, optimize=True)
    return buffer.getvalue()


def fitted(picture: Image.Image, box: tuple[int, int]) -> Image.Image:
    """The picture shrunk to fit the box whole (never grown)."""
    scale = min(1.0, box[0] / picture.width, box[1] / picture.height)
    if scale >= 1.0:
        return picture.convert("RGB")
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    return picture.convert("RGB").resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def question(picture: Image.Image, *, site_name: str) -> Image.Image:
    """The picture as a question: the band "Asli atau palsu? · <site>" across its foot."""
    canvas = picture.convert("RGBA")
    overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    size = max(10, min(22, round(canvas.width / 30)))
    face = stamp.font(size, bold=False)
    words = f"{GAME_NAME} · {site_name}" if site_name else GAME_NAME
    lines = stamp.wrap(words, face, canvas.width - size * 2, 1)
    band = round(size * 1.9)
    draw.rectangle((0, canvas.height - band, canvas.width, canvas.height), fill=_BAND_INK)
    draw.text(
        (size, canvas.height - band + (band - size * 1.15) / 2),
        lines[0] if lines else "",
        font=face,
        fill=(*stamp.WHITE, 235),
    )
    canvas.alpha_composite(overlay)
    return canvas.convert("RGB")


def fake_answer(picture: Image.Image, text: stamp.StampText) -> Image.Image:
    """A fake once answered: voided by its verdict's label, as the verdict's own picture."""
    return stamp.stamped(picture, text)


def real_answer(picture: Image.Image, *, label: str, address: str) -> Image.Image:
    """An original once answered: marked as the original, with the verdict's short link."""
    return stamp_pair.original(picture, label=label, address=address)


@dataclass(frozen=True, slots=True)
class CardText:
    """What a score's share card says, already in the reader's language."""

    score: int
    total: int
    said: str  # "I spotted 7 of 10 right"
    campaign: str  # the campaign's title
    address: str  # the campaign's link, without its scheme
    invitation: str  # "Play and join:"


def share_card(text: CardText) -> Image.Image:
    """The 1200 × 630 card of a score: the game's name, the score, the campaign and its link."""
    width, height = CARD_SIZE
    canvas = Image.new("RGB", CARD_SIZE, stamp.INK)
    draw = ImageDraw.Draw(canvas)
    margin = 56
    column = width - 2 * margin
    # A red edge on the left, as the verdict cards have their stripes: ours, not a quote.
    draw.rectangle((0, 0, 18, height), fill=stamp.RED)
    badge = stamp.largest_badge(GAME_NAME.upper(), column, 90, 64)
    stamp.badge(draw, GAME_NAME.upper(), (margin, margin), badge)
    top = margin + stamp.badge_size(GAME_NAME.upper(), badge)[1] + 28
    score = f"{text.score}/{text.total}"
    face = stamp.font(170)
    draw.text((margin, top - 20), score, font=face, fill=stamp.WHITE)
    left = margin + face.getlength(score) + 36
    blocks = [stamp.Block(text.said, 44, stamp.FACT, max_lines=3, space_after=0.3)]
    stamp.draw_blocks(draw, blocks, (left, top + 24, width - margin - left), 1.0)
    tail = [
        stamp.Block(text.invitation, 34, stamp.GREY, bold=False, max_lines=1, space_after=0.2),
        stamp.Block(text.campaign, 40, stamp.WHITE, max_lines=2, space_after=0.3),
        stamp.Block(text.address, 32, stamp.WHITE, bold=False, max_lines=1, space_after=0),
    ]
    room = height - margin - (top + 200)
    scale = stamp.fitted_scale(tail, column, room)
    needed = stamp.measure(tail, column, scale)
    stamp.draw_blocks(draw, tail, (margin, height - margin - needed, column), scale)
    return canvas
