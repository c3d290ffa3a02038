"""The campaign edit page: its signing dates read as sentences apart, in Jakarta time, and its
story is called unsaved only when it is."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts.models import Organization
from pledge.campaigns.models import Campaign
from tests.support.factories import MakeCampaign
from tests.support.pages import csrf_token, html

UNSAVED = "Preview of the story (not saved yet)"
SAVED = "The story as it reads on the page"


def edit_path(org: Organization, slug: str) -> str:
    return f"/dashboard/{org.slug}/campaigns/{slug}/edit"


def english(client: TestClient) -> TestClient:
    client.cookies.set("lang", "en")
    return client


def preview_title(soup: BeautifulSoup) -> str:
    found = soup.select_one("#preview h2")
    assert found is not None
    return found.get_text(strip=True)


def test_the_signing_dates_are_sentences_apart_in_jakarta_time(
    manager: TestClient, lead: Organization, make_led: MakeCampaign
) -> None:
    view = make_led(
        status="live",
        starts_at=datetime(2026, 12, 6, 2, 34, tzinfo=UTC),
        ends_at=datetime(2099, 6, 1, 16, 59, tzinfo=UTC),
    )
    soup = html(english(manager).get(edit_path(lead, view.slug)))

    status = soup.select_one("section#status")
    assert status is not None
    # No sentence runs into the next one: "…09:34 WIB.Signing ends…" was the fault.
    for block in status.select("p, li"):
        assert re.search(r"\.\S", block.get_text()) is None, block.get_text()
    opens = soup.select_one("#signing-opens").get_text(strip=True)
    ends = soup.select_one("#signing-ends").get_text(strip=True)
    assert opens == "Signing opens 6 December 2026, 09:34 WIB."
    assert ends == "Signing ends 1 June 2099, 23:59 WIB."


def test_the_indonesian_page_writes_the_time_with_a_dot(
    manager: TestClient, lead: Organization, make_led: MakeCampaign
) -> None:
    view = make_led(status="draft", ends_at=datetime(2099, 6, 1, 16, 59, tzinfo=UTC))
    soup = html(manager.get(edit_path(lead, view.slug)))

    assert "1 Juni 2099, 23.59 WIB" in soup.select_one("#signing-ends").get_text()
    assert soup.select_one("#signing-opens") is None


def test_a_saved_story_is_not_called_unsaved(
    manager: TestClient, lead: Organization, make_led: MakeCampaign
) -> None:
    view = make_led(status="draft", body="Cerita **kami**.")
    soup = html(english(manager).get(edit_path(lead, view.slug)))

    assert preview_title(soup) == SAVED
    assert soup.select_one("#preview strong").get_text() == "kami"
    assert UNSAVED not in soup.get_text()


def test_a_previewed_or_refused_story_is_called_unsaved(
    manager: TestClient, lead: Organization, make_led: MakeCampaign, session: Session
) -> None:
    view = make_led(status="draft", body="Cerita **kami**.")
    path = edit_path(lead, view.slug)
    client = english(manager)
    fields = {
        "title": view.campaign.title,
        "slug": view.slug,
        "summary": "Ringkasan.",
        "goal": "1000",
        "locale": "id",
        "confirming": "email_whatsapp",
    }

    previewed = client.post(
        path,
        data={
            **fields,
            "body": "Cerita **baru**.",
            "action": "preview",
            "csrf_token": csrf_token(client, path),
        },
    )
    assert previewed.status_code == 200
    assert preview_title(html(previewed)) == UNSAVED
    assert html(previewed).select_one("#preview strong").get_text() == "baru"

    refused = client.post(
        path,
        data={
            **fields,
            "body": "Cerita **lain**.",
            "goal": "nol",
            "action": "save",
            "csrf_token": csrf_token(client, path),
        },
    )
    assert refused.status_code == 422
    assert preview_title(html(refused)) == UNSAVED
    session.rollback()
    session.expire_all()
    assert session.get(Campaign, view.id).body == "Cerita **kami**."


def test_a_campaign_without_a_story_shows_no_empty_preview(
    manager: TestClient, lead: Organization, make_led: MakeCampaign
) -> None:
    view = make_led(status="draft", body="")
    soup = html(english(manager).get(edit_path(lead, view.slug)))

    assert soup.select_one("#preview") is None
