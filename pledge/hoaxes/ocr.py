"""The text of a screenshot: read by tesseract in the decoder process (`read_text`), and two
readings compared word by word with OCR's confusions forgiven (`text_similarity`), so that a
copy of a screenshot reads as the same text and a twin with one word or number changed does
not. Used by `fingerprint.screenshots_match`; Pillow and the standard library only, as the
decoder process imports it.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from io import BytesIO

from PIL import Image, ImageChops, ImageFilter

log = logging.getLogger(__name__)

# --- reading ----------------------------------------------------------------------------------

# The tesseract program; None looks it up on PATH.
TESSERACT: str | None = None
# Indonesian alone: the English model costs 0.1–0.2 s of loading and reading for the few
# English words of a screenshot (its Latin letters read them anyway).
OCR_LANGUAGES = "ind"
# Text is read with the picture's shorter side at this many pixels: screenshot text is then
# 14–22 pixels high, which tesseract reads well, and faster than at full size (measured on
# 40 screenshots: as many words read right as at 540 pixels, the slowest 0.8 s instead of 1).
OCR_SIDE = 480
OCR_TIMEOUT = 20.0
TEXT_LIMIT = 4000
# Words tesseract is less sure of are dropped (noise in photos and icons).
_MIN_CONFIDENCE = 40.0
# Words with digits must be surer: a number misread in one copy would make it "changed".
_MIN_DIGIT_CONFIDENCE = 80.0
# Binarisation: a pixel is ink where it differs from its neighbourhood's average by this.
_INK_STEP = 60
# A picture has text worth reading when some rows cross the ink this many times.
_TEXT_RUNS = 12
_TEXT_ROWS = 6
_warned = False


def _tesseract() -> str | None:
    global _warned
    path = shutil.which(TESSERACT or "tesseract")
    if path is None and not _warned:
        _warned = True
        log.warning("tesseract is not installed: screenshots are compared without their text")
    return path


def _ink(picture: Image.Image) -> Image.Image:
    """Black ink on white at the OCR scale: dark text on light backgrounds and light text on
    dark ones (dark mode, coloured header bars) alike; smooth areas (photos, gradients)
    become white."""
    grey = picture.convert("L")
    # Never enlarged: the neighbourhood of a pixel must stay wider than a letter's stroke.
    scale = min(1.0, OCR_SIDE / min(grey.size))
    size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
    if max(size) > 4 * OCR_SIDE:
        scale = 4 * OCR_SIDE / max(grey.size)
        size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
    grey = grey.resize(size, Image.Resampling.BOX)
    background = grey.filter(ImageFilter.BoxBlur(max(4, OCR_SIDE // 45)))
    darker = ImageChops.subtract(background, grey).point(lambda v: 0 if v > _INK_STEP else 255)
    lighter = ImageChops.subtract(grey, background).point(lambda v: 0 if v > _INK_STEP else 255)
    # Whether the background is light, judged on a wider neighbourhood: within a dense word
    # of light text the near average may already be light.
    wide = grey.filter(ImageFilter.BoxBlur(max(12, OCR_SIDE // 15)))
    light = wide.point(lambda v: 255 if v >= 128 else 0)
    return Image.composite(darker, lighter, light)


def _has_text(ink: Image.Image) -> bool:
    """Whether some rows cross many short strokes, as lines of text do (shapes and photos
    cross a few edges)."""
    width = ink.width
    data = ink.tobytes()
    rows = 0
    for y in range(0, ink.height, 2):
        row = data[y * width : (y + 1) * width]
        if row.count(0) < _TEXT_RUNS:
            continue
        if row.count(b"\xff\x00") >= _TEXT_RUNS:
            rows += 1
            if rows >= _TEXT_ROWS:
                return True
    return False


def read_text(image: Image.Image) -> str:
    """The picture's text as tesseract reads it, a line per line of text, whitespace
    normalised, at most TEXT_LIMIT characters; "" for a picture without text, or when
    tesseract is not installed or fails. Lines cut by the picture's top or bottom edge are
    left out: a cropped copy reads the same."""
    if min(image.size) < 16:
        return ""
    ink = _ink(image)
    if not _has_text(ink):
        return ""
    program = _tesseract()
    if program is None:
        return ""
    buffer = BytesIO()
    ink.convert("1").save(buffer, "PNG")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    command = [
        program, "stdin", "stdout", "-l", OCR_LANGUAGES, "--oem", "1", "--psm", "6",
        "-c", "tessedit_do_invert=0", "tsv",
    ]  # fmt: skip
    try:
        done = subprocess.run(  # noqa: S603
            command,
            input=buffer.getvalue(),
            capture_output=True,
            timeout=OCR_TIMEOUT,
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as error:
        log.warning("tesseract failed: %s", error)
        return ""
    if done.returncode != 0:
        log.warning("tesseract failed: %s", done.stderr.decode(errors="replace")[-300:])
        return ""
    return _lines(done.stdout.decode(errors="replace"), ink.height)


def _lines(tsv: str, height: int) -> str:
    lines: dict[tuple[str, str, str], list[str]] = {}
    edges: set[tuple[str, str, str]] = set()
    for record in tsv.splitlines()[1:]:
        fields = record.split("\t")
        if len(fields) < 12 or fields[0] != "5":
            continue
        key = (fields[2], fields[3], fields[4])
        top, tall = int(fields[7]), int(fields[9])
        if top <= 1 or top + tall >= height - 1:
            edges.add(key)
        word = fields[11].strip()
        try:
            confidence = float(fields[10])
        except ValueError:
            continue
        needed = _MIN_DIGIT_CONFIDENCE if any(c.isdigit() for c in word) else _MIN_CONFIDENCE
        if word and confidence >= needed:
            lines.setdefault(key, []).append(word)
    text = "\n".join(" ".join(words) for key, words in lines.items() if key not in edges and words)
    return text[:TEXT_LIMIT]


# --- the decision --------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The text's words as compared: lower case, letters and digits; numbers whatever their
    length, other words from three characters (shorter ones are mostly icons read as
    letters)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return [w for w in _WORD.findall(folded) if len(w) > 2 or w.isdigit()]


# What OCR confuses, folded to one character: in a word, digits that look like letters
# (0/o, 1/l/i, 5/s, 8/b …); in a number, letters that look like digits.
_AS_LETTERS = str.maketrans("0123456789i", "olzeasbtbgl")
_AS_DIGITS = str.maketrans("oqdilzsbg", "000112589")
_LETTER_PAIRS = (("rn", "m"), ("cl", "d"), ("vv", "w"))
# Two readings of one word differ by at most this share of its letters (edit distance):
# a letter or two misread. A word replaced by another (a name, a place, a month) differs
# by more. Chosen on seeds 0–109 of bench/screenshots.py.
WORD_NOISE = 0.3


@dataclass(frozen=True)
class _Token:
    key: str  # the word folded (see _key)
    number: bool  # a number: compared digit for digit
    first: bool  # the first word of its line
    last: bool  # the last word of its line


def _key(word: str) -> tuple[str, bool]:
    digits = sum(c.isdigit() for c in word)
    as_digits = word.translate(_AS_DIGITS)
    if digits and as_digits.isdigit() and 2 * digits >= len(word):
        return as_digits, True
    folded = word.translate(_AS_LETTERS)
    for pair, single in _LETTER_PAIRS:
        folded = folded.replace(pair, single)
    return folded, False


def _tokens(text: str) -> list[_Token]:
    out = []
    for line in text.splitlines():
        found = words(line)
        for index, word in enumerate(found):
            key, number = _key(word)
            out.append(_Token(key, number, index == 0, index == len(found) - 1))
    return out


def _edits(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of a and b, or limit + 1 when it is more than limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _alike(a: str, b: str) -> bool:
    """Whether two folded words (or runs of words, joined) are one reading apart."""
    limit = max(1, round(WORD_NOISE * max(len(a), len(b))))
    return _edits(a, b, limit) <= limit


def _same_word(a: _Token, b: _Token) -> bool:
    """One word read twice: a number with the same digits; a word with a letter or two
    misread; a word (or number) at a line's start (end) with characters cut off by a crop
    of that side, the one at the cut perhaps misread (what is left of a letter)."""
    if a.number != b.number:
        return False
    if a.key == b.key or (not a.number and _alike(a.key, b.key)):
        return True
    short, long = sorted((a.key, b.key), key=len)
    if len(short) == len(long):
        return False
    # What is left: a word of two letters, a number of one digit at least.
    kept = 1 if a.number else 2
    if a.first and b.first:
        return _cut(short, long, kept, at_start=True)
    if a.last and b.last:
        return _cut(short, long, kept, at_start=False)
    return False


def _cut(short: str, long: str, kept: int, *, at_start: bool) -> bool:
    """`short` is `long` with characters cut off at its start (or end), the one at the cut
    perhaps misread, and at least `kept` characters left."""
    if at_start:
        whole, partly = long.endswith(short), long.endswith(short[1:])
    else:
        whole, partly = long.startswith(short), long.startswith(short[:-1])
    return (len(short) >= kept and whole) or (len(short) > kept and partly)


def _leftovers(a: list[_Token], b: list[_Token]) -> tuple[list[_Token], list[_Token]]:
    """The words of a and of b left once the most words are paired as one word read twice
    (in order)."""
    best = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            pair = best[i + 1][j + 1] + 1 if _same_word(a[i], b[j]) else 0
            best[i][j] = max(pair, best[i + 1][j], best[i][j + 1])
    left_a, left_b = [], []
    i = j = 0
    while i < len(a) and j < len(b):
        if _same_word(a[i], b[j]) and best[i][j] == best[i + 1][j + 1] + 1:
            i, j = i + 1, j + 1
        elif best[i + 1][j] >= best[i][j + 1]:
            left_a.append(a[i])
            i += 1
        else:
            left_b.append(b[j])
            j += 1
    return left_a + a[i:], left_b + b[j:]


def _changed(a: list[_Token], b: list[_Token]) -> tuple[bool, int]:
    """Whether a run of words was replaced by another, beyond OCR noise, and how many words
    one side has that the other lacks (missed by OCR, cut off by a crop)."""
    left_a, left_b = _leftovers(a, b)
    if not left_a or not left_b:
        return False, len(left_a) + len(left_b)
    # Words split or joined differently: the same letters, the same digits.
    digits_a = "".join(t.key for t in left_a if t.number)
    digits_b = "".join(t.key for t in left_b if t.number)
    joined_a = "".join(t.key for t in left_a)
    joined_b = "".join(t.key for t in left_b)
    if digits_a == digits_b and _alike(joined_a, joined_b):
        return False, 0
    return True, 0


# The first words of a screenshot are often what is left of a status bar or a header (a
# clock, icons read as letters): OCR differs there between copies.
_HEAD_WORDS = 6


def text_similarity(a: str, b: str) -> tuple[float, bool]:
    """How much of the words agree (0 … 1), and whether the texts are the same up to OCR
    noise: letters and digits misread as one another, a letter or two misread in a word,
    words split or joined, letters or lines cut off by a crop, lines OCR missed, a
    different reading of the first few words. A word replaced by another, or a number by
    another number, is a change."""
    ta, tb = _tokens(a), _tokens(b)
    if not ta and not tb:
        return 1.0, True
    if not ta or not tb:
        return 0.0, False
    matcher = SequenceMatcher(None, [t.key for t in ta], [t.key for t in tb], autojunk=False)
    score = matcher.ratio()
    same = True
    missing = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag in ("insert", "delete"):
            missing += (i2 - i1) + (j2 - j1)
            continue
        if i2 <= _HEAD_WORDS and j2 <= _HEAD_WORDS:
            continue
        changed, lacking = _changed(ta[i1:i2], tb[j1:j2])
        missing += lacking
        if changed:
            same = False
    # Lines missed or cut off: at most a third of the longer text.
    if missing > max(len(ta), len(tb)) / 3:
        same = False
    return score, same
