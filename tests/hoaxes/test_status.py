"""The reporter's status page: the case's state in plain words, how many others reported it,
their own report, and nothing of anyone else."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from pledge.campaigns.models import CampaignView
from pledge.hoaxes.models import CaseStatus, HoaxReport, Verdict
from tests.support.db import fresh
from tests.support.factories import MakeReport, Publish, set_case_status
from tests.support.forms import code_of, post_report
from tests.support.images import screenshot
from tests.support.pages import html

MakeCampaign = Callable[..., CampaignView]


def status_text(client: TestClient, code: str) -> str:
    response = client.get(f"/reports/{code}")
    assert response.status_code == 200
    return " ".join(html(response).select_one(".status").get_text().split())


def test_status_page_of_a_new_report(client: TestClient, make_campaign: MakeCampaign) -> None:
    view = make_campaign()
    code = code_of(
        post_report(client, view, url="https://example.id/hoaks", category="voting_info")
    )
    response = client.get(f"/reports/{code}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    page = html(response)
    assert page.select_one("meta[name=robots]")["content"].startswith("noindex")
    assert page.select_one(".tracking-code").get_text() == code
    assert page.select_one(".status")["data-status"] == "new"
    assert "Being reviewed" in page.select_one(".status").get_text()
    assert page.select_one(".your-link").get_text(strip=True) == "https://example.id/hoaks"
    assert (
        page.select_one(".your-category").get_text(strip=True) == "False information about voting"
    )
    # No form but the tracking-code box, which is sent by GET: no session cookie is needed.
    assert [form.get("method") for form in page.select("main form")] == ["get"]
    assert page.select_one("main form.tracking-box")["action"] == "/reports"
    assert "set-cookie" not in response.headers


def test_codes_are_read_case_insensitively(client: TestClient, make_campaign: MakeCampaign) -> None:
    view = make_campaign()
    code = code_of(post_report(client, view))
    assert client.get(f"/reports/{code.upper()}").status_code == 200


@pytest.mark.parametrize("code", ["abcdefghjk", "short", "0000000000", "a" * 200, "../../etc"])
def test_unknown_code_is_not_found(
    client: TestClient, make_campaign: MakeCampaign, code: str
) -> None:
    view = make_campaign()
    code_of(post_report(client, view))
    assert client.get(f"/reports/{code}").status_code == 404


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (CaseStatus.NEEDS_INFO, "The moderators need more information"),
        (CaseStatus.AWAITING_APPROVAL, "second moderator is checking it"),
        (CaseStatus.NOT_HOAX, "not a hoax"),
        (CaseStatus.REJECTED, "will not take this report further"),
    ],
)
def test_each_status_in_plain_words(
    client: TestClient,
    make_campaign: MakeCampaign,
    session: Session,
    status: CaseStatus,
    words: str,
) -> None:
    view = make_campaign()
    code = code_of(post_report(client, view))
    report = fresh(session).exec(select(HoaxReport)).one()
    set_case_status(session, report.case_id, status, public_title="Rahasia", label=Verdict.SALAH)
    text = status_text(client, code)
    assert words in text
    # A verdict that is not published is not shown.
    assert "Rahasia" not in html(client.get(f"/reports/{code}")).get_text()


def test_published_verdict_is_shown_with_a_link(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport, publish: Publish
) -> None:
    view = make_campaign()
    code = code_of(post_report(client, view))
    report = make_report(view)  # the same link: the same case
    publish(
        report.case_id,
        label=Verdict.MENYESATKAN,
        title="Klaim TPS dipindah menyesatkan",
        explanation="Baris satu.\nBaris dua.\n\n<b>Paragraf</b> dua.",
    )
    page = html(client.get(f"/reports/{code}"))
    box = page.select_one(".verdict-box")
    assert box is not None
    assert box.select_one(".verdict-label").get_text() == "MENYESATKAN"
    # The claim, quoted under its name, and the correction beside it: never one for the other.
    assert box.select_one("h3 .claim-tag").get_text() == "Claim:"
    assert box.select_one("h3 q.claim-text").get_text() == "Klaim TPS dipindah menyesatkan"
    assert box.select_one(".fact").get_text(" ", strip=True) == (
        "Fact: Foto itu hasil rekayasa dari foto lama di luar negeri."
    )
    paragraphs = box.select(".explanation p")
    assert len(paragraphs) == 2
    assert paragraphs[0].find("br") is not None
    assert paragraphs[1].get_text() == "<b>Paragraf</b> dua."  # shown as text, not markup
    fact_check = box.select_one("a[rel='noopener nofollow']")
    assert fact_check["href"] == "https://cekfakta.example.id/kotak-suara"
    assert box.select_one(f"a[href='/hoaxes/{report.case_id}']") is not None


def test_a_merged_report_shows_the_surviving_case(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    session: Session,
    publish: Publish,
) -> None:
    view = make_campaign()
    code = code_of(post_report(client, view, url="https://example.id/salinan"))
    survivor = make_report(view, url="https://example.id/asli")
    merged = fresh(session).exec(select(HoaxReport).order_by(col(HoaxReport.id))).first()
    assert merged is not None
    set_case_status(session, merged.case_id, CaseStatus.DUPLICATE, merged_into_id=survivor.case_id)
    assert "Being reviewed" in status_text(client, code)
    publish(survivor.case_id, title="Yang asli")
    page = html(client.get(f"/reports/{code}"))
    assert page.select_one(".status")["data-status"] == "published"
    assert page.select_one(".verdict-box h3 q.claim-text").get_text() == "Yang asli"


def test_nothing_of_other_reporters_is_shown(
    client: TestClient,
    other_client: TestClient,
    make_campaign: MakeCampaign,
) -> None:
    view = make_campaign()
    mine = code_of(
        post_report(
            client,
            view,
            url="https://www.facebook.com/x",
            description="Deskripsi saya sendiri",
            contact="saya@example.com",
        )
    )
    theirs = code_of(
        post_report(
            other_client,
            view,
            url="https://m.facebook.com/x/?fbclid=RAHASIA",
            description="Deskripsi orang lain",
            contact="0812 9999 8888",
            image=screenshot(3),
            category="money_politics",
        )
    )
    page = client.get(f"/reports/{mine}").text
    for secret in ("Deskripsi orang lain", "RAHASIA", "9999", "8888", theirs, "Money politics"):
        assert secret not in page
    # Never a contact, not even one's own.
    assert "saya@example.com" not in page
    assert "/media/" not in page
    their_page = other_client.get(f"/reports/{theirs}").text
    assert "Deskripsi saya sendiri" not in their_page
    assert mine not in their_page
    assert "0812" not in their_page and "+62812" not in their_page
