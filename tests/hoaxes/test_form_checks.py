"""The report form as an object: read from the post with its screenshot, checked with the
shared field checks, every message at once and in the same words."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO

import pytest
from starlette.datastructures import FormData, Headers, UploadFile

from pledge.errors import Invalid
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import Category, Platform
from pledge.i18n import get_locale, set_locale


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    before = get_locale()
    set_locale("en")
    yield
    set_locale(before)


def upload(data: bytes) -> UploadFile:
    return UploadFile(BytesIO(data), filename="layar.jpg", headers=Headers())


def test_the_report_form_reads_the_post_and_its_screenshot() -> None:
    posted = FormData(
        [
            ("url", "https://x.com/a/status/1"),
            ("platform", "x"),
            ("category", "false_claim"),
            ("description", "d" * 5000),
            ("province", "ID-JK"),
            ("contact", "rina@example.com"),
            ("consent", "on"),
            ("website", ""),
            ("screenshot", upload(b"not really a picture")),
        ]
    )
    form = hoaxes.ReportForm.read(posted)
    assert form.url == "https://x.com/a/status/1"
    assert form.platform == "x"
    assert len(form.description) == hoaxes.DESCRIPTION_MAX * 2
    assert form.screenshot == b"not really a picture"
    assert hoaxes.ReportForm.read(FormData([("screenshot", upload(b""))])).screenshot is None


def test_the_report_form_gives_every_message_at_once() -> None:
    form = hoaxes.ReportForm(
        url="bukan link",
        platform="koran",
        category="gosip",
        description="x" * 1001,
        province="ID-XX",
        contact="bukan kontak",
        screenshot=b"GIF89a not a screenshot we take",
    )
    with pytest.raises(Invalid) as raised:
        form.check()
    errors = raised.value.errors
    assert set(errors) == {
        "url",
        "screenshot",
        "platform",
        "category",
        "description",
        "province",
        "contact",
        "consent",
    }
    assert errors["url"] == "A link has no spaces. Copy the link again and paste it here."
    assert errors["platform"] == "Choose where you saw it."
    assert errors["category"] == "Choose what kind of hoax you think it is."
    assert errors["description"] == "Keep the description to at most 1000 characters."
    assert errors["province"] == "Choose a province from the list, or leave it empty."
    assert errors["consent"] == "Agree to the privacy notice to send your report."


def test_a_report_needs_a_link_or_a_screenshot() -> None:
    form = hoaxes.ReportForm(platform="x", category="false_claim", consent="on")
    with pytest.raises(Invalid) as raised:
        form.check()
    assert raised.value.errors == {
        "url": "Give the link to the post, or attach a screenshot of it (or both)."
    }


def test_a_good_report_is_cleaned() -> None:
    form = hoaxes.ReportForm(
        url=" www.facebook.com/hoaks/posts/123?fbclid=abc ",
        platform=" facebook ",
        category="false_claim",
        description="  Baris satu\r\nbaris dua\x07  ",
        contact="0812 3456 7890",
        consent="on",
    )
    clean = form.check()
    assert clean.url == "https://www.facebook.com/hoaks/posts/123?fbclid=abc"
    assert clean.canonical == "https://facebook.com/123"
    assert clean.platform is Platform.FACEBOOK
    assert clean.category is Category.FALSE_CLAIM
    assert clean.description == "Baris satu\nbaris dua"
    assert clean.province is None
    assert clean.contact_encrypted is not None
    assert "0812" not in clean.contact_encrypted
    assert clean.image is None
