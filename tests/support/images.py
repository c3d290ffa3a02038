"""Pictures to upload: screenshot-like images, and the same after a messenger re-sent them."""

from __future__ import annotations

import io
import random
from typing import Any

from PIL import Image, ImageDraw


def picture(seed: int = 1, size: tuple[int, int] = (800, 600)) -> Image.Image:
    """A screenshot-like picture: blocks of colour whose layout depends on the seed."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(image)
    width, height = size
    for _ in range(14):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = x0 + rng.randrange(60, width // 2), y0 + rng.randrange(40, height // 2)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
    return image


def encoded(image: Image.Image, fmt: str = "PNG", **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def screenshot(seed: int = 1) -> bytes:
    return encoded(picture(seed))


def resized_copy(seed: int = 1) -> bytes:
    """The same screenshot after a messenger got hold of it: smaller and re-compressed."""
    image = picture(seed).resize((480, 360), Image.Resampling.BILINEAR)
    return encoded(image, "JPEG", quality=55)


def notice(lines: list[str], size: tuple[int, int] = (720, 1280)) -> Image.Image:
    """A screenshot of an announcement as it is forwarded in chats: a coloured header, lines of
    text, a picture block; the text is what the picture says."""
    from PIL import ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 34)
    image = Image.new("RGB", size, (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0], 120), fill=(7, 94, 84))
    draw.ellipse((30, 20, 110, 100), fill=(200, 120, 60))
    y = 200
    for line in lines:
        draw.text((40, y), line, fill=(20, 20, 20), font=font)
        y += 60
    draw.rectangle((40, y + 40, size[0] - 40, y + 400), fill=(90, 140, 200))
    return image
