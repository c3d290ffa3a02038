"""Reports of the same thing join one case: by link, whatever its spelling, and by picture,
whatever its size and compression; never across campaigns."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pledge.campaigns.models import CampaignView
from pledge.hoaxes import media
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import CaseStatus, HoaxCase, HoaxReport, Media
from tests.support.db import case_of, count
from tests.support.factories import MakeReport, Publish, set_case_status
from tests.support.forms import code_of, post_report
from tests.support.images import resized_copy, screenshot
from tests.support.pages import html

MakeCampaign = Callable[..., CampaignView]

VARIANTS = (
    "https://www.Facebook.com/x?utm_source=wa&fbclid=1#c",
    "http://m.facebook.com/x/",
    "https://facebook.com/x?mibextid=Zb",
    "https://web.facebook.com/x",
)


def test_link_variants_join_one_case(
    client: TestClient,
    other_client: TestClient,
    make_campaign: MakeCampaign,
    session: Session,
) -> None:
    view = make_campaign()
    first = code_of(post_report(client, view, url=VARIANTS[0]))
    first_page = html(client.get(f"/reports/{first}"))
    assert "You are the first to report this" in first_page.select_one(".reporters").get_text()

    codes = [code_of(post_report(other_client, view, url=url)) for url in VARIANTS[1:]]
    assert count(session, HoaxCase) == 1
    case = session.exec(select(HoaxCase)).one()
    assert case.report_count == 4
    assert case.canonical_url == "https://facebook.com/x"

    # The second reporter is told that others reported it too.
    second = html(other_client.get(f"/reports/{codes[0]}"))
    assert "You and 3 other people reported this." in " ".join(
        second.select_one(".reporters").get_text().split()
    )
    again = html(client.get(f"/reports/{first}"))
    assert "You and 3 other people" in again.select_one(".reporters").get_text()


def test_one_other_reporter_is_in_the_singular(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport
) -> None:
    view = make_campaign()
    make_report(view, url="https://x.com/a/status/1")
    code = code_of(post_report(client, view, url="https://twitter.com/a/status/1?s=20"))
    text = " ".join(
        html(client.get(f"/reports/{code}")).select_one(".reporters").get_text().split()
    )
    assert text == "You and 1 other person reported this."


def test_resized_recompressed_screenshot_joins_the_case(
    make_campaign: MakeCampaign, make_report: MakeReport, session: Session
) -> None:
    original, copy = screenshot(7), resized_copy(7)
    assert original != copy
    view = make_campaign()
    first = make_report(view, url="", image=original)
    second = make_report(view, url="", image=copy, platform="whatsapp")
    assert first.media_id != second.media_id  # two stored pictures...
    assert second.case_id == first.case_id  # ...of one thing
    assert case_of(session, first).report_count == 2


def test_same_bytes_are_stored_once(
    make_campaign: MakeCampaign, make_report: MakeReport, session: Session
) -> None:
    view, other = make_campaign(), make_campaign()
    first = make_report(view, url="", image=screenshot(8))
    second = make_report(other, url="", image=screenshot(8))
    assert first.media_id == second.media_id
    assert count(session, Media) == 1
    assert first.case_id != second.case_id


def test_a_different_picture_makes_a_new_case(
    make_campaign: MakeCampaign, make_report: MakeReport, session: Session
) -> None:
    view = make_campaign()
    a, b = media.process_upload(screenshot(1)), media.process_upload(screenshot(2))
    assert media.hamming(a.phash, b.phash) > media.SIMILAR_BITS
    first = make_report(view, url="", image=screenshot(1))
    second = make_report(view, url="", image=screenshot(2))
    assert first.case_id != second.case_id
    assert count(session, HoaxCase) == 2


def test_link_or_picture_is_enough_to_join(
    make_campaign: MakeCampaign, make_report: MakeReport, session: Session
) -> None:
    view = make_campaign()
    by_link = make_report(view, url="https://tiktok.com/@a/video/1", image=None)
    # The same link with a picture joins, and the case learns the picture.
    with_picture = make_report(view, url="https://www.tiktok.com/@a/video/1", image=screenshot(4))
    assert with_picture.case_id == by_link.case_id
    case = case_of(session, by_link)
    assert case.media_id == with_picture.media_id
    # The picture alone, resized, now finds the same case.
    by_picture = make_report(view, url="", image=resized_copy(4))
    assert by_picture.case_id == by_link.case_id
    assert case_of(session, by_link).report_count == 3


def test_reports_in_different_campaigns_never_join(
    make_campaign: MakeCampaign, make_report: MakeReport, session: Session
) -> None:
    one, two = make_campaign(), make_campaign()
    a = make_report(one, url="https://facebook.com/x", image=screenshot(5))
    b = make_report(two, url="https://www.facebook.com/x", image=resized_copy(5))
    assert a.case_id != b.case_id
    assert case_of(session, a).campaign_id == one.id
    assert case_of(session, b).campaign_id == two.id
    assert case_of(session, a).report_count == case_of(session, b).report_count == 1


def test_a_report_of_a_merged_case_joins_the_surviving_case(
    make_campaign: MakeCampaign, make_report: MakeReport, session: Session
) -> None:
    view = make_campaign()
    survivor = make_report(view, url="https://example.id/asli")
    merged = make_report(view, url="https://example.id/salinan")
    set_case_status(session, merged.case_id, CaseStatus.DUPLICATE, merged_into_id=survivor.case_id)
    late = make_report(view, url="https://www.example.id/salinan/")
    assert late.case_id == survivor.case_id
    assert case_of(session, survivor).report_count == 2
    # The merged case keeps its count; the status page follows it to the survivor.
    status = hoaxes.get_status(session, code=merged.tracking_code)
    assert status.case.id == survivor.case_id


def test_a_duplicate_without_a_survivor_is_not_joined(
    make_campaign: MakeCampaign, make_report: MakeReport, session: Session
) -> None:
    view = make_campaign()
    orphan = make_report(view, url="https://example.id/yatim")
    set_case_status(session, orphan.case_id, CaseStatus.DUPLICATE, merged_into_id=None)
    late = make_report(view, url="https://example.id/yatim")
    assert late.case_id != orphan.case_id
    assert case_of(session, late).status == CaseStatus.NEW


def test_a_decided_case_still_counts_new_reports_but_keeps_its_picture(
    make_campaign: MakeCampaign, make_report: MakeReport, publish: Publish, session: Session
) -> None:
    view = make_campaign()
    first = make_report(view, url="https://example.id/sudah")
    publish(first.case_id)
    late = make_report(view, url="https://example.id/sudah", image=screenshot(6))
    assert late.case_id == first.case_id
    case = case_of(session, first)
    assert case.report_count == 2
    assert case.status == CaseStatus.PUBLISHED
    assert case.media_id is None  # what the moderators published is unchanged
    assert count(session, HoaxReport) == 2
