"""Peak memory of the process that re-encodes the largest images an upload may carry.

    python -m bench.upload_memory

Uploads are decoded in decoder processes (pledge/hoaxes/decoder.py), never in the web
process. Each image goes to a new decoder, which reports its peak resident memory (VmHWM)
with its answer: the interpreter, Pillow, the upload and the decoding together.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image


@dataclass(frozen=True)
class Case:
    name: str
    fmt: str
    size: tuple[int, int]
    mode: str
    options: dict[str, object]


# The largest of each kind that the upload rules accept (see pledge/hoaxes/media.py).
CASES = (
    Case("JPEG 6000 × 6000 (36 MP, baseline)", "JPEG", (6000, 6000), "RGB", {"quality": 60}),
    # A photo-like PNG of 7.9 MiB: the upload and its pixel data count in the budget as well.
    Case("PNG 4800 × 3700 RGBA (17.8 MP)", "PNG", (4800, 3700), "RGBA", {"compress_level": 7}),
    Case("WebP 2800 × 1950 (5.5 MP)", "WEBP", (2800, 1950), "RGB", {"quality": 60}),
)


_made: dict[str, bytes] = {}


def image_bytes(case: Case) -> bytes:
    """The case's image file, made once per process (the PNG takes seconds to compress)."""
    if case.name not in _made:
        _made[case.name] = _make(case)
    return _made[case.name]


def _make(case: Case) -> bytes:
    # A gradient with noise compresses like a photo, not like a blank page.
    small = Image.effect_noise((case.size[0] // 64, case.size[1] // 64), 48).convert("L")
    image = Image.merge("RGB", (small, small.rotate(90, expand=False), small)).resize(case.size)
    if case.mode == "RGBA":
        image.putalpha(200)
    out = io.BytesIO()
    image.save(out, case.fmt, **case.options)
    return out.getvalue()


@dataclass(frozen=True)
class Measured:
    name: str
    file_mib: float
    peak_mib: float  # of the decoder process


def measure() -> list[Measured]:
    from pledge.hoaxes.decoder import Decoders

    results = []
    for case in CASES:
        raw = image_bytes(case)
        decoders = Decoders(size=1)  # a new decoder for each image: its own peak
        try:
            decoded = decoders.decode(raw)
        finally:
            decoders.close()
        if decoded.image is None:
            raise RuntimeError(f"{case.name} was refused: {decoded.refusal}")
        results.append(
            Measured(name=case.name, file_mib=len(raw) / 2**20, peak_mib=decoded.peak_kib / 1024)
        )
    return results


def main() -> None:
    for m in measure():
        print(f"{m.name}: file {m.file_mib:.1f} MiB, decoder peak {m.peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
