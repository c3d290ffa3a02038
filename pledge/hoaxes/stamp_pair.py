"""The pair a verdict on a manipulated picture may publish: the original, marked as the original,
and the reported picture voided by its label as every verdict picture is (stamp.void), with the
changed regions outlined on top. Any crop of either says which one it is."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw

from pledge.hoaxes import stamp
from pledge.hoaxes.stamp import INK, WHITE, Block, StampText

GREEN = (21, 128, 61)
OUTLINE = (250, 204, 21)  # yellow: seen on the voided grey and on the red stripes alike

Region = tuple[int, int, int, int, float]  # x, y, width, height, share of changed pixels


def _corner_badge(
    canvas: Image.Image, label: str, colour: tuple[int, int, int], *, share: float = 0.5
) -> None:
    """The label in a box in the top left corner, at most `share` of the width."""
    width, height = canvas.size
    size = stamp.largest_badge(label, width * share, height * 0.16, max(4, round(width * 0.09)))
    corner = max(4, round(width * 0.02))
    stamp.badge(ImageDraw.Draw(canvas), label, (corner, corner), size, fill=colour)


def _footer(canvas: Image.Image, blocks: list[Block]) -> None:
    """A dark band at the foot of the picture holding these blocks."""
    width, height = canvas.size
    pad = stamp.footer_size(width) * 0.6
    scale = stamp.fitted_scale(blocks, width - 2 * pad, height * 0.3)
    band = stamp.measure(blocks, width - 2 * pad, scale) + 2 * pad
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, height - band, width, height), fill=(*INK, 235))
    stamp.draw_blocks(draw, blocks, (pad, height - band + pad, width - 2 * pad), scale)


def original(picture: Image.Image, *, label: str, address: str) -> Image.Image:
    """The original as it is, marked as the original in a corner, with the verdict's short
    link at its foot."""
    canvas = picture.convert("RGBA")
    _corner_badge(canvas, label, GREEN)
    _footer(canvas, [Block(address, stamp.footer_size(canvas.width), WHITE, max_lines=1)])
    return canvas.convert("RGB")


def changed(picture: Image.Image, regions: Sequence[Region], text: StampText) -> Image.Image:
    """The reported picture voided by its label, the changed regions outlined, the label in a
    corner (the middle stays clear for the outlines) and the correction and short link at its
    foot. `regions` are in the picture's own pixels."""
    canvas = stamp.void(picture, text.label).convert("RGBA")
    draw = ImageDraw.Draw(canvas)
    line = max(3, round(max(canvas.size) / 160))
    for x, y, width, height, _share in regions:
        draw.rectangle((x, y, x + width, y + height), outline=OUTLINE, width=line)
    _corner_badge(canvas, text.label, stamp.RED, share=0.6)
    size = stamp.footer_size(canvas.width)
    blocks = [*stamp.fact_blocks(text, size, 3), Block(text.address, size, WHITE, max_lines=1)]
    _footer(canvas, blocks)
    return canvas.convert("RGB")
