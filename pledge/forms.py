"""Forms: the field checks every form shares, and one way to collect their messages.

A form's own rules live with its domain (the sign form in supporters, the campaign editor in
campaigns); the checks of a kind of field (a text, an http link, a choice, an email, a phone)
are written once here, so that two forms asking for the same kind of field accept the same
input. A check returns the cleaned value or raises `FieldError` with the message shown beside
the field; `Checks` runs several and turns their messages into one `Invalid`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pledge import contacts
from pledge.errors import Invalid
from pledge.i18n import gettext as _

T = TypeVar("T")

URL_MAX = 300


class FieldError(ValueError):
    """One field's input refused; the message is for the person who typed it."""


class Checks:
    """The messages of one form's fields, collected so that every mistake shows at once:
    ``title = checks.run("title", text, raw, max_length=160, too_long=...)`` for each field,
    then ``checks.done()``, which raises `Invalid` with every message when any was refused."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def run(self, name: str, check: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """The cleaned value, or None with the field's message kept when refused."""
        try:
            return check(*args, **kwargs)
        except FieldError as error:
            self.refuse(name, str(error))
            return None

    def refuse(self, name: str, message: str) -> None:
        """Keep a message for a field; the first message of a field is the one shown."""
        self.errors.setdefault(name, message)

    def merge(self, errors: Mapping[str, str]) -> None:
        for name, message in errors.items():
            self.refuse(name, message)

    def done(self) -> None:
        if self.errors:
            raise Invalid(dict(self.errors))


def text(raw: str, *, max_length: int, too_long: str, required: str | None = None) -> str:
    """Trimmed text of at most max_length characters; `required` is the message when empty
    (None: the field may be left empty)."""
    value = raw.strip()
    if not value and required is not None:
        raise FieldError(required)
    if len(value) > max_length:
        raise FieldError(too_long)
    return value


def http_url(raw: str, *, max_length: int = URL_MAX, message: str | None = None) -> str | None:
    """A full http or https address with a host, or None when left empty.

    Refused: another scheme, no host, a user name or password in it (``user@host``), a port
    that is not a number in range, spaces or control characters, and more than max_length.
    """
    value = raw.strip()
    if not value:
        return None
    refused = FieldError(
        message or _("Enter the full address of the website, like https://contoh.or.id.")
    )
    if len(value) > max_length or any(c.isspace() or ord(c) < 32 or c == "\x7f" for c in value):
        raise refused
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise refused from None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or port == 0
    ):
        raise refused
    return value


def choice(raw: str, choices: Collection[str], *, message: str, required: bool = True) -> str:
    """One of the choices; an empty answer is refused unless the field is optional."""
    value = raw.strip()
    if not value and not required:
        return ""
    if value not in choices:
        raise FieldError(message)
    return value


def integer(raw: str, *, minimum: int, maximum: int, message: str) -> int:
    """A whole number written in ASCII digits, within the bounds."""
    value = raw.strip()
    if not (value.isascii() and value.isdigit()) or not minimum <= int(value) <= maximum:
        raise FieldError(message)
    return int(value)


def email(raw: str) -> str:
    """An email address, normalised as the site stores it (lower-cased)."""
    try:
        return contacts.normalise_email(raw.strip())
    except contacts.ContactError as error:
        raise FieldError(str(error)) from None


def contact(raw: str) -> str:
    """An email address or an Indonesian mobile number, normalised (see pledge.contacts)."""
    try:
        return contacts.normalise_contact(raw)
    except contacts.ContactError as error:
        raise FieldError(str(error)) from None
