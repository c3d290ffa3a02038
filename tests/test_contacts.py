"""Normalising contacts: one person, one normalised contact, however they type it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from pledge.contacts import (
    ContactError,
    dedup_key,
    normalise_contact,
    normalise_email,
    supporter_digest,
)
from pledge.i18n import DEFAULT_LOCALE, get_locale, set_locale
from pledge.security import contact_digest

E164 = "+6281234567890"
KEY = "a-secret-key-for-these-tests-only-0123456789"

EMPTY = "Enter your email address or mobile number."
TOO_LONG = "That is too long for an email address or a phone number."
NOT_A_CONTACT = (
    "Enter an email address (like nama@contoh.id) or an Indonesian mobile number "
    "(like 0812 3456 7890)."
)
BAD_EMAIL = "That email address does not look right. Check it and try again."
# A number that starts as a mobile number does is told what else is wrong with it.
SHORT_MOBILE = "That mobile number is too short. Indonesian mobile numbers have 10 to 13 digits, like 0812 3456 7890."
LONG_MOBILE = "That mobile number is too long. Indonesian mobile numbers have 10 to 13 digits, like 0812 3456 7890."
UNKNOWN_PREFIX = "No Indonesian mobile number starts like that. Check the digits after 08."
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


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("Rina@Example.com ", "Rina@example.com"),
        ("rina@example.com", "rina@example.com"),
        ("  RINA@EXAMPLE.COM", "RINA@example.com"),
    ],
)
def test_emails_differing_in_case_and_spaces_are_one_person(raw: str, kept: str) -> None:
    # Kept as given (trimmed, the domain lower-cased), recognised by one key.
    assert normalise_contact(raw) == kept
    assert dedup_key(normalise_contact(raw)) == "rina@example.com"


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
        pytest.param("0812", SHORT_MOBILE, id="too-short"),
        pytest.param("0812-345", SHORT_MOBILE, id="too-short-written-with-a-dash"),
        pytest.param("0812 3456 7890 1234", LONG_MOBILE, id="too-long"),
        pytest.param("0800 1234 5678", UNKNOWN_PREFIX, id="no-operator-prefix"),
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
    assert normalise_contact(longest.upper()) == "X" * 64 + longest[64:]
    assert dedup_key(normalise_contact(longest.upper())) == longest
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


# --- one mobile number, however it is typed or pasted ----------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        # What WhatsApp on Android copies: direction marks around it, non-breaking hyphens.
        pytest.param("\u202a+62 812\u20113456\u20117890\u202c", id="whatsapp-android-copy"),
        pytest.param("\u2066+62 812 3456 7890\u2069", id="isolate-marks"),
        pytest.param("\u200e0812 3456 7890\u200f", id="left-to-right-marks"),
        pytest.param("0812\u20133456\u20137890", id="en-dashes"),
        pytest.param("0812\u20143456\u20147890", id="em-dashes"),
        pytest.param("0812\u20103456\u20157890", id="hyphen-and-bar"),
        pytest.param("0812\u22123456\u22127890", id="minus-signs"),
        pytest.param("0812\u200b3456\u200b7890", id="zero-width-spaces"),
        pytest.param("\ufeff0812 3456 7890", id="byte-order-mark"),
        pytest.param("0812\u00ad3456\u00ad7890", id="soft-hyphens"),
        pytest.param("0812\u00a03456\u00a07890", id="no-break-spaces"),
        pytest.param("0812\u202f3456\u20077890", id="narrow-and-figure-spaces"),
        pytest.param("(+62) 812 3456 7890", id="country-code-in-parentheses"),
        pytest.param("( +62 ) 812-3456-7890", id="spaced-parentheses"),
        pytest.param("+62 (0) 812 3456 7890", id="trunk-zero-in-parentheses"),
        pytest.param("0812/3456/7890", id="slashes"),
        pytest.param("tel:+62-812-3456-7890", id="tel-link"),
        pytest.param("TEL:081234567890", id="tel-link-upper-case"),
        pytest.param("WA 0812 3456 7890", id="wa-label"),
        pytest.param("(WA) 0812 3456 7890", id="wa-label-in-parentheses"),
        pytest.param("WA: 0812-3456-7890", id="wa-label-with-colon"),
        pytest.param("WhatsApp 0812 3456 7890", id="whatsapp-label"),
        pytest.param(
            "\uff10\uff18\uff11\uff12 \uff13\uff14\uff15\uff16 \uff17\uff18\uff19\uff10",
            id="full-width",
        ),
        pytest.param(
            "\uff0b\uff16\uff12\u3000\uff18\uff11\uff12\uff0d\uff13\uff14\uff15\uff16\uff0d\uff17\uff18\uff19\uff10",
            id="full-width-plus-and-hyphens",
        ),
        pytest.param(
            "\u0660\u0668\u0661\u0662 \u0663\u0664\u0665\u0666 \u0667\u0668\u0669\u0660",
            id="arabic-indic",
        ),
        pytest.param(
            "\u06f0\u06f8\u06f1\u06f2 \u06f3\u06f4\u06f5\u06f6 \u06f7\u06f8\u06f9\u06f0",
            id="extended-arabic-indic",
        ),
        pytest.param("00 62 812 3456 7890", id="international-prefix-00"),
        pytest.param("008 62 812 3456 7890", id="international-prefix-008"),
        pytest.param("009 62 812 3456 7890", id="international-prefix-009"),
        pytest.param("0096281234567890", id="international-prefix-009-unspaced"),
    ],
)
def test_every_spelling_of_a_mobile_number_is_one_e164_number(raw: str) -> None:
    assert normalise_contact(raw) == E164
    assert dedup_key(normalise_contact(raw)) == E164


@pytest.mark.usefixtures("locale")
@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("0812-3456-789O", id="letter-o-for-zero"),
        pytest.param("0812 3456 789o", id="small-letter-o"),
        pytest.param("O812 3456 7890", id="leading-letter-o"),
        pytest.param("0812 3456 789\uff2f", id="full-width-letter-o"),
        pytest.param("\u202a+62 812\u20113456\u2011789O\u202c", id="whatsapp-copy-with-letter-o"),
        pytest.param("WA 0812 3456 789O", id="wa-label-and-letter-o"),
        pytest.param("tel:0812 3456 789O", id="tel-link-and-letter-o"),
        pytest.param("0812 3456 7890 ext 12", id="extension"),
        pytest.param("tel:+62-812-3456-7890;ext=1", id="tel-link-with-parameters"),
        pytest.param("0812 FLOWERS", id="vanity-number"),
        pytest.param("wa.me/6281234567890", id="wa-me-link"),
        pytest.param("0812+3456+7890", id="plus-inside"),
        pytest.param("0812 # 3456 7890", id="hash"),
    ],
)
def test_a_number_with_letters_or_signs_left_over_is_refused(raw: str) -> None:
    # libphonenumber would read letters as keypad digits or drop them: another person's number.
    assert message_of(raw) == NOT_A_CONTACT


@pytest.mark.usefixtures("locale")
@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param("00 1 415 555 2671", FOREIGN, id="foreign-after-00"),
        pytest.param("00 44 20 7946 0958", FOREIGN, id="uk-after-00"),
        pytest.param("008 1 415 555 2671", FOREIGN, id="008-not-before-62"),
        pytest.param("(+1) 415 555 2671", FOREIGN, id="foreign-in-parentheses"),
        pytest.param("tel:+14155552671", FOREIGN, id="foreign-tel-link"),
        pytest.param("008 62 21 555 1234", BAD_MOBILE, id="landline-after-008"),
        pytest.param(
            "\u0660\u0662\u0661 \u0665\u0665\u0665 \u0661\u0662\u0663\u0664",
            BAD_MOBILE,
            id="landline-arabic-indic",
        ),
        pytest.param("\u202a\u202c", NOT_A_CONTACT, id="only-marks"),
        pytest.param("WA", NOT_A_CONTACT, id="only-a-label"),
    ],
)
def test_other_numbers_stay_refused_however_they_are_written(raw: str, message: str) -> None:
    assert message_of(raw) == message


# --- one email address, however it is typed ---------------------------------------------------

GMAIL_SPELLINGS = (
    "budi.santoso@gmail.com",
    "budisantoso@gmail.com",
    "budi.santoso+x@gmail.com",
    "budisantoso@googlemail.com",
    "Budi.Santoso@GMail.com",
    "b.u.d.i.santoso+kampanye+2029@GoogleMail.com",
)


@pytest.mark.parametrize("raw", GMAIL_SPELLINGS)
def test_the_spellings_of_one_gmail_address_have_one_key(raw: str) -> None:
    assert dedup_key(normalise_contact(raw)) == "budisantoso@gmail.com"


def test_dots_count_outside_gmail() -> None:
    assert dedup_key("budi.santoso@yahoo.co.id") == "budi.santoso@yahoo.co.id"
    assert dedup_key("budi.santoso@yahoo.co.id") != dedup_key("budisantoso@yahoo.co.id")
    # A domain that only contains gmail.com is another provider.
    assert dedup_key("budi.santoso@notgmail.com") == "budi.santoso@notgmail.com"
    assert dedup_key("budi.santoso@gmail.com.example") == "budi.santoso@gmail.com.example"


@pytest.mark.parametrize(
    "raw",
    [
        "rina@example.com",
        "rina+berita@example.com",
        "Rina+Kampanye+2029@Example.COM",
        "rina+@example.com",
    ],
)
def test_a_plus_tag_is_cut_on_every_domain(raw: str) -> None:
    assert dedup_key(normalise_contact(raw)) == "rina@example.com"


def test_an_address_that_starts_with_plus_is_not_cut_to_nothing() -> None:
    assert dedup_key(normalise_contact("+berita@example.com")) == "+berita@example.com"
    assert dedup_key("+berita@example.com") != dedup_key("+lain@example.com")


def test_an_internationalised_domain_and_its_punycode_have_one_key() -> None:
    unicode, punycode = (
        normalise_contact("budi@bücher.example"),
        normalise_contact("Budi@XN--BCHER-KVA.example"),
    )
    assert dedup_key(unicode) == dedup_key(punycode) == "budi@xn--bcher-kva.example"
    assert dedup_key(normalise_contact("budi@BÜCHER.example")) == "budi@xn--bcher-kva.example"
    # Kept as the person gave it, the domain lower-cased in its Unicode form.
    assert unicode == "budi@bücher.example"
    assert punycode == "Budi@bücher.example"


def test_a_unicode_local_part_composed_or_not_has_one_key() -> None:
    composed, decomposed = "An\u00e1@example.com", "Ana\u0301@example.com"
    assert dedup_key(composed) == dedup_key(decomposed) == "an\u00e1@example.com"
    assert dedup_key(normalise_contact(decomposed)) == "an\u00e1@example.com"
    assert dedup_key(composed) != dedup_key("ana@example.com")


@pytest.mark.parametrize(
    "raw", [*GMAIL_SPELLINGS, "Rina+x@Example.com", "budi@bücher.example", "0812 3456 7890"]
)
def test_a_key_is_its_own_key(raw: str) -> None:
    key = dedup_key(normalise_contact(raw))
    assert dedup_key(key) == key
    assert dedup_key(normalise_contact(key)) == key


def test_the_contact_kept_is_the_address_as_given_not_the_key() -> None:
    given = "  Budi.Santoso+Kampanye@GMail.com "
    assert normalise_contact(given) == "Budi.Santoso+Kampanye@gmail.com"
    assert dedup_key(normalise_contact(given)) == "budisantoso@gmail.com"


def test_staff_addresses_are_still_lower_cased_whole() -> None:
    assert normalise_email("Rina.Putri+Staf@Example.COM") == "rina.putri+staf@example.com"


def test_the_supporter_digest_is_one_for_every_spelling() -> None:
    digests = {supporter_digest(KEY, normalise_contact(raw)) for raw in GMAIL_SPELLINGS}
    assert digests == {contact_digest(KEY, "budisantoso@gmail.com")}
    phones = {
        supporter_digest(KEY, normalise_contact(raw))
        for raw in ("0812 3456 7890", "WA 0812-3456-7890")
    }
    assert phones == {contact_digest(KEY, E164)}


def test_a_contact_already_in_its_folded_form_keeps_its_digest() -> None:
    # Most supporters' digests do not change: a phone number, or an address without capitals,
    # a tag or a Gmail dot, is its own key.
    for contact in (E164, "rina@example.com", "budisantoso@gmail.com"):
        assert supporter_digest(KEY, contact) == contact_digest(KEY, contact)
    assert supporter_digest(KEY, "budi.santoso@gmail.com") != contact_digest(
        KEY, "budi.santoso@gmail.com"
    )


def test_a_domain_idna_cannot_map_is_compared_lower_cased_as_written() -> None:
    # Not from the sign form (email_validator refuses it), but a key must never fail.
    assert dedup_key("Budi+x@XN--ZZ.Example") == "budi@xn--zz.example"


# Addresses checked by their pattern and a domain email_validator judged before, and others
# it must judge whole: each gives what email_validator alone gives, or the same refusal.
SAME_AS_EMAIL_VALIDATOR = [
    "budi@contoh.id",
    "Budi.Santoso+x@GMAIL.Com",
    "o'brien@example.co.uk",
    "a!#$%&*/=?^_`{|}~-@Contoh.ID",
    "x@xn--bcher-kva.example",
    "x@Bücher.example",
    "Rïna@contoh.id",
    ".budi@contoh.id",
    "budi.@contoh.id",
    "bu..di@contoh.id",
    '"budi santoso"@contoh.id',
    "budi@localhost",
    "budi@contoh.test",
    "budi@contoh",
    "budi@-contoh.id",
    "budi@contoh_id.com",
    "budi@1.2.3.4",
    "budi@[1.2.3.4]",
    "b" * 64 + "@contoh.id",
    "b" * 65 + "@contoh.id",
    "budi@" + "c" * 63 + ".id",
    "budi@" + "c" * 64 + ".id",
    "budi@" + ".".join(["c" * 60] * 4) + ".id",
]


@pytest.mark.parametrize("raw", SAME_AS_EMAIL_VALIDATOR)
@pytest.mark.parametrize("seen_domain_before", [False, True])
def test_an_email_is_normalised_as_email_validator_does(
    raw: str, seen_domain_before: bool, locale: None
) -> None:
    from email_validator import EmailNotValidError, validate_email

    from pledge import contacts

    contacts._checked_domain.cache_clear()
    if seen_domain_before:
        with contextlib.suppress(ContactError):
            normalise_contact("someone@" + raw.rpartition("@")[2])
    try:
        expected: str | None = validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError:
        expected = None

    if expected is None:
        with pytest.raises(ContactError, match=BAD_EMAIL):
            normalise_contact(raw)
    else:
        assert normalise_contact(raw) == expected
