"""Forms: reading a posted form's fields, the field checks every form shares, and one way to
collect their messages.

Each posted form is a small frozen dataclass of its fields as typed (strings, so that a
refused form can be shown back) built on `PostedForm`, whose ``read`` takes every field from
the posted form data by its type (`form_text`, `form_values`, `form_file`), cut to the length
its `posted` declaration gives; and a method ``check`` that runs the shared checks and returns
the cleaned values or raises `Invalid` with every field's message at once.
A form's own rules live with its domain (the sign form in supporters, the campaign editor in
campaigns); the checks of a kind of field (a text, an http link, a choice, an email, a
password) are written once here, so that two forms asking for the same kind of field accept
the same input. A check returns the cleaned value or raises `FieldError` with the message
shown beside the field; `Checks` runs several and turns their messages into one `Invalid`.

A message is given as a string or, on a hot path, as a function returning it, so that only
the messages shown are translated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from datetime import date
from enum import Enum
from types import TracebackType
from typing import Any, Self, TypeVar, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

from starlette.datastructures import ImmutableMultiDict, UploadFile

from pledge import contacts
from pledge.errors import Invalid
from pledge.i18n import gettext as _
from pledge.security import PASSWORD_MAX, PASSWORD_MIN
from pledge.slugs import SLUG_MAX, is_slug

T = TypeVar("T")
E = TypeVar("E", bound=Enum)
Message = str | Callable[[], str]
# A posted form, or the query of an address (a page's filters): names with their values.
Posted = ImmutableMultiDict[str, str | UploadFile]

URL_MAX = 300
# Longer than any valid value: a hostile post is cut before it is validated or shown back.
FIELD_MAX = 1000


# --- reading a posted form ------------------------------------------------------------


def form_text(form: Posted, name: str, limit: int = FIELD_MAX) -> str:
    """A text field of a posted form, cut to a length; a file or a missing field is "".
    A NUL reads as a space, as other control characters do in names: nobody types one, and
    PostgreSQL refuses it in any text (a 500 instead of the form's own answer)."""
    value = form.get(name)
    return value[:limit].replace("\x00", " ") if isinstance(value, str) else ""


def form_values(form: Posted, name: str, limit: int, count: int | None = None) -> list[str]:
    """A repeated field (checkboxes of one name), each value cut to a length and files left
    out; at most `count` values when given."""
    values = [v[:limit].replace("\x00", " ") for v in form.getlist(name) if isinstance(v, str)]
    return values if count is None else values[:count]


def form_file(form: Posted, name: str) -> bytes | None:
    """The bytes of an uploaded file, or None when none was chosen (a form sent without a
    chosen file has an empty part). The parser spooled it, and the body's size was capped
    before it was read."""
    value = form.get(name)
    if isinstance(value, UploadFile):
        return value.file.read() or None
    return None


def form_typed(form: Posted, name: str, limit: int) -> str:
    """A text field exactly as typed, cut to a length: for what is compared rather than kept
    (signing in), where a NUL read as a space could make a wrong value a right one."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def posted(
    default: Any = "", *, limit: int = FIELD_MAX, count: int | None = None, typed: bool = False
) -> Any:
    """A field of a `PostedForm`, with how it is read: cut to `limit` characters (each value,
    for a repeated field, of which at most `count` are kept); `typed` keeps it exactly as
    typed (`form_typed`). Give a limit longer than any valid value, so that "too long" is
    said rather than the input cut silently."""
    return dataclasses.field(
        default=default, metadata={"limit": limit, "count": count, "typed": typed}
    )


class PostedForm:
    """The base of a form object: a frozen dataclass whose fields are read from the post by
    their types, under their own names: a ``str`` is a text field (`form_text`), a
    ``tuple[str, ...]`` a repeated one (`form_values`), a ``bytes | None`` an uploaded file
    (`form_file`); each as its `posted` declaration says, or cut to `FIELD_MAX`."""

    __slots__ = ()

    @classmethod
    def read(cls, form: Posted) -> Self:
        kinds = get_type_hints(cls)
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]  # a dataclass by contract
        return cls(**{spec.name: _read(form, spec, kinds[spec.name]) for spec in fields})


def _read(form: Posted, spec: dataclasses.Field[Any], kind: Any) -> Any:
    """One field of a form object, read from the post as its type says."""
    limit = spec.metadata.get("limit", FIELD_MAX)
    if kind is str:
        typed = spec.metadata.get("typed", False)
        return form_typed(form, spec.name, limit) if typed else form_text(form, spec.name, limit)
    if get_origin(kind) is tuple:
        return tuple(form_values(form, spec.name, limit, spec.metadata.get("count")))
    if bytes in get_args(kind):
        return form_file(form, spec.name)
    raise TypeError(f"a form field of type {kind} cannot be read from a post: {spec.name}")


# --- collecting messages --------------------------------------------------------------


class FieldError(ValueError):
    """One field's input refused; the message is for the person who typed it."""


def refuse(message: Message) -> FieldError:
    """The refusal of a field, its message translated now that it is shown."""
    return FieldError(message if isinstance(message, str) else message())


class Checks:
    """The messages of one form's fields, collected so that every mistake shows at once:
    ``title = checks.run("title", text, raw, max_length=160, too_long=...)`` for each field,
    then ``checks.done()``, which raises `Invalid` with every message when any was refused.
    As a context manager (``with Checks() as checks:``), `done` runs at the end of the block.
    """

    __slots__ = ("errors",)

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def __enter__(self) -> Checks:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.done()

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

    def ok(self, name: str) -> bool:
        """Whether the field has no message yet."""
        return name not in self.errors

    def done(self) -> None:
        if self.errors:
            raise Invalid(dict(self.errors))


def field(name: str, check: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """One field checked alone: its cleaned value, or `Invalid` with its message."""
    try:
        return check(*args, **kwargs)
    except FieldError as error:
        raise Invalid({name: str(error)}) from None


# --- the checks -----------------------------------------------------------------------


def text(
    raw: str,
    *,
    max_length: int,
    too_long: Message,
    required: Message | None = None,
    collapse: bool = False,
) -> str:
    """Trimmed text of at most max_length characters; `required` is the message when empty
    (None: the field may be left empty). With `collapse`, every run of spaces and line breaks
    is one space: a name or a title, written on one line."""
    value = " ".join(raw.split()) if collapse else raw.strip()
    if not value and required is not None:
        raise refuse(required)
    if len(value) > max_length:
        raise refuse(too_long)
    return value


def http_url(raw: str, *, max_length: int = URL_MAX, message: Message | None = None) -> str | None:
    """A full http or https address with a host, or None when left empty.

    Refused: another scheme, no host, a user name or password in it (``user@host``), a port
    that is not a number in range, spaces or control characters, and more than max_length.
    """
    value = raw.strip()
    if not value:
        return None
    refused = refuse(
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


def choice(raw: str, choices: Collection[str], *, message: Message, required: bool = True) -> str:
    """One of the choices; an empty answer is refused unless the field is optional."""
    value = raw.strip()
    if not value and not required:
        return ""
    if value not in choices:
        raise refuse(message)
    return value


def ticked(raw: str, *, message: Message) -> bool:
    """A box that must be ticked (an age confirmed, a notice agreed to): any value sent."""
    if not raw:
        raise refuse(message)
    return True


def member(raw: str, kind: type[E], *, message: Message) -> E:
    """A member of an enumeration, named by its value (a role, a status, a platform)."""
    try:
        return kind(raw.strip())
    except ValueError:
        raise refuse(message) from None


def integer(raw: str, *, minimum: int, maximum: int, message: Message) -> int:
    """A whole number written in ASCII digits, within the bounds."""
    value = raw.strip()
    if not (value.isascii() and value.isdigit()) or not minimum <= int(value) <= maximum:
        raise refuse(message)
    return int(value)


def day(
    raw: str,
    *,
    earliest: date,
    latest: date,
    message: Message,
    too_early: Message,
    too_late: Message,
) -> date | None:
    """A day as a date field posts it (YYYY-MM-DD) within the bounds, or None when left
    empty."""
    value = raw.strip()
    if not value:
        return None
    try:
        found = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        found = None
    if found is None:
        raise refuse(message)
    if found < earliest:
        raise refuse(too_early)
    if found > latest:
        raise refuse(too_late)
    return found


def slug(
    raw: str,
    *,
    message: Message,
    too_long: Message | None = None,
    required: Message | None = None,
    max_length: int = SLUG_MAX,
) -> str:
    """A page's address as typed, lower-cased and trimmed: letters a-z, digits, and single
    dashes between them. Empty gives "" unless `required` says what to write instead (a
    form may suggest an address of its own)."""
    value = raw.strip().lower()
    if not value:
        if required is not None:
            raise refuse(required)
        return ""
    if len(value) > max_length:
        raise refuse(too_long or message)
    if not is_slug(value):
        raise refuse(message)
    return value


def email(raw: str, *, required: Message | None = None) -> str:
    """An email address, normalised as the site stores it (lower-cased); `required` is the
    message for an empty field (None: the one for an address that does not look right)."""
    if required is not None and not raw.strip():
        raise refuse(required)
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


def password(raw: str) -> str:
    """A new password: long enough to resist guessing, short enough to hash at once. Kept as
    typed: spaces in a password are part of it."""
    if len(raw) < PASSWORD_MIN:
        raise FieldError(_("Use at least 10 characters for your password."))
    if len(raw) > PASSWORD_MAX:
        raise FieldError(_("Use at most 200 characters for your password."))
    return raw
