"""Peak memory of a process re-encoding the largest images an upload may carry.

    python -m bench.upload_memory

Each image is processed in a fresh Python process, which reports its peak resident memory
(ru_maxrss) before and after ``process_upload``; the difference is what one upload costs.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

# The child reads its own high-water mark (VmHWM): ru_maxrss can carry the parent's over.
CHILD = """
import json, sys
from pathlib import Path
from pledge.hoaxes.media import process_upload
def peak_kib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
raw = Path(sys.argv[1]).read_bytes()
before = peak_kib()
result = process_upload(raw)
after = peak_kib()
print(json.dumps({"before_kib": before, "after_kib": after, "width": result.width,
                  "height": result.height}))
"""


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
    Case("PNG 5500 × 4150 RGBA (23 MP)", "PNG", (5500, 4150), "RGBA", {"compress_level": 9}),
    Case("WebP 2900 × 1950 (5.7 MP)", "WEBP", (2900, 1950), "RGB", {"quality": 60}),
)


def image_bytes(case: Case) -> bytes:
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
    peak_mib: float
    added_mib: float


def measure() -> list[Measured]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            raw = image_bytes(case)
            path = Path(tmp) / "upload"
            path.write_bytes(raw)
            output = subprocess.run(
                [sys.executable, "-c", CHILD, str(path)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            data = json.loads(output.strip().splitlines()[-1])
            results.append(
                Measured(
                    name=case.name,
                    file_mib=len(raw) / 2**20,
                    peak_mib=data["after_kib"] / 1024,
                    added_mib=(data["after_kib"] - data["before_kib"]) / 1024,
                )
            )
    return results


def main() -> None:
    for m in measure():
        print(
            f"{m.name}: file {m.file_mib:.1f} MiB, peak {m.peak_mib:.0f} MiB "
            f"(+{m.added_mib:.0f} MiB for the upload)"
        )


if __name__ == "__main__":
    main()
