"""Pictures for the demo's hoax reports: phone screenshots of made-up posts, drawn with Pillow
so that the demo needs no image files and every run draws the same pixels."""

from __future__ import annotations

import random
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
WIDTH, HEIGHT = 720, 1440


@dataclass(frozen=True, slots=True)
class Post:
    """A made-up post as an app would show it."""

    app: str  # the name in the app bar
    bar: tuple[int, int, int]  # the app bar's colour
    account: str
    caption: str
    sky: tuple[int, int, int]  # the photo's colours, top and bottom
    ground: tuple[int, int, int]
    seed: int


def _font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(str(FONT_DIR / name), size)
    except OSError:
        return ImageFont.load_default(size)


def _wrapped(draw: ImageDraw.ImageDraw, text: str, font: object, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) <= width:  # type: ignore[arg-type]
            line = candidate
        else:
            lines.append(line)
            line = word
    return [*lines, line] if line else lines


def _photo(post: Post, size: tuple[int, int]) -> Image.Image:
    """A staged "photo": a sky-to-ground gradient, a crowd of shapes and a figure."""
    width, height = size
    photo = Image.new("RGB", size)
    draw = ImageDraw.Draw(photo)
    for y in range(height):
        t = y / height
        colour = tuple(round(a + (b - a) * t) for a, b in zip(post.sky, post.ground, strict=True))
        draw.line((0, y, width, y), fill=colour)  # type: ignore[arg-type]
    rng = random.Random(post.seed)  # noqa: S311 - the same picture every time
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height // 2, height)
        r = rng.randrange(12, 40)
        shade = tuple(rng.randrange(30, 200) for _ in range(3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=shade)  # type: ignore[arg-type]
    centre = width // 2 + rng.randrange(-80, 80)
    draw.ellipse((centre - 70, height // 4, centre + 70, height // 4 + 140), fill=(224, 180, 140))
    draw.rounded_rectangle(
        (centre - 130, height // 4 + 150, centre + 130, height), radius=60, fill=(40, 60, 120)
    )
    return photo


def screenshot(post: Post) -> bytes:
    """A 720 x 1440 PNG of the post as a phone shows it: status bar, app bar, account, photo,
    caption and counts."""
    image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 48), fill=(0, 0, 0))
    draw.text((24, 10), "10.41", font=_font(24, bold=True), fill=(255, 255, 255))
    draw.text((WIDTH - 110, 10), "4G 62%", font=_font(22), fill=(255, 255, 255))
    draw.rectangle((0, 48, WIDTH, 140), fill=post.bar)
    draw.text((28, 70), post.app, font=_font(40, bold=True), fill=(255, 255, 255))
    draw.ellipse((28, 164, 100, 236), fill=post.bar)
    draw.text((120, 170), post.account, font=_font(30, bold=True), fill=(20, 20, 20))
    draw.text((120, 206), "2 jam · Publik", font=_font(22), fill=(110, 110, 110))
    caption_font = _font(34, bold=True)
    lines = _wrapped(draw, post.caption, caption_font, WIDTH - 56)
    y = 260
    for line in lines:
        draw.text((28, y), line, font=caption_font, fill=(20, 20, 20))
        y += 44
    photo_top = y + 20
    image.paste(_photo(post, (WIDTH, HEIGHT - photo_top - 150)), (0, photo_top))
    draw.text(
        (28, HEIGHT - 120),
        "♥ 12,4 rb   3.201 komentar   8.877 kali dibagikan",
        font=_font(26),
        fill=(60, 60, 60),
    )
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
