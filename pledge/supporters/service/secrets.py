"""The secrets that confirm a signing: a 6-digit code, and its digest bound to the signing's
link, so that a code is worth nothing on any other signing."""

from __future__ import annotations

import hmac
import re
import secrets

from pledge.config import get_settings
from pledge.security import derive_key

CODE_DIGITS = 6
# A code as a person types it back: six digits, perhaps with spaces or a dash between them.
_CODE = re.compile(r"(?<!\d)\d(?:[\s-]?\d){5}(?!\d)")


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_digest(link_digest: str, code: str) -> str:
    """HMAC of a code with the secret key and its signing's link: a stolen table does not
    give the codes away by trying the million of them."""
    key = derive_key(get_settings().secret_key, "confirmation-code")
    return hmac.digest(key, f"{link_digest}:{code}".encode(), "sha256").hex()


def codes_in(text: str) -> list[str]:
    """The 6-digit codes written in a message or a form field, as six digits each."""
    return [re.sub(r"\D", "", found) for found in _CODE.findall(text[:1000])]
