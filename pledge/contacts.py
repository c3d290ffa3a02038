"""A supporter's contact: checked and normalised as the person gave it, and folded into the key
that recognises them, so that one person has one digest however they type it.

Two forms, kept apart on purpose:

- the normalised contact (`normalise_contact`) is what the site keeps and writes to: an email
  address as the person typed it, trimmed, with its domain lower-cased (IDNA), or an
  Indonesian mobile number in E.164;
- the deduplication key (`dedup_key`) is what the contact digest is computed from: the address
  folded the way mail providers deliver it (letter case, a ``+tag``, Gmail's dots and its
  googlemail.com name set aside). Nobody is written to at a key.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import idna
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from pledge.i18n import gettext as _
from pledge.security import contact_digest

MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
# Gmail delivers every spelling of one mailbox: dots anywhere before the @, and either name.
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})

# A leading label people put before a number they paste: a tel: link, or "WA" / "(WA)" /
# "WhatsApp:" saying which app reaches them. Nothing else with letters is a phone number.
_LABEL = re.compile(r"^(?:tel:|\(\s*(?:wa|whatsapp)\s*\)|(?:wa|whatsapp)(?![a-z])\s*:?)\s*", re.I)
# What is left of a phone number once cleaned: digits and the separators people write between
# them, with "+" only at the front (inside a parenthesis too: "(+62) 812...").
_PHONE_SHAPE = re.compile(r"^\(?\s*\+?[\d\s()./-]+$")
# The carriers' international prefixes dialled from Indonesia, beside the plain "00": "008 62"
# and "009 62" are Indonesian numbers, not "00" followed by 862 or 962.
_CARRIER_PREFIXES = ("008", "009")


class ContactError(ValueError):
    pass


def _not_a_contact() -> str:
    return _(
        "Enter an email address (like nama@contoh.id) or an Indonesian mobile number (like 0812 3456 7890)."
    )


def _bad_mobile() -> str:
    return _("That mobile number does not look right. Indonesian mobile numbers start with 08.")


def normalise_contact(raw: str) -> str:
    """An email address as given (trimmed, domain lower-cased), or an Indonesian mobile
    number as E.164 (+628...).

    Raises ContactError with a message for the person who typed it.
    """
    value = raw.strip()
    if not value:
        raise ContactError(_("Enter your email address or mobile number."))
    if len(value) > 254:
        raise ContactError(_("That is too long for an email address or a phone number."))
    if "@" in value:
        return _email_as_given(value)
    return _normalise_phone(value)


def normalise_email(value: str) -> str:
    """An email address as staff accounts store it: lower-cased whole, so that signing in
    matches it however it is typed."""
    return _email_as_given(value).lower()


def _email_as_given(value: str) -> str:
    """The address email_validator normalises for storing and sending: the local part as
    typed (NFC), the domain lower-cased and IDNA-mapped. The mailbox is the person's; only
    their provider may decide that two spellings of it are one.

    Most addresses are a plain ASCII local part at a domain many others use: the local part
    is then checked by its pattern, and the domain as email_validator judged it the first
    time it came (the same answer, without checking gmail.com anew on every signature).
    Anything else goes through email_validator whole."""
    local, _at, domain = value.rpartition("@")
    if len(value) <= _QUICK_MAX and _DOT_ATOM.match(local):
        normalised_domain = _checked_domain(domain)
        if normalised_domain is not None:
            return f"{local}@{normalised_domain}"
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ContactError(
            _("That email address does not look right. Check it and try again.")
        ) from None
    return result.normalized


# A local part of ASCII letters, digits and the other characters RFC 5322 allows unquoted,
# in dot-separated runs: email_validator keeps such a local part as it is. Addresses this
# short are within every length limit.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
_QUICK_MAX = 120


@functools.lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> str | None:
    """A domain as email_validator normalises it, or None when it refuses it (then the whole
    address is checked again, for its message). Remembered per domain as typed."""
    try:
        return validate_email(f"a@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return None


# --- the deduplication key -----------------------------------------------------------


def dedup_key(contact: str) -> str:
    """The form a normalised contact is recognised by. An email address is lower-cased
    (the local part in NFC, the domain in its ASCII IDNA form), cut at its first "+" (a tag
    the provider delivers to the same mailbox), and on gmail.com and googlemail.com stripped
    of its dots and named gmail.com. A phone number in E.164 has one form already."""
    local, at, domain = contact.rpartition("@")
    if not at:
        return contact
    local = unicodedata.normalize("NFC", local.lower())
    # An address that starts with "+" has no tag to cut: all of it is the mailbox's name.
    local = local.split("+", 1)[0] or local
    domain = _ascii_domain(domain)
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


@functools.lru_cache(maxsize=4096)
def _ascii_domain(domain: str) -> str:
    """A domain in the form DNS uses (bücher.example is xn--bcher-kva.example)."""
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except UnicodeError:  # idna.IDNAError and its kin: one IDNA cannot map, kept as written
        return domain.lower()


def supporter_digest(secret_key: str, contact: str) -> str:
    """The digest a supporter is recognised by in a campaign: of the contact's key, so that
    every spelling of one person's contact gives the same digest."""
    return contact_digest(secret_key, dedup_key(contact))


# --- mobile numbers ------------------------------------------------------------------


def _plain_phone(value: str) -> str | None:
    """A phone number as typed or pasted, in ASCII digits and separators, without labels;
    None when it holds anything else (a letter above all: libphonenumber would read the
    letter O as a digit, or drop it, and make another person's number)."""
    # NFKC folds full-width digits and signs and the no-break spaces and hyphens to ASCII.
    text = "".join(_plain_char(ch) for ch in unicodedata.normalize("NFKC", value))
    text = _LABEL.sub("", text.strip(), count=1)
    if any(ch.isalpha() for ch in text) or not _PHONE_SHAPE.match(text):
        return None
    return text


def _plain_char(ch: str) -> str:
    """One character of a pasted number: digits of any script as ASCII, invisible and
    direction marks (what WhatsApp adds around a copied number) dropped, every kind of space
    and dash as a space and a hyphen."""
    if ch.isascii():
        return ch
    category = unicodedata.category(ch)
    if category == "Nd":  # Arabic-Indic, Extended Arabic-Indic and other decimal digits
        return str(unicodedata.decimal(ch))
    if category == "Cf":  # zero-width and direction marks, the soft hyphen, the BOM
        return ""
    if category == "Zs":
        return " "
    if category == "Pd" or ch == "\u2212":  # dashes, and the minus sign that looks like one
        return "-"
    return ch


def _normalise_phone(value: str) -> str:
    text = _plain_phone(value)
    if text is None:
        raise ContactError(_not_a_contact())
    digits = re.sub(r"\D", "", text)
    international = text.lstrip("( ").startswith("+")
    if not international and digits.startswith("00"):
        prefix = next((p for p in _CARRIER_PREFIXES if digits.startswith(p + "62")), "00")
        digits, international = digits[len(prefix) :], True
    if international and not digits.startswith("62"):
        raise ContactError(_("Only Indonesian mobile numbers (+62) are accepted."))
    if digits.startswith("62"):
        candidate = "+" + digits
    elif digits.startswith("0"):
        candidate = "+62" + digits[1:]
    elif digits.startswith("8"):
        candidate = "+62" + digits
    else:
        raise ContactError(_bad_mobile())
    try:
        number = phonenumbers.parse(candidate, "ID")
    except phonenumbers.NumberParseException:
        raise ContactError(_bad_mobile()) from None
    if (
        number.country_code != 62
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in MOBILE_TYPES
    ):
        raise ContactError(_what_is_wrong(number))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _what_is_wrong(number: phonenumbers.PhoneNumber) -> str:
    """Why an Indonesian number is no mobile number, as the person can fix it: the digits
    after 08 too few or too many, another first digit (a landline), or a prefix no
    operator uses."""
    if not str(number.national_number).startswith("8"):
        return _bad_mobile()
    length = phonenumbers.is_possible_number_for_type_with_reason(
        number, phonenumbers.PhoneNumberType.MOBILE
    )
    if length == phonenumbers.ValidationResult.TOO_SHORT:
        return _(
            "That mobile number is too short. Indonesian mobile numbers have 10 to 13 digits, like 0812 3456 7890."
        )
    if length == phonenumbers.ValidationResult.TOO_LONG:
        return _(
            "That mobile number is too long. Indonesian mobile numbers have 10 to 13 digits, like 0812 3456 7890."
        )
    return _("No Indonesian mobile number starts like that. Check the digits after 08.")
