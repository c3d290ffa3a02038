"""How a new report finds its case, through the report form: by the post its link shows, by
a picture that shows and says the same, by text that makes the same claim; what comes close
is suggested and never joined; and a report of a hoax already checked sees the verdict at
once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, select

from pledge.campaigns.models import CampaignView
from pledge.db import utcnow
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import (
    CaseMatch,
    CaseStatus,
    HoaxCase,
    HoaxReport,
    MatchKind,
    Media,
    Verdict,
)
from pledge.hoaxes.service import canonical_url
from tests.hoaxes.test_shortlinks import TARGET, Handler, origin
from tests.support.db import fresh
from tests.support.factories import MakeCampaign, MakeCase, MakeReport, make_user
from tests.support.forms import code_of, post_report
from tests.support.images import encoded, notice
from tests.support.images import picture as blocks
from tests.support.pages import html

__all__ = ["origin"]  # the loopback server that plays every short-link service

CLAIM = "Pemilih yang tidak membawa undangan C6 tidak bisa mencoblos di TPS besok, sebarkan!"
REWORDED = "info grup sebelah: pemilih yg gak bawa undangan C6 gak bisa nyoblos di TPS besok"
NEGATED = "Pemilih yang tidak membawa undangan C6 tetap bisa mencoblos di TPS besok"


@pytest.fixture
def live_campaign(make_campaign: MakeCampaign) -> CampaignView:
    return make_campaign(status="live")


def report_of(session: Session, code: str) -> HoaxReport:
    return fresh(session).exec(select(HoaxReport).where(HoaxReport.tracking_code == code)).one()


def send(client: TestClient, view: CampaignView, **fields: object) -> str:
    return code_of(post_report(client, view, **fields))


# --- links ---------------------------------------------------------------------------------


def test_two_spellings_of_one_post_join_one_case(
    session: Session, client: TestClient, live_campaign: CampaignView
) -> None:
    first = send(client, live_campaign, url="https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s")
    second = send(client, live_campaign, url="https://youtu.be/dQw4w9WgXcQ?si=AbCdEf")
    one, two = report_of(session, first), report_of(session, second)
    assert one.case_id == two.case_id
    assert (one.joined_by, two.joined_by) == ("", "link")
    case = fresh(session).get(HoaxCase, one.case_id)
    assert case is not None and case.report_count == 2


# --- text ----------------------------------------------------------------------------------


def test_the_same_claim_in_other_words_joins_and_its_negation_is_only_suggested(
    session: Session, client: TestClient, live_campaign: CampaignView
) -> None:
    first = send(client, live_campaign, url="https://example.id/berita/1", description=CLAIM)
    again = send(client, live_campaign, url="https://example.id/berita/2", description=REWORDED)
    other = send(client, live_campaign, url="https://example.id/berita/3", description=NEGATED)
    one, two, three = (report_of(session, code) for code in (first, again, other))
    assert two.case_id == one.case_id and two.joined_by.startswith("text ")
    assert three.case_id != one.case_id and three.joined_by == ""
    match = fresh(session).exec(select(CaseMatch)).one()
    assert (match.case_id, match.other_case_id) == (three.case_id, one.case_id)
    assert match.kind == MatchKind.TEXT and 0 < match.score < 1


def test_short_descriptions_never_join(
    session: Session, client: TestClient, live_campaign: CampaignView
) -> None:
    codes = [
        send(client, live_campaign, url=f"https://example.id/x/{n}", description="hoaks ini")
        for n in range(2)
    ]
    cases = {report_of(session, code).case_id for code in codes}
    assert len(cases) == 2
    assert fresh(session).exec(select(CaseMatch)).all() == []


# --- already checked --------------------------------------------------------------------------


def test_a_report_of_a_published_verdict_shows_it_at_once(
    session: Session, client: TestClient, live_campaign: CampaignView, make_case: MakeCase
) -> None:
    link = "https://www.tiktok.com/@akun/video/7301234567890123456"
    published = make_case(live_campaign, status="published", canonical_url=canonical_url(link))
    code = send(
        client, live_campaign, url="https://m.tiktok.com/v/7301234567890123456.html?_r=1&u_code=x"
    )
    assert report_of(session, code).case_id == published.id
    page = html(client.get(f"/reports/{code}"))
    notice = page.select_one("#already-checked")
    assert notice is not None and "Already checked" in notice.get_text()
    assert page.select_one(".verdict-label").get_text(strip=True) == "SALAH"
    assert page.select_one("#verdict-title q.claim-text").get_text(strip=True) == (
        published.public_title
    )


def test_a_report_close_to_a_published_verdict_sees_it_as_maybe_related(
    session: Session, client: TestClient, live_campaign: CampaignView
) -> None:
    checked = report_of(
        session, send(client, live_campaign, url="https://example.id/a/1", description=CLAIM)
    )
    publish(session, checked.case_id)
    code = send(client, live_campaign, url="https://example.id/a/2", description=NEGATED)
    assert report_of(session, code).case_id != checked.case_id
    page = html(client.get(f"/reports/{code}"))
    assert page.select_one("#already-checked") is None
    assert page.select_one(".status")["data-status"] == "new"
    related = page.select("#related li.related-verdict")
    assert len(related) == 1
    link = related[0].select_one("a")
    assert link["href"] == f"/hoaxes/{checked.case_id}"
    assert link.get_text(strip=True) == "Undangan C6 tidak wajib dibawa"


def publish(session: Session, case_id: int) -> None:
    case = fresh(session).get(HoaxCase, case_id)
    assert case is not None
    case.status, case.label = CaseStatus.PUBLISHED, Verdict.SALAH
    case.public_title = "Undangan C6 tidak wajib dibawa"
    case.public_explanation = "Pemilih cukup membawa KTP elektronik."
    case.published_at = utcnow()
    session.add(case)
    session.commit()


# --- pictures --------------------------------------------------------------------------------

NOTICE = [
    "PENGUMUMAN KPU KOTA BARU",
    "Pemungutan suara diundur",
    "ke tanggal 20 Februari 2029",
    "karena surat suara rusak.",
    "Sebarkan ke grup keluarga!",
]


def test_a_forwarded_copy_joins_and_a_twin_with_one_line_changed_is_only_suggested(
    session: Session, client: TestClient, live_campaign: CampaignView
) -> None:
    original = notice(NOTICE)
    copy = encoded(original.resize((540, 960), Image.Resampling.BILINEAR), "JPEG", quality=50)
    twin = notice([*NOTICE[:2], "ke tanggal 27 Februari 2029", *NOTICE[3:]])
    # Every reporter writes the same words: the text alone must not join the twin.
    same_words = {"url": "", "description": "Pengumuman pemilu diundur karena surat suara rusak"}
    first = send(client, live_campaign, image=encoded(original), **same_words)
    again = send(client, live_campaign, image=copy, mime="image/jpeg", **same_words)
    other = send(client, live_campaign, image=encoded(twin), **same_words)
    one, two, three = (report_of(session, code) for code in (first, again, other))
    assert two.case_id == one.case_id and two.joined_by.startswith("picture")
    assert three.case_id != one.case_id
    match = fresh(session).exec(select(CaseMatch)).one()
    assert match.kind == MatchKind.PICTURE and "text differs" in match.why
    assert (match.case_id, match.other_case_id) == (three.case_id, one.case_id)


# --- short links -----------------------------------------------------------------------------


def test_a_short_link_is_followed_after_the_answer_and_its_case_joins_the_post(
    session: Session, client: TestClient, live_campaign: CampaignView, origin: str
) -> None:
    posted = send(client, live_campaign, url=TARGET)
    short = send(client, live_campaign, url="https://bit.ly/chain")
    # The answer did not wait: the report was stored keyed by its short link first; the
    # follow-up ran after it (in the test client, before the call returned).
    first, followed = report_of(session, posted), report_of(session, short)
    assert followed.resolved_url == TARGET
    assert followed.canonical_url == first.canonical_url == canonical_url(TARGET)
    assert followed.case_id == first.case_id and followed.joined_by == "link (short link)"
    # The case opened for the short link alone, untouched by moderators, is gone.
    assert [case.id for case in fresh(session).exec(select(HoaxCase))] == [first.case_id]
    case = fresh(session).get(HoaxCase, first.case_id)
    assert case is not None and case.report_count == 2
    assert client.get(f"/reports/{short}").status_code == 200


def test_a_short_link_whose_case_a_moderator_holds_is_rekeyed_and_suggested(
    session: Session,
    engine: sa.Engine,
    client: TestClient,
    live_campaign: CampaignView,
    make_report: MakeReport,
    origin: str,
) -> None:
    posted = report_of(session, send(client, live_campaign, url=TARGET))
    # Sent through the service: nothing follows the link until the test says so.
    short = make_report(live_campaign, url="https://bit.ly/chain")
    case = fresh(session).get(HoaxCase, short.case_id)
    assert case is not None and case.canonical_url == canonical_url("https://bit.ly/chain")
    case.claimed_by_id = make_user(session, "mod@example.org").id
    case.claim_expires_at = utcnow() + timedelta(minutes=10)
    session.add(case)
    session.commit()
    assert hoaxes.follow_short_link(engine, short.id or 0) == canonical_url(TARGET)
    session = fresh(session)
    kept = session.get(HoaxCase, short.case_id)
    assert kept is not None and kept.canonical_url == canonical_url(TARGET)
    assert report_of(session, short.tracking_code).case_id == short.case_id
    match = session.exec(select(CaseMatch)).one()
    assert (match.case_id, match.other_case_id) == (short.case_id, posted.case_id)
    assert match.kind == MatchKind.LINK and match.score == 1.0
    # Followed once: a second call finds nothing left to do.
    assert hoaxes.follow_short_link(engine, short.id or 0) is None


def test_a_short_link_that_cannot_be_followed_keeps_its_report(
    session: Session, client: TestClient, live_campaign: CampaignView, origin: str
) -> None:
    code = send(client, live_campaign, url="https://bit.ly/private")
    report = report_of(session, code)
    assert report.resolved_url is None
    assert report.canonical_url == canonical_url("https://bit.ly/private")
    assert ("HEAD", "10.0.0.1", "/admin", None) not in Handler.seen


# --- what the matching cannot read -------------------------------------------------------------


def test_text_in_another_script_and_a_picture_without_text_are_stored_without_that_signal(
    session: Session, client: TestClient, live_campaign: CampaignView
) -> None:
    foreign = "选举推迟到下个月，因为选票被损坏了。请转发给家人。"
    first = send(client, live_campaign, url="https://example.id/z/1", description=foreign)
    again = send(client, live_campaign, url="https://example.id/z/2", description=foreign)
    photo = send(client, live_campaign, url="", description="", image=encoded(blocks()))
    one, two, three = (report_of(session, code) for code in (first, again, photo))
    assert one.description == foreign and one.case_id != two.case_id  # no words it can weigh
    assert three.media_id is not None and three.match_text == ""
    stored = fresh(session).get(Media, three.media_id)
    assert stored is not None and stored.ocr_text == "" and stored.fingerprint
