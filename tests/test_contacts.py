"""Normalising contacts: one person, one normalised contact, however they type it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pledge.contacts import ContactError, normalise_contact
from pledge.i18n import DEFAULT_LOCALE, get_locale, set_locale

E164 = "+6281234567890"

EMPTY = "Enter your email address or mobile number."
TOO_LONG = "That is too long for an email address or a phone number."
NOT_A_CONTACT = (
    "Enter an email address (like nama@contoh.id) or an Indonesian mobile number "
    "(like 0812 3456 7890)."
)
BAD_EMAIL = "That email address does not look right. Check it and try again."
BAD_MOBILE = "That mobile number does not look right. Indonesian mobile numbers start with 08."
FOREIGN = "Only Indonesian mobile numbers (+62) are accepted."


@pytest.fixture
def locale() -> Iterator[None]:
    """Run in English (the source language), and leave the default locale behind."""
    before = get_locale()
    set_locale("en")
    yield
    set_locale(before)


def message_of(raw: str) -> str:
    with pytest.raises(ContactError) as caught:
        normalise_contact(raw)
    return str(caught.value)


@pytest.mark.parametrize(
    "raw",
    [
        "0812 3456 7890",
        "62812-3456-7890",
        "+6281234567890",
        "+62 812-3456-7890",
        "(0812) 3456.7890",
        "  0812 3456 7890  ",
        "081234567890",
    ],
)
def test_mobile_numbers_written_differently_are_one_e164_number(raw: str) -> None:
    assert normalise_contact(raw) == E164


@pytest.mark.parametrize("raw", ["Rina@Example.com ", "rina@example.com", "  RINA@EXAMPLE.COM"])
def test_emails_differing_in_case_and_spaces_are_one_email(raw: str) -> None:
    assert normalise_contact(raw) == "rina@example.com"


def test_a_phone_and_an_email_stay_distinct() -> None:
    assert normalise_contact("0812 3456 7890") != normalise_contact("rina@example.com")
    assert normalise_contact("0812 3456 7891") != E164


@pytest.mark.usefixtures("locale")
@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param("", EMPTY, id="empty"),
        pytest.param("   ", EMPTY, id="blank"),
        pytest.param("021 555 1234", BAD_MOBILE, id="landline"),
        pytest.param("+62 21 555 1234", BAD_MOBILE, id="landline-e164"),
        pytest.param("+1 415 555 2671", FOREIGN, id="foreign"),
        pytest.param("0812", BAD_MOBILE, id="too-short"),
        pytest.param("0812 3456 7890 1234", BAD_MOBILE, id="too-long"),
        pytest.param("halo kak", NOT_A_CONTACT, id="letters"),
        pytest.param("0812 3456 789O", NOT_A_CONTACT, id="letter-o-for-zero"),
        pytest.param("a@b", BAD_EMAIL, id="email-without-domain"),
        pytest.param("rina@@example.com", BAD_EMAIL, id="email-two-ats"),
        pytest.param("r" * 250 + "@example.com", TOO_LONG, id="email-over-254"),
        pytest.param("0" + "8" * 300, TOO_LONG, id="digits-over-254"),
    ],
)
def test_bad_contacts_are_refused_with_a_clear_message(raw: str, message: str) -> None:
    assert message_of(raw) == message


def test_254_characters_is_the_limit_not_255(locale: None) -> None:
    # A real address at the limit: 64 before the @, labels of at most 63 after it.
    longest = "x" * 64 + "@" + "d" * 63 + "." + "e" * 63 + "." + "f" * 57 + ".com"
    assert len(longest) == 254
    assert normalise_contact(longest.upper()) == longest
    one_more = longest.replace("@", "@g", 1)
    assert len(one_more) == 255
    assert message_of(one_more) == TOO_LONG


def test_contact_error_is_a_value_error(locale: None) -> None:
    with pytest.raises(ValueError, match="mobile number"):
        normalise_contact("021 555 1234")


@pytest.mark.parametrize(
    "raw",
    ["", "021 555 1234", "+1 415 555 2671", "halo kak", "a@b", "r" * 300],
    ids=["empty", "landline", "foreign", "letters", "bad-email", "too-long"],
)
def test_messages_follow_the_locale(raw: str) -> None:
    before = get_locale()
    try:
        set_locale("en")
        english = message_of(raw)
        set_locale("id")
        indonesian = message_of(raw)
    finally:
        set_locale(before)
    assert english.isascii() and len(english) > 10
    assert indonesian.strip()
    assert indonesian != english, f"no Indonesian translation for {english!r}"
    # Examples and prefixes the person must type are the same in both languages.
    for kept in ("nama@contoh.id", "0812 3456 7890", "+62", "08"):
        if kept in english:
            assert kept in indonesian


def test_unknown_locale_falls_back_to_indonesian() -> None:
    before = get_locale()
    try:
        set_locale("fr")
        assert get_locale() == DEFAULT_LOCALE == "id"
    finally:
        set_locale(before)
