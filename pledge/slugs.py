"""Addresses of campaigns, pledges and organisations: one shape and one way to make them."""

from __future__ import annotations

import re
import unicodedata

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 64


def is_slug(value: str) -> bool:
    """Whether a value is an address as stored: the shape, and not too long."""
    return len(value) <= SLUG_MAX and SLUG_RE.fullmatch(value) is not None


def suggest_slug(text: str, *, max_length: int = SLUG_MAX) -> str:
    """An address from a title: lower-case ASCII letters and digits joined by dashes.

    Accents are dropped ("Pemilu Damai Ké-2" gives "pemilu-damai-ke-2"); letters with no
    ASCII form are left out, so the result may be empty."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug[:max_length]
        # End on a whole word when the cut fell inside one and there is one to end on.
        if slug[max_length] != "-" and "-" in cut:
            cut = cut.rsplit("-", 1)[0]
        slug = cut
    return slug.strip("-")


def numbered(base: str, taken: set[str], *, max_length: int = SLUG_MAX) -> str:
    """base, or base-2, base-3, ... : the first one not taken."""
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: max_length - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        n += 1
