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
