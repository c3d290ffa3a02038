"""Normalising a supporter's contact, so that one person has one digest however they type it."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from pledge.i18n import gettext as _

_PHONE_CHARS = re.compile(r"^[+(\d][\d\s().\-]*$")
MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


class ContactError(ValueError):
    pass


def normalise_contact(raw: str) -> str:
    """An email lower-cased, or an Indonesian mobile number as E.164 (+628...).

    Raises ContactError with a message for the person who typed it.
    """
    value = raw.strip()
    if not value:
        raise ContactError(_("Enter your email address or mobile number."))
    if len(value) > 254:
        raise ContactError(_("That is too long for an email address or a phone number."))
    if "@" in value:
        return normalise_email(value)
    if _PHONE_CHARS.match(value):
        return _normalise_phone(value)
    raise ContactError(
        _(
            "Enter an email address (like nama@contoh.id) or an Indonesian mobile number (like 0812 3456 7890)."
        )
    )


def normalise_email(value: str) -> str:
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ContactError(
            _("That email address does not look right. Check it and try again.")
        ) from None
    # Mailbox names are case-sensitive in theory but never in practice; one person, one digest.
    return result.normalized.lower()


def _normalise_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if digits.startswith("00"):  # the international prefix dialled from a phone: 0062...
        digits = digits[2:]
        value = "+" + digits
    if value.startswith("+") and not digits.startswith("62"):
        raise ContactError(_("Only Indonesian mobile numbers (+62) are accepted."))
    if digits.startswith("62"):
        candidate = "+" + digits
    elif digits.startswith("0"):
        candidate = "+62" + digits[1:]
    elif digits.startswith("8"):
        candidate = "+62" + digits
    else:
        raise ContactError(
            _("That mobile number does not look right. Indonesian mobile numbers start with 08.")
        )
    try:
        number = phonenumbers.parse(candidate, "ID")
    except phonenumbers.NumberParseException:
        raise ContactError(
            _("That mobile number does not look right. Indonesian mobile numbers start with 08.")
        ) from None
    if (
        number.country_code != 62
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in MOBILE_TYPES
    ):
        raise ContactError(
            _("That mobile number does not look right. Indonesian mobile numbers start with 08.")
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
