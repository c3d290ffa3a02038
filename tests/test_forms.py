"""The field checks every form shares: what each accepts, what it refuses and with which words."""

from __future__ import annotations

import pytest

from pledge import forms
from pledge.errors import Invalid

WEBSITE_MESSAGE = "Enter the full address of the website, like https://contoh.or.id."


@pytest.mark.parametrize(
    "raw",
    [
        "https://contoh.or.id",
        "http://contoh.or.id/tentang?x=1#a",
        "HTTPS://Contoh.or.id:8443/",
        "  https://contoh.or.id  ",
        "https://xn--80ak6aa92e.com/",
    ],
)
def test_http_url_accepts_full_web_addresses(raw: str) -> None:
    assert forms.http_url(raw) == raw.strip()


def test_http_url_leaves_an_empty_field_empty() -> None:
    assert forms.http_url("   ") is None


@pytest.mark.parametrize(
    "raw",
    [
        "contoh.or.id",  # no scheme
        "ftp://contoh.or.id",
        "javascript:alert(1)",
        "https://",  # no host
        "https://user@contoh.or.id",
        "https://user:secret@contoh.or.id/",
        "https://contoh.or.id:99999/",
        "https://contoh.or.id:0/",
        "https://contoh.or.id:port/",
        "https://contoh .or.id",
        "https://contoh.or.id/\tx",
        "https://contoh.or.id/\x7f",
        "https://contoh.or.id/" + "a" * 300,
    ],
)
def test_http_url_refuses_what_is_not_a_plain_web_address(raw: str) -> None:
    with pytest.raises(forms.FieldError, match="full address of the website"):
        forms.http_url(raw)


def test_http_url_speaks_of_the_field_it_checks() -> None:
    with pytest.raises(forms.FieldError, match="fact-check link"):
        forms.http_url("nope", message="Enter the fact-check link.")


def test_text_trims_requires_and_limits() -> None:
    assert forms.text("  Budi ", max_length=10, too_long="long") == "Budi"
    assert forms.text("", max_length=10, too_long="long") == ""
    with pytest.raises(forms.FieldError, match="Enter a name"):
        forms.text("   ", max_length=10, too_long="long", required="Enter a name.")
    with pytest.raises(forms.FieldError, match=r"^long$"):
        forms.text("x" * 11, max_length=10, too_long="long")


def test_choice_and_integer() -> None:
    assert forms.choice(" admin ", {"admin", "moderator"}, message="Choose a role.") == "admin"
    assert forms.choice("", {"admin"}, message="Choose a role.", required=False) == ""
    with pytest.raises(forms.FieldError, match="Choose a role"):
        forms.choice("owner", {"admin", "moderator"}, message="Choose a role.")
    assert forms.integer("42", minimum=1, maximum=100, message="bad") == 42
    for raw in ("0", "101", "-1", "4.2", "٤٢", "", "1e3"):
        with pytest.raises(forms.FieldError, match="bad"):
            forms.integer(raw, minimum=1, maximum=100, message="bad")


def test_email_and_contact_normalise_as_the_site_stores_them() -> None:
    assert forms.email(" Budi@Contoh.ID ") == "budi@contoh.id"
    assert forms.contact("0812-3456-7890") == "+6281234567890"
    with pytest.raises(forms.FieldError, match="does not look right"):
        forms.email("budi@")
    with pytest.raises(forms.FieldError):
        forms.contact("hello")


def test_checks_collect_every_message_and_keep_the_first_of_a_field() -> None:
    checks = forms.Checks()
    name = checks.run("name", forms.text, "Budi", max_length=10, too_long="long")
    site = checks.run("website", forms.http_url, "https://user@x.id")
    checks.refuse("name", "second message")
    checks.merge({"slug": "taken"})
    assert name == "Budi"
    assert site is None
    with pytest.raises(Invalid) as raised:
        checks.done()
    assert raised.value.errors == {
        "website": WEBSITE_MESSAGE,
        "slug": "taken",
        "name": "second message",
    }


def test_checks_without_messages_pass() -> None:
    checks = forms.Checks()
    checks.run("name", forms.text, "Budi", max_length=10, too_long="long")
    checks.done()
