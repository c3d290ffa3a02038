"""What reading a picture's provenance adds to a report, and what comparing an original with
a reported picture costs, each in a fresh decoder-like process.

    python -m bench.provenance

A decoder process (pledge/hoaxes/decoder.py) imports pledge.hoaxes.media, which imports the
provenance reader; c2pa's library is loaded only when a file carries Content Credentials. Each
case runs in a new process that first imports media, as a decoder does at its start, then reads
the file's provenance: the CPU time of the read (processor time of the process, all threads)
and what it added to the peak resident memory (VmHWM) are what a report pays. A decoder reads
one upload after another; the first signed file in a decoder loads c2pa, so that is measured.

Comparing runs difference.compare (OpenCV) on two stored pictures, also in a fresh process: its
CPU time and the process's peak, OpenCV's import included, since a decoder that compares loads
it for that request and is retired afterwards.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

RUNS = 5

_READ = r"""
import json, sys, time
from pathlib import Path
from pledge.hoaxes import media, provenance  # as a decoder at its start

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

raw = Path(sys.argv[1]).read_bytes()
before_kib, before = hwm(), time.process_time()
found = provenance.read(raw)
cpu = time.process_time() - before
print(json.dumps({"cpu_ms": cpu * 1000, "added_kib": hwm() - before_kib,
                  "certainty": str(found.certainty)}))
"""

_COMPARE = r"""
import json, sys, time
from pathlib import Path

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

original, suspect = Path(sys.argv[1]).read_bytes(), Path(sys.argv[2]).read_bytes()
before = time.process_time()
from pledge.hoaxes import difference
found = difference.compare(original, suspect)
cpu = time.process_time() - before
print(json.dumps({"cpu_ms": cpu * 1000, "peak_kib": hwm(), "outcome": str(found.outcome),
                  "regions": len(found.regions)}))
"""

# What a report may carry: the common upload, and the files that make the reader work most.
SAMPLES = {
    "signed": "photo with Content Credentials (JPEG 1920 × 1080, first in its decoder)",
    "xmp": "photo with XMP and EXIF written by exiftool (JPEG)",
    "stable-diffusion": "generated picture with its prompt in PNG text (Stable Diffusion)",
    "screenshot": "phone screenshot, no metadata (PNG 1080 × 2400)",
    "whatsapp": "picture passed on by WhatsApp (JPEG, 1600 px)",
}


def sample(name: str) -> bytes:
    """The file of a sample, made with the tools the tests use."""
    from tests.support import provenance_files as files
    from tests.support.images import encoded, picture

    if name == "signed":
        return files.signed_jpeg(size=(1920, 1080))
    if name == "xmp":
        return files.xmp_jpeg()
    if name == "stable-diffusion":
        return files.sd_png()
    if name == "screenshot":
        return encoded(picture(7, (1080, 2400)), "PNG")
    if name == "whatsapp":
        return files.messenger_copy(files.signed_jpeg(size=(1920, 1080)), 1600)
    raise ValueError(name)


def pair() -> tuple[bytes, bytes]:
    """A 2048 × 1536 original and a re-shared fake of it: a region pasted in, cropped, scaled
    and re-compressed, both as the site stores them."""
    from tests.support import difference_files as files

    original = files.photo(11, (2048, 1536))
    fake = files.pasted(original, (900, 600, 1160, 800), (200, 150))
    return files.stored(original), files.reshared(fake, degrees=3.0).data


@dataclass(frozen=True)
class Read:
    name: str
    label: str
    cpu_ms: list[float]
    added_mib: list[float]
    certainty: str


@dataclass(frozen=True)
class Compared:
    cpu_ms: list[float]
    peak_mib: list[float]
    outcome: str
    regions: int


def _run(code: str, *arguments: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code, *arguments],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure_reads(runs: int = RUNS) -> list[Read]:
    """Each sample made here, then read in fresh processes that never made one (making a
    signed file loads c2pa)."""
    reads = []
    with tempfile.TemporaryDirectory() as folder:
        paths = {name: Path(folder) / name for name in SAMPLES}
        for name, path in paths.items():
            path.write_bytes(sample(name))
        for name, label in SAMPLES.items():
            reads.append(_read(name, label, paths[name], runs))
    return reads


def _read(name: str, label: str, path: Path, runs: int) -> Read:
    rows = [_run(_READ, str(path)) for _run_number in range(runs)]
    return Read(
        name=name,
        label=label,
        cpu_ms=[float(row["cpu_ms"]) for row in rows],  # type: ignore[arg-type]
        added_mib=[int(row["added_kib"]) / 1024 for row in rows],  # type: ignore[call-overload]
        certainty=str(rows[0]["certainty"]),
    )


def measure_compare(runs: int = 3) -> Compared:
    with tempfile.TemporaryDirectory() as folder:
        original, suspect = Path(folder) / "original", Path(folder) / "suspect"
        made = pair()
        original.write_bytes(made[0])
        suspect.write_bytes(made[1])
        rows = [_run(_COMPARE, str(original), str(suspect)) for _run_number in range(runs)]
    return Compared(
        cpu_ms=[float(row["cpu_ms"]) for row in rows],  # type: ignore[arg-type]
        peak_mib=[int(row["peak_kib"]) / 1024 for row in rows],  # type: ignore[call-overload]
        outcome=str(rows[0]["outcome"]),
        regions=int(rows[0]["regions"]),  # type: ignore[call-overload]
    )


def report(reads: list[Read], compared: Compared, verdict: object) -> list[str]:
    """The section of bench/RESULTS.md; `verdict(met)` writes met or missed."""
    mark = verdict  # a function of bench.run
    lines = [
        "### Uploads: what reading provenance adds to a report",
        "",
        f"Each file read {RUNS} times, each time in a new process that first imports "
        "`pledge.hoaxes.media` as a decoder does; CPU time of the read and what it added to "
        "the process's peak resident memory (the first signed file in a decoder loads c2pa's "
        "library). Median and largest of the runs. Target: at most 50 ms and 20 MB.",
        "",
        "| file | found | CPU ms (median, max) | memory added MiB (median, max) | |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for read in reads:
        worst_ms, worst_mib = max(read.cpu_ms), max(read.added_mib)
        met = worst_ms <= 50 and worst_mib * 1.048576 <= 20
        lines.append(
            f"| {read.label} | {read.certainty} | {statistics.median(read.cpu_ms):.1f}, "
            f"{worst_ms:.1f} | {statistics.median(read.added_mib):.1f}, {worst_mib:.1f} | "
            f"{mark(met)} |"  # type: ignore[operator]
        )
    lines += [
        "",
        "### Comparing an original with a reported picture",
        "",
        "`difference.compare` on a 2048 × 1536 original and a re-shared fake of it (a region "
        "pasted in, cropped, scaled, re-compressed), in a new process, OpenCV's import included "
        f"(as in the decoder that compares): {compared.outcome}, {compared.regions} region(s) "
        f"found; CPU {statistics.median(compared.cpu_ms):.0f} ms (median of "
        f"{len(compared.cpu_ms)}; largest {max(compared.cpu_ms):.0f} ms), peak resident "
        f"memory {max(compared.peak_mib):.0f} MiB. Computed once, when a moderator attaches "
        "the original, and kept.",
    ]
    return lines


def main() -> None:
    for line in report(measure_reads(), measure_compare(), lambda met: "met" if met else "missed"):
        print(line)


if __name__ == "__main__":
    main()
