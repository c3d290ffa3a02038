"""Photos and their doctored copies, made here, for the difference view between an original
and a fake.

A photo is drawn from a seed: a lit gradient, overlapping shapes, lines, words and grain, so
that it has the texture feature matching needs. A fake is the photo with one region changed,
then cropped, scaled, perhaps turned and re-toned, and saved again as a JPEG: what a picture
goes through on its way to a hoax. Each fake knows where its change ended up.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

Box = tuple[int, int, int, int]  # left, top, right, bottom (exclusive)

WORDS = (
    "VOTE",
    "RALLY",
    "SUNDAY",
    "MARKET",
    "JALAN",
    "SQUARE",
    "PEOPLE",
    "RIVER",
    "BRIDGE",
    "HALL",
    "SCHOOL",
    "TEMPLE",
)


def photo(seed: int = 1, size: tuple[int, int] = (1200, 900)) -> Image.Image:
    """A textured picture, the same for the same seed and size."""
    rng = random.Random(seed)
    width, height = size
    image = Image.fromarray(_lit_gradient(rng, width, height))
    draw = ImageDraw.Draw(image)
    for _ in range(110):
        _shape(draw, rng, width, height)
    for _ in range(30):
        font = ImageFont.load_default(size=rng.randrange(18, 64))
        where = (rng.randrange(width - 100), rng.randrange(height - 40))
        draw.text(where, rng.choice(WORDS), fill=_colour(rng), font=font)
    image = image.filter(ImageFilter.GaussianBlur(0.8))
    grain = np.random.default_rng(seed).normal(0.0, 6.0, (height, width, 3))
    pixels = np.asarray(image, dtype=np.float32) + grain
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _lit_gradient(rng: random.Random, width: int, height: int) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    layers = []
    for _ in range(3):
        angle = rng.uniform(0, 2 * math.pi)
        ramp = (xs * math.cos(angle) + ys * math.sin(angle)) / max(width, height)
        layers.append(rng.uniform(40, 120) + rng.uniform(60, 120) * ramp)
    return np.clip(np.stack(layers, axis=-1), 0, 255).astype(np.uint8)


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


def _shape(draw: ImageDraw.ImageDraw, rng: random.Random, width: int, height: int) -> None:
    x0, y0 = rng.randrange(width), rng.randrange(height)
    x1, y1 = x0 + rng.randrange(8, 160), y0 + rng.randrange(8, 160)
    kind = rng.randrange(4)
    if kind == 0:
        draw.rectangle((x0, y0, x1, y1), fill=_colour(rng), outline=_colour(rng), width=2)
    elif kind == 1:
        draw.ellipse((x0, y0, x1, y1), fill=_colour(rng))
    elif kind == 2:
        points = [(x0 + rng.randrange(-80, 80), y0 + rng.randrange(-80, 80)) for _ in range(5)]
        draw.polygon(points, fill=_colour(rng))
    else:
        draw.line((x0, y0, x1, y1), fill=_colour(rng), width=rng.randrange(1, 6))


def pasted(image: Image.Image, into: Box, source: tuple[int, int]) -> Image.Image:
    """The picture with the block at `into` replaced by the block of the same size found at
    `source` (its top-left corner): an object copied over another, as a cloning tool does."""
    left, top, right, bottom = into
    block = image.crop((source[0], source[1], source[0] + right - left, source[1] + bottom - top))
    changed = image.copy()
    changed.paste(block, (left, top))
    return changed


def relabelled(image: Image.Image, into: Box, text: str) -> Image.Image:
    """The picture with a sign painted over `into` and new words written on it."""
    changed = image.copy()
    draw = ImageDraw.Draw(changed)
    draw.rectangle(into, fill=(238, 236, 220))
    font = ImageFont.load_default(size=(into[3] - into[1]) // 3)
    draw.text((into[0] + 8, into[1] + 8), text, fill=(180, 20, 30), font=font)
    return changed


def bannered(image: Image.Image, where: tuple[int, int], height: int = 60) -> Image.Image:
    """The picture with a campaign banner across it: the same words in the same font that
    another picture of the same campaign may carry."""
    changed = image.copy()
    draw = ImageDraw.Draw(changed)
    font = ImageFont.load_default(size=height)
    left, top = where
    draw.rectangle((left - 10, top - 10, left + 900, top + height + 20), fill=(250, 250, 250))
    draw.text(where, "VOTE RINA SUKMA 2029", fill=(200, 0, 0), font=font)
    return changed


def fine_print(image: Image.Image) -> Image.Image:
    """The picture covered in lines of small print, as a newspaper page or a leaflet: edges a
    pixel wide everywhere, which resampling and JPEG smear differently each time."""
    changed = image.copy()
    draw = ImageDraw.Draw(changed)
    font = ImageFont.load_default(size=11)
    line = " ".join(WORDS) * 3
    for top in range(0, image.height, 14):
        draw.text((0, top), line, fill=(20, 20, 20), font=font)
    return changed


def stroked(image: Image.Image, lines: list[Box], width: int = 16) -> Image.Image:
    """The picture with thick strokes drawn over it, from corner to corner of each box."""
    changed = image.copy()
    draw = ImageDraw.Draw(changed)
    for line in lines:
        draw.line(line, fill=(250, 30, 160), width=width)
    return changed


def tinted(image: Image.Image, into: Box, red: int) -> Image.Image:
    """The picture with `red` levels of red added over `into`: a flushed face, a shirt that
    changed colour."""
    pixels = np.asarray(image, dtype=np.int16).copy()
    left, top, right, bottom = into
    pixels[top:bottom, left:right, 0] += red
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


@dataclass(frozen=True)
class Copy:
    """A picture made from a photo, and where a box of the photo lies in it."""

    data: bytes
    size: tuple[int, int]
    # Forward map of the photo's pixels into the copy's: x' = a x + b y + c, y' = d x + e y + f.
    forward: tuple[float, float, float, float, float, float]

    def box_of(self, box: Box) -> Box:
        """The bounding box, in the copy, of a box of the photo."""
        a, b, c, d, e, f = self.forward
        corners = [(x, y) for x in (box[0], box[2]) for y in (box[1], box[3])]
        xs = [a * x + b * y + c for x, y in corners]
        ys = [d * x + e * y + f for x, y in corners]
        return (round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys)))


def reshared(
    image: Image.Image,
    *,
    crop: float = 0.08,
    scale: float = 0.7,
    degrees: float = 0.0,
    brightness: float = 1.0,
    contrast: float = 1.0,
    quality: int = 60,
) -> Copy:
    """The picture cropped by `crop` of its width off the left and of its height off the top,
    turned by `degrees` about the centre of what remains (cropped inwards so that no empty
    corner shows), scaled, re-toned and saved as a JPEG at `quality`."""
    width, height = image.size
    left, top = round(width * crop), round(height * crop)
    kept_w, kept_h = width - left, height - top
    angle = math.radians(degrees)
    # What a turned frame must give up on each side to stay filled.
    inset_x = math.ceil(kept_h * abs(math.sin(angle)) / 2)
    inset_y = math.ceil(kept_w * abs(math.sin(angle)) / 2)
    out_w, out_h = kept_w - 2 * inset_x, kept_h - 2 * inset_y
    cos, sin = math.cos(angle), math.sin(angle)
    centre_x, centre_y = left + kept_w / 2, top + kept_h / 2
    # Forward: turn about the centre, then move the centre to the middle of the output.
    a, b = cos, sin
    d, e = -sin, cos
    c = out_w / 2 - (a * centre_x + b * centre_y)
    f = out_h / 2 - (d * centre_x + e * centre_y)
    # Pillow asks for the inverse: for each output pixel, where to read in the input.
    inverse = (cos, -sin, centre_x - cos * out_w / 2 + sin * out_h / 2)
    inverse += (sin, cos, centre_y - sin * out_w / 2 - cos * out_h / 2)
    turned = image.transform(
        (out_w, out_h), Image.Transform.AFFINE, inverse, resample=Image.Resampling.BICUBIC
    )
    size = (round(out_w * scale), round(out_h * scale))
    result = turned.resize(size, Image.Resampling.LANCZOS)
    result = ImageEnhance.Brightness(result).enhance(brightness)
    result = ImageEnhance.Contrast(result).enhance(contrast)
    sx, sy = size[0] / out_w, size[1] / out_h
    forward = (a * sx, b * sx, c * sx, d * sy, e * sy, f * sy)
    return Copy(encoded(result, "JPEG", quality=quality), size, forward)


def encoded(image: Image.Image, fmt: str = "JPEG", **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def stored(image: Image.Image) -> bytes:
    """The picture as the site stores an original: a JPEG at the site's quality."""
    return encoded(image, "JPEG", quality=85)


def flat(
    size: tuple[int, int] = (800, 600), colour: tuple[int, int, int] = (90, 120, 160)
) -> bytes:
    """A picture of one colour and nothing else: no feature to match."""
    return encoded(Image.new("RGB", size, colour), "PNG")
