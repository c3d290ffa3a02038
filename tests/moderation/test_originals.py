"""The original of a manipulated picture: attached by the moderator holding the case (an upload
or another case's picture), compared once in a decoder process and kept, shown beside the
case's picture, and on the published verdict when the moderators choose so."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat
from sqlmodel import Session

from pledge import audit
from pledge.audit import AuditAction
from pledge.db import utcnow
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import CaseStatus, HoaxCase
from pledge.moderation.service import subject
from tests.support import difference_files as files
from tests.support.db import reload
from tests.support.factories import make_report
from tests.support.moderation import CSRF, HOAX_FIELDS, Browser, World, case_url
from tests.support.pages import errors_of, html

# Where the fake's pasted block lies in the original photo.
PASTED = (620, 380, 840, 560)


def photo() -> Image.Image:
    return files.photo(21, (1400, 1050))


def fake_of(original: Image.Image) -> bytes:
    """The photo with a block pasted in, cropped, scaled and re-compressed, as it spreads."""
    return files.reshared(files.pasted(original, PASTED, (120, 90))).data


def a_case_with_a_fake(session: Session, world: World, holder: Any = None) -> HoaxCase:
    report = make_report(session, world.a, image=fake_of(photo()))
    case = session.get(HoaxCase, report.case_id)
    assert case is not None and case.media_id is not None
    if holder is not None:
        case.claimed_by_id = holder.id
        case.claim_expires_at = utcnow() + timedelta(minutes=10)
        session.add(case)
        session.commit()
    return case


def attach(client: Any, case_id: int, *, picture: bytes | None = None, **fields: str) -> Any:
    files_ = {"original": ("original.jpg", picture, "image/jpeg")} if picture is not None else None
    return client.post(
        case_url(case_id, "original"), data={"csrf_token": CSRF, **fields}, files=files_
    )


def problem(response: Any) -> str:
    found = html(response).select_one("#problem")
    return found.get_text(" ", strip=True) if found else ""


def test_an_uploaded_original_is_compared_and_the_change_outlined(
    session: Session, world: World, browser: Browser
) -> None:
    case = a_case_with_a_fake(session, world, holder=world.mod_a)
    client = browser(world.mod_a)
    answer = attach(client, case.id or 0, picture=files.stored(photo()))
    assert answer.status_code == 303, answer.text[:400]
    assert answer.headers["location"].endswith("?done=original")
    stored = hoaxes.get_original(session, case_id=case.id or 0)
    assert stored is not None and stored.outcome == "aligned"
    assert stored.media_id is not None and stored.media_id != case.media_id
    regions = hoaxes.stored_regions(stored)
    assert len(regions) == 1 and stored.matches >= 25
    page = html(client.get(answer.headers["location"]))
    summary = page.select_one("#original-summary").get_text(" ", strip=True)
    assert summary.startswith("The two pictures line up. 1 part of the case's picture differs")
    for kind in ("overlay", "aligned"):
        src = page.select_one(f"#original-{kind}")["src"]
        assert src == f"/mod/cases/{case.id}/original/{kind}.jpg"
        picture = client.get(src)
        assert (
            picture.status_code == 200 and picture.headers["cache-control"] == "private, no-store"
        )
        assert Image.open(io.BytesIO(picture.content)).format == "JPEG"
    # The raw original is the moderators' too, through the media route.
    assert client.get(f"/media/{stored.media_id}").status_code == 200
    events = audit.list_events(session, subject=subject(case.id or 0), limit=10)
    assert AuditAction.CASE_ORIGINAL in [event.action for event in events]


def test_another_cases_picture_can_be_the_original(
    session: Session, world: World, browser: Browser
) -> None:
    source = make_report(
        session, world.a, image=files.stored(photo()), url="https://example.org/asli"
    )
    case = a_case_with_a_fake(session, world, holder=world.mod_a)
    assert source.case_id != case.id
    answer = attach(browser(world.mod_a), case.id or 0, source_case=f"#{source.case_id}")
    assert answer.status_code == 303, answer.text[:400]
    stored = hoaxes.get_original(session, case_id=case.id or 0)
    assert stored is not None and stored.source_case_id == source.case_id
    assert stored.outcome == "aligned"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({}, "original-original", "Choose the original picture, or give the number"),
        ({"source_case": "abc"}, "original-source_case", "Give the number of another case"),
        ({"source_case": "99999"}, "original-source_case", "Give the number of another case"),
    ],
)
def test_an_attachment_without_a_picture_is_refused_with_a_message(
    session: Session,
    world: World,
    browser: Browser,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    case = a_case_with_a_fake(session, world, holder=world.mod_a)
    answer = attach(browser(world.mod_a), case.id or 0, **fields)
    assert answer.status_code == 422
    assert errors_of(answer)[field].startswith(message)
    assert hoaxes.get_original(session, case_id=case.id or 0) is None


def test_a_file_that_is_not_a_picture_is_refused(
    session: Session, world: World, browser: Browser
) -> None:
    case = a_case_with_a_fake(session, world, holder=world.mod_a)
    answer = attach(browser(world.mod_a), case.id or 0, picture=b"%PDF-1.4 not a picture")
    assert answer.status_code == 422
    assert errors_of(answer)["original-original"] == (
        "Only JPEG, PNG and WebP images can be uploaded."
    )
    assert hoaxes.get_original(session, case_id=case.id or 0) is None


def test_the_cases_own_picture_is_not_its_original(
    session: Session, world: World, browser: Browser
) -> None:
    case = a_case_with_a_fake(session, world, holder=world.mod_a)
    client = browser(world.mod_a)
    again = attach(client, case.id or 0, picture=fake_of(photo()))
    assert again.status_code == 422
    assert errors_of(again)["original-original"].startswith("This is the same picture as")
    own = attach(client, case.id or 0, source_case=str(case.id))
    assert own.status_code == 422
    assert hoaxes.get_original(session, case_id=case.id or 0) is None


def test_an_unrelated_picture_is_kept_side_by_side_without_a_difference(
    session: Session, world: World, browser: Browser
) -> None:
    case = a_case_with_a_fake(session, world, holder=world.mod_a)
    client = browser(world.mod_a)
    other = files.stored(files.photo(99, (1200, 900)))
    assert attach(client, case.id or 0, picture=other).status_code == 303
    stored = hoaxes.get_original(session, case_id=case.id or 0)
    assert stored is not None and stored.outcome == "unrelated" and stored.overlay == b""
    page = html(client.get(case_url(case)))
    assert "could not be lined up" in page.select_one("#original-summary").get_text()
    assert client.get(case_url(case.id or 0, "original/overlay.jpg")).status_code == 404


def test_only_the_moderator_holding_an_open_case_attaches(
    session: Session, world: World, browser: Browser
) -> None:
    case = a_case_with_a_fake(session, world)
    original = files.stored(photo())
    unclaimed = attach(browser(world.mod_a), case.id or 0, picture=original)
    assert unclaimed.status_code == 409 and problem(unclaimed).startswith("Claim the case first")
    assert attach(browser(world.mod_b), case.id or 0, picture=original).status_code == 404
    anonymous = attach(browser(None), case.id or 0, picture=original)
    assert anonymous.status_code in (303, 401, 403) and "/login" in anonymous.headers.get(
        "location", "/login"
    )
    closed = reload(session, case)
    closed.status = CaseStatus.REJECTED
    closed.claimed_by_id = world.mod_a.id
    closed.claim_expires_at = utcnow() + timedelta(minutes=10)
    session.add(closed)
    session.commit()
    refused = attach(browser(world.mod_a), case.id or 0, picture=original)
    assert refused.status_code == 409 and problem(refused).startswith("This case is closed")
    assert hoaxes.get_original(session, case_id=case.id or 0) is None


def test_the_comparison_pictures_are_for_the_campaigns_moderators_only(
    session: Session, world: World, browser: Browser
) -> None:
    case = a_case_with_a_fake(session, world, holder=world.mod_a)
    assert (
        attach(browser(world.mod_a), case.id or 0, picture=files.stored(photo())).status_code == 303
    )
    path = case_url(case.id or 0, "original/overlay.jpg")
    assert browser(world.mod_a2).get(path).status_code == 200  # a co-partner's moderator
    assert browser(world.mod_b).get(path).status_code == 404
    assert browser(world.plain).get(path).status_code == 403
    assert browser(world.mod_a).get(case_url(case.id or 0, "original/data.jpg")).status_code == 404
    stored = hoaxes.get_original(session, case_id=case.id or 0)
    assert stored is not None
    assert browser(None).get(f"/media/{stored.media_id}").status_code == 404
    assert browser(world.mod_b).get(f"/media/{stored.media_id}").status_code == 404


def test_removing_the_original(session: Session, world: World, browser: Browser) -> None:
    case = a_case_with_a_fake(session, world, holder=world.mod_a)
    client = browser(world.mod_a)
    assert attach(client, case.id or 0, picture=files.stored(photo())).status_code == 303
    removed = client.post(case_url(case.id or 0, "original/remove"), data={"csrf_token": CSRF})
    assert removed.headers["location"].endswith("?done=original-removed")
    assert hoaxes.get_original(session, case_id=case.id or 0) is None
    again = client.post(case_url(case.id or 0, "original/remove"), data={"csrf_token": CSRF})
    assert again.status_code == 409 and problem(again) == "This case has no original to remove."


# --- on the published verdict ---------------------------------------------------------------


def publish_with_original(
    session: Session, world: World, browser: Browser, label: str = "DIMANIPULASI"
) -> tuple[HoaxCase, Any]:
    case = a_case_with_a_fake(session, world, holder=world.mod_a)
    proposer = browser(world.mod_a)
    assert attach(proposer, case.id or 0, picture=files.stored(photo())).status_code == 303
    fields = {**HOAX_FIELDS, "label": label, "show_original": "1", "csrf_token": CSRF}
    decided = proposer.post(case_url(case.id or 0, "decide"), data=fields)
    return case, decided


def test_a_manipulated_verdict_shows_the_original_beside_the_picture(
    session: Session, world: World, browser: Browser
) -> None:
    case, decided = publish_with_original(session, world, browser)
    assert decided.status_code == 303
    proposer = browser(world.mod_a)
    page = html(proposer.get(case_url(case)))
    assert page.select_one("#original-public") is not None
    # Not public until a second moderator approves the verdict.
    anonymous = browser(None)
    assert anonymous.get(f"/hoaxes/{case.id}/original.jpg").status_code == 404
    second = browser(world.mod_a2)
    second.post(case_url(case.id or 0, "claim"), data={"csrf_token": CSRF})
    approved = second.post(
        case_url(case.id or 0, "approve"), data={"csrf_token": CSRF, "reason": "Sumber kuat."}
    )
    assert approved.status_code == 303
    public = html(anonymous.get(f"/hoaxes/{case.id}"))
    pair = public.select_one("#original-pair")
    assert pair is not None
    sources = [img["src"] for img in pair.select("img")]
    # In the page's language (English here), which the pictures' words follow.
    assert sources == [
        f"/hoaxes/{case.id}/original.jpg?lang=en",
        f"/hoaxes/{case.id}/changed.jpg?lang=en",
    ]
    assert "outlined in yellow" in pair.get_text()
    for src in sources:
        answer = anonymous.get(src)
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
        assert Image.open(io.BytesIO(answer.content)).format == "JPEG"
    # The voided fake keeps its own stamped picture's rule: never the raw pixels.
    changed = Image.open(io.BytesIO(anonymous.get(sources[1]).content)).convert("RGB")
    stored = hoaxes.get_stored(session, media_id=case.media_id)
    assert stored is not None
    raw = Image.open(io.BytesIO(stored.data)).convert("RGB")
    assert max(changed.size) == 720  # drawn for phones: two share a screen's width
    same_size = raw.resize(changed.size)
    difference = ImageChops.difference(changed, same_size).convert("L")
    assert ImageStat.Stat(difference).mean[0] > 20  # voided: greyed and striped all over


def test_only_a_manipulated_or_ai_verdict_shows_the_original(
    session: Session, world: World, browser: Browser
) -> None:
    case, decided = publish_with_original(session, world, browser, label="SALAH")
    assert decided.status_code == 422
    assert errors_of(decided)["hoax-show_original"].startswith(
        "Only a BUATAN AI / DIMANIPULASI verdict shows the original"
    )
    assert reload(session, case).status == CaseStatus.NEW


def test_a_verdict_without_an_original_cannot_show_one(
    session: Session, world: World, browser: Browser
) -> None:
    case = a_case_with_a_fake(session, world, holder=world.mod_a)
    fields = {**HOAX_FIELDS, "label": "DIMANIPULASI", "show_original": "1", "csrf_token": CSRF}
    refused = browser(world.mod_a).post(case_url(case.id or 0, "decide"), data=fields)
    assert refused.status_code == 422
    assert errors_of(refused)["hoax-show_original"] == (
        "This case has no original to show. Untick the box."
    )


def test_a_verdict_sent_back_no_longer_shows_its_original(
    session: Session, world: World, browser: Browser
) -> None:
    case, decided = publish_with_original(session, world, browser)
    assert decided.status_code == 303
    second = browser(world.mod_a2)
    second.post(case_url(case.id or 0, "claim"), data={"csrf_token": CSRF})
    sent = second.post(
        case_url(case.id or 0, "send-back"), data={"csrf_token": CSRF, "reason": "Cek lagi."}
    )
    assert sent.status_code == 303
    stored = hoaxes.get_original(session, case_id=case.id or 0)
    assert stored is not None and stored.show_public is False
