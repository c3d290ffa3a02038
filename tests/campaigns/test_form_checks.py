"""The campaign editor's forms as objects: read from the post, checked with the shared field
checks, every field's message at once and in the same words as before."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from starlette.datastructures import FormData

from pledge.accounts.models import Organization
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignView, Pledge
from pledge.forms import Checks
from tests.support.factories import MakeCampaign
from tests.support.pages import csrf_token, errors_of, html


@pytest.fixture
def client_lang() -> str:
    return "en"


def test_the_campaign_form_reads_every_field_and_cuts_the_story_past_twice_its_limit() -> None:
    posted = FormData(
        [
            ("title", "Pemilu Damai"),
            ("slug", "pemilu-damai"),
            ("summary", "Ringkas."),
            ("body", "x" * 50_000),
            ("goal", "10.000"),
            ("starts_at", "2099-01-31T08:00"),
            ("ends_at", "2099-02-14"),
            ("locale", "en"),
            ("csrf_token", "t"),
        ]
    )
    form = campaigns.CampaignForm.read(posted)
    assert form.title == "Pemilu Damai"
    assert form.goal == "10.000"
    assert form.locale == "en"
    assert len(form.body) == campaigns.BODY_FIELD_MAX


def test_a_campaign_form_gives_every_message_at_once() -> None:
    form = campaigns.CampaignForm(
        title="  ",
        slug="Bukan Alamat!",
        summary="x" * 501,
        body="x" * 20_001,
        goal="banyak",
        starts_at="kemarin",
        ends_at="2099-02-14",
        locale="fr",
    )
    checks = Checks()
    form.clean(checks)
    assert checks.errors == {
        "title": "Enter a title.",
        "slug": "Use lower-case letters (a-z), digits and single dashes only, "
        "for example pemilu-damai-2029.",
        "summary": "Use at most 500 characters for the summary.",
        "body": "The story is 20,001 characters long; use at most 20,000.",
        "goal": "Enter the goal as a whole number, for example 10000.",
        "starts_at": "Enter the start as a date and time, for example 2029-01-31 08:00.",
        "locale": "Choose the language the campaign is written in.",
    }


@pytest.mark.parametrize(
    ("goal", "cleaned", "message"),
    [
        ("25.000", 25_000, None),
        ("1 000 000", 1_000_000, None),
        ("", None, "Enter a goal: how many supporters you hope for."),
        ("0", None, "The goal must be between 1 and 100,000,000."),
        ("100000001", None, "The goal must be between 1 and 100,000,000."),
        ("١٠٠", None, "Enter the goal as a whole number, for example 10000."),
    ],
)
def test_the_goal(goal: str, cleaned: int | None, message: str | None) -> None:
    checks = Checks()
    clean = campaigns.CampaignForm(title="T", goal=goal).clean(checks)
    assert checks.errors.get("goal") == message
    if cleaned is not None:
        assert clean.goal == cleaned


def test_a_pledge_form_collapses_its_text_and_lowercases_its_address() -> None:
    checks = Checks()
    clean = campaigns.PledgeForm(text=" Saya  akan\nmemilih ", slug=" Saya-Memilih ").clean(checks)
    assert checks.errors == {}
    assert clean == campaigns.PledgeForm(text="Saya akan memilih", slug="saya-memilih")


def test_a_new_partner_organisation_gives_every_message_at_once() -> None:
    checks = Checks()
    campaigns.PartnerForm(kind="invite", name="x" * 161, email="budi@").clean(checks)
    assert checks.errors == {
        "name": "Use at most 160 characters for the name.",
        "email": "That email address does not look right. Check it and try again.",
    }


def post_pledge(client: TestClient, org: Organization, view: CampaignView, **data: str) -> Any:
    token = csrf_token(client, f"/dashboard/{org.slug}/campaigns/{view.slug}/edit")
    return client.post(
        f"/dashboard/{org.slug}/campaigns/{view.slug}/pledges",
        data={**data, "csrf_token": token},
    )


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"text": " ", "slug": "Bukan Alamat!"},
            {
                "text": "Enter the pledge's text.",
                "slug": "Use lower-case letters (a-z), digits and single dashes only.",
            },
        ),
        (
            {"text": "x" * 201, "slug": "tolak-politik-uang"},
            {
                "text": "Use at most 200 characters for a pledge.",
                "slug": "This campaign already has a pledge with this address.",
            },
        ),
    ],
)
def test_a_new_pledge_refused_for_its_text_and_its_address_says_both(
    manager: TestClient,
    lead: Organization,
    make_led: MakeCampaign,
    session: Session,
    data: dict[str, str],
    errors: dict[str, str],
) -> None:
    view = make_led(status="draft")
    before = len(view.pledges)

    response = post_pledge(manager, lead, view, **data)

    assert response.status_code == 422
    assert errors_of(response) == errors
    form = html(response).select_one("form#pledge-new")
    assert form is not None
    slug = form.select_one("input[name=slug]")
    assert slug is not None
    assert slug["value"] == data["slug"]
    session.commit()
    stored = session.exec(select(Pledge).where(Pledge.campaign_id == view.id)).all()
    assert len(stored) == before
