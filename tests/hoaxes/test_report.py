"""The report form: its fields, each bad input, the upload checks, and the redirect to the
reporter's status page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.hoaxes import decoder
from pledge.hoaxes.decoder import FairSlots
from pledge.hoaxes.models import CaseStatus, HoaxCase, HoaxReport, Media, MediaBand
from pledge.security import FieldCipher
from tests.support.db import count, fresh
from tests.support.forms import code_of, post_report, report_fields
from tests.support.images import screenshot
from tests.support.pages import csrf_token, errors_of, html

MakeCampaign = Callable[..., CampaignView]


def stored(session: Session) -> tuple[int, int, int, int]:
    return (
        count(session, HoaxReport),
        count(session, HoaxCase),
        count(session, Media),
        count(session, MediaBand),
    )


NOTHING = (0, 0, 0, 0)


# --- the form ------------------------------------------------------------------------


def test_form_has_a_label_for_every_field(client: TestClient, make_campaign: MakeCampaign) -> None:
    view = make_campaign()
    response = client.get(f"/c/{view.slug}/report")
    assert response.status_code == 200
    page = html(response)
    form = page.select_one("form[enctype='multipart/form-data']")
    assert form is not None
    assert form["method"] == "post"
    assert form["action"] == f"/c/{view.slug}/report"
    names = {field["name"] for field in form.select("input, select, textarea")}
    assert {
        "csrf_token",
        "url",
        "screenshot",
        "platform",
        "category",
        "description",
        "province",
        "contact",
        "consent",
        "website",
    } <= names
    for field in form.select("input:not([type=hidden]), select, textarea"):
        field_id = field.get("id")
        labelled = (field_id and form.select_one(f"label[for={field_id}]")) or field.find_parent(
            "label"
        )
        assert labelled, f"no label for {field['name']}"

    upload = form.select_one("input[name=screenshot]")
    assert upload["type"] == "file"
    assert upload["accept"] == "image/jpeg,image/png,image/webp"
    assert not upload.has_attr("capture")  # the camera roll, not only the camera
    platforms = [o["value"] for o in form.select("select[name=platform] option") if o["value"]]
    assert platforms == [
        "whatsapp",
        "facebook",
        "instagram",
        "tiktok",
        "x",
        "youtube",
        "telegram",
        "website",
        "other",
    ]
    categories = [o["value"] for o in form.select("select[name=category] option") if o["value"]]
    assert categories == [
        "ai_generated",
        "manipulated",
        "false_claim",
        "voting_info",
        "money_politics",
        "other",
    ]
    provinces = [o["value"] for o in form.select("select[name=province] option") if o["value"]]
    assert len(provinces) == 38


def test_draft_campaign_has_no_report_form(client: TestClient, make_campaign: MakeCampaign) -> None:
    view = make_campaign(status="draft")
    assert client.get(f"/c/{view.slug}/report").status_code == 404
    assert client.get("/c/no-such-campaign/report").status_code == 404


def test_closed_campaign_says_reporting_is_closed(
    client: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign(status="closed")
    response = client.get(f"/c/{view.slug}/report")
    assert response.status_code == 200
    page = html(response)
    assert page.select_one("form[enctype='multipart/form-data']") is None
    assert "no longer taking hoax reports" in page.select_one("main").get_text()

    live = make_campaign()
    token = csrf_token(client, f"/c/{live.slug}/report")
    response = client.post(f"/c/{view.slug}/report", data={"csrf_token": token, **report_fields()})
    assert response.status_code == 409
    assert "no longer taking hoax reports" in html(response).get_text()
    assert stored(session) == NOTHING


# --- success -------------------------------------------------------------------------


def test_report_with_link_and_screenshot(
    client: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    response = post_report(client, view, image=screenshot(1), contact="0812 3456 7890")
    code = code_of(response)
    assert len(code) == 10
    assert not set(code) & set("0o1liI")

    report = fresh(session).exec(select(HoaxReport)).one()
    assert report.tracking_code == code
    assert report.url == "https://www.facebook.com/hoaks/posts/123"
    assert report.canonical_url == "https://facebook.com/123"
    assert report.media_id is not None
    assert report.province == "ID-JB"
    assert report.locale == "en"
    case = session.get(HoaxCase, report.case_id)
    assert case is not None
    assert case.status == CaseStatus.NEW
    assert case.report_count == 1
    assert case.media_id == report.media_id
    assert case.canonical_url == report.canonical_url
    assert count(session, MediaBand) == 8

    # The contact is stored encrypted, and decrypts to its normalised form.
    assert report.contact_encrypted is not None
    assert "3456" not in report.contact_encrypted
    cipher = FieldCipher(get_settings().secret_key)
    assert cipher.decrypt(report.contact_encrypted) == "+6281234567890"


def test_report_with_link_only(
    client: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    code_of(post_report(client, view))
    report = fresh(session).exec(select(HoaxReport)).one()
    assert report.media_id is None
    assert report.contact_encrypted is None  # no contact given, none stored
    assert count(session, Media) == 0


def test_report_with_screenshot_only(
    client: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    code_of(post_report(client, view, image=screenshot(2), url="", platform="whatsapp"))
    report = fresh(session).exec(select(HoaxReport)).one()
    assert report.url is None
    assert report.canonical_url is None
    assert report.media_id is not None
    stored_media = session.get(Media, report.media_id)
    assert stored_media is not None
    assert stored_media.size == len(stored_media.data) > 0


def test_minimal_report(client: TestClient, make_campaign: MakeCampaign, session: Session) -> None:
    view = make_campaign()
    code_of(post_report(client, view, description="", province="", contact=""))
    report = fresh(session).exec(select(HoaxReport)).one()
    assert report.description == ""
    assert report.province is None


# --- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"url": "", "image": None}, "url", "Give the link to the post, or attach a screenshot"),
        ({"url": "javascript:alert(1)"}, "url", "Enter a web link"),
        ({"url": "ftp://example.id/x"}, "url", "Enter a web link"),
        ({"url": "https://example.id/" + "a" * 2100}, "url", "too long"),
        ({"url": "https://exa mple.id"}, "url", "no spaces"),
        ({"platform": ""}, "platform", "Choose where you saw it"),
        ({"platform": "myspace"}, "platform", "Choose where you saw it"),
        ({"category": ""}, "category", "Choose what kind of hoax"),
        ({"category": "gossip"}, "category", "Choose what kind of hoax"),
        ({"description": "x" * 1001}, "description", "at most 1000 characters"),
        ({"province": "ID-XX"}, "province", "Choose a province from the list"),
        ({"contact": "not-a-contact"}, "contact", "Enter an email address"),
        ({"contact": "rina@"}, "contact", "email address does not look right"),
        ({"consent": None}, "consent", "Agree to the privacy notice"),
    ],
)
def test_bad_input_is_shown_beside_its_field(
    client: TestClient,
    make_campaign: MakeCampaign,
    session: Session,
    fields: dict[str, str | None],
    field: str,
    message: str,
) -> None:
    view = make_campaign()
    image = fields.pop("image", b"") if "image" in fields else None
    response = post_report(client, view, image=image or None, **fields)  # type: ignore[arg-type]
    assert response.status_code == 422
    errors = errors_of(response)
    assert message in errors.get(field, ""), errors
    assert set(errors) == {field}
    assert stored(session) == NOTHING
    page = html(response)
    described = page.select_one(f"form [name={field}]")
    assert described is not None
    assert f"{field}-error" in described.get("aria-describedby", "")
    # What was typed is kept.
    assert page.select_one("textarea[name=description]").get_text() == fields.get(
        "description", report_fields()["description"]
    )


def test_values_are_kept_and_the_file_must_be_chosen_again(
    client: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    response = post_report(
        client,
        view,
        image=screenshot(3),
        url="https://example.id/hoaks",
        platform="tiktok",
        category="ai_generated",
        province="ID-BA",
        contact="rina@example.com",
        consent=None,
    )
    assert response.status_code == 422
    page = html(response)
    assert page.select_one("input[name=url]")["value"] == "https://example.id/hoaks"
    assert page.select_one("select[name=platform] option[selected]")["value"] == "tiktok"
    assert page.select_one("select[name=category] option[selected]")["value"] == "ai_generated"
    assert page.select_one("select[name=province] option[selected]")["value"] == "ID-BA"
    assert page.select_one("input[name=contact]")["value"] == "rina@example.com"
    again = page.select_one("#screenshot-again")
    assert again is not None
    assert "choose the screenshot again" in again.get_text()
    assert "screenshot-again" in page.select_one("input[name=screenshot]")["aria-describedby"]
    assert stored(session) == NOTHING


def test_a_file_that_is_not_a_picture_is_refused(
    client: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    response = post_report(
        client, view, image=b"%PDF-1.4 not a picture", filename="x.png", mime="image/png"
    )
    assert response.status_code == 422
    errors = errors_of(response)
    assert set(errors) == {"screenshot"}
    assert errors["screenshot"]
    assert html(response).select_one("#screenshot-again") is None
    assert stored(session) == NOTHING


def test_a_picture_built_to_be_slow_is_refused_with_a_message(
    client: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    raw = screenshot(1)  # a PNG: thousands of its chunks are more than any real picture has
    chunks = b"".join(b"\x00\x00\x00\x00tEXt" + b"\x00" * 4 for _ in range(20_000))
    absurd = raw[:33] + chunks + raw[33:]
    response = post_report(client, view, image=absurd, filename="a.png", mime="image/png")
    assert response.status_code == 422
    assert errors_of(response)["screenshot"].startswith(
        "This picture's file is built in an unusual way and cannot be checked."
    )
    assert stored(session) == NOTHING


def test_when_every_decoder_is_taken_the_reporter_is_asked_to_send_again_later(
    client: TestClient,
    make_campaign: MakeCampaign,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    view = make_campaign()
    # No decoder free and no place to wait: what a flood of uploads leaves to everyone else.
    monkeypatch.setattr(decoder.decoders, "_slots", FairSlots(0, per_sender=0, waiting_max=0))
    response = post_report(client, view, image=screenshot(1))
    assert response.status_code == 422
    assert errors_of(response)["screenshot"] == (
        "Many pictures are being checked right now. Please wait a minute and send your "
        "report again."
    )
    assert stored(session) == NOTHING


def test_an_upload_over_the_cap_is_refused_before_it_is_read(
    client: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    too_big = b"\xff\xd8\xff" + b"\0" * (get_settings().max_upload_bytes + 1)
    response = post_report(client, view, image=too_big, filename="big.jpg", mime="image/jpeg")
    assert response.status_code == 413
    assert stored(session) == NOTHING


def test_missing_csrf_token_is_refused(
    client: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    client.get(f"/c/{view.slug}/report")
    response = client.post(
        f"/c/{view.slug}/report",
        data=report_fields(),
        files={"screenshot": ("a.png", screenshot(1), "image/png")},
    )
    assert response.status_code == 403
    response = client.post(
        f"/c/{view.slug}/report", data={"csrf_token": "forged", **report_fields()}
    )
    assert response.status_code == 403
    assert stored(session) == NOTHING


def test_another_sites_form_is_refused(
    client: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    token = csrf_token(client, f"/c/{view.slug}/report")
    response = client.post(
        f"/c/{view.slug}/report",
        data={"csrf_token": token, **report_fields()},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert stored(session) == NOTHING


def test_honeypot_stores_nothing(
    client: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    response = post_report(client, view, image=screenshot(1), website="https://spam.example")
    assert response.status_code == 303
    assert response.headers["location"] == f"/c/{view.slug}/report/received"
    assert client.get(response.headers["location"]).status_code == 200
    assert stored(session) == NOTHING


def test_reports_are_rate_limited(
    client: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()
    token = csrf_token(client, f"/c/{view.slug}/report")
    statuses = [
        client.post(
            f"/c/{view.slug}/report",
            data={"csrf_token": token, **report_fields(url=f"https://example.id/{n}")},
        ).status_code
        for n in range(31)
    ]
    assert statuses[:30] == [303] * 30
    assert statuses[30] == 429
    assert count(session, HoaxReport) == 30
