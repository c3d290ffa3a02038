"""The personal data request forms as objects: read from the post, checked with the shared
contact and text checks, in the same words as before."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.datastructures import FormData

from pledge.errors import Invalid
from pledge.i18n import get_locale, set_locale
from pledge.privacy.forms import ContactForm, ErasureForm, ErasureRequest


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    before = get_locale()
    set_locale("en")
    yield
    set_locale(before)


def test_the_forms_read_the_post_cut_to_their_lengths() -> None:
    posted = FormData([("contact", "c" * 500), ("reason", "r" * 3000), ("csrf_token", "t")])
    assert ContactForm.read(posted) == ContactForm(contact="c" * 300)
    assert ErasureForm.read(posted) == ErasureForm(contact="c" * 300, reason="r" * 2000)


def test_a_contact_is_found_as_signing_stores_it() -> None:
    assert ContactForm(contact=" +62 812-3456-7890 ").check() == "+6281234567890"
    # An address as typed, its domain lower-cased: who it is, is the digest's business.
    assert ContactForm(contact=" Rina@Example.COM").check() == "Rina@example.com"
    with pytest.raises(Invalid) as raised:
        ContactForm(contact="").check()
    assert raised.value.errors == {"contact": "Enter your email address or mobile number."}


def test_an_erasure_gives_both_messages_at_once_and_keeps_its_reason_on_one_line() -> None:
    with pytest.raises(Invalid) as raised:
        ErasureForm(contact="bukan", reason="  \n ").check()
    assert set(raised.value.errors) == {"contact", "reason"}
    assert raised.value.errors["reason"] == "Give a reason for the audit log."
    with pytest.raises(Invalid) as long:
        ErasureForm(contact="rina@example.com", reason="r" * 501).check()
    assert long.value.errors == {"reason": "Keep the reason to at most 500 characters."}
    asked = ErasureForm(contact="rina@example.com", reason=" Diminta \n lewat  email. ").check()
    assert asked == ErasureRequest(contact="rina@example.com", reason="Diminta lewat email.")
