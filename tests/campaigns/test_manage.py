"""Campaign management on the partner dashboard: creating and editing a campaign, its
pledges, its status and its co-partners; the public page after each change; who may do it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from pledge.accounts.models import Organization, Role, TokenKind, User, UserToken
from pledge.audit import AuditEvent
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import (
    Campaign,
    CampaignPartner,
    CampaignStatus,
    CampaignView,
    PartnerStatus,
    Pledge,
)
from pledge.db import utcnow
from pledge.mail import OutboxMessage
from tests.support.factories import MakeCampaign, MakeUser
from tests.support.pages import csrf_token, errors_of, html
from tests.support.people import Person, sign_in

Sign = Callable[..., Any]
MakeLed = MakeCampaign  # the make_led fixture: a campaign the lead organisation leads

NEW_CAMPAIGN = {
    "title": "Pemilu Damai 2029",
    "slug": "pemilu-damai-2029",
    "summary": "Anak muda menolak politik uang.",
    "body": "## Kenapa\n\nKarena suara kita **tidak dijual**.",
    "goal": "25000",
    "starts_at": "2099-01-31T08:00",
    "ends_at": "2099-02-14T20:30",
    "locale": "en",
}


# --- helpers -----------------------------------------------------------------------------


def new_path(org: Organization) -> str:
    return f"/dashboard/{org.slug}/campaigns/new"


def edit_path(org: Organization, slug: str) -> str:
    return f"/dashboard/{org.slug}/campaigns/{slug}/edit"


def base_path(org: Organization, slug: str) -> str:
    return f"/dashboard/{org.slug}/campaigns/{slug}"


def one(soup: BeautifulSoup | Tag, selector: str) -> Tag:
    found = soup.select_one(selector)
    assert found is not None, f"nothing matches {selector!r}"
    return found


def post(client: TestClient, path: str, data: dict[str, Any], *, token_from: str) -> Any:
    """Post a form as a browser does after opening the page that holds it."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)})


def create(client: TestClient, org: Organization, **fields: Any) -> Any:
    data = {**NEW_CAMPAIGN, **fields}
    return post(
        client,
        f"/dashboard/{org.slug}/campaigns",
        {k: v for k, v in data.items() if v is not None},
        token_from=new_path(org),
    )


def edit_form_values(soup: BeautifulSoup) -> dict[str, str]:
    """The campaign form's values, as the page shows them."""
    form = one(soup, "#campaign form")
    values: dict[str, str] = {}
    for field in form.select("input[name], textarea[name], select[name]"):
        name = str(field["name"])
        if name == "csrf_token":
            continue
        if field.name == "textarea":
            values[name] = field.get_text()
        elif field.name == "select":
            chosen = field.select_one("option[selected]")
            values[name] = str(chosen["value"]) if chosen else ""
        else:
            values[name] = str(field.get("value", ""))
    return values


def update(client: TestClient, org: Organization, campaign_slug: str, **changes: Any) -> Any:
    """Post the edit form with what the page shows, changed as asked."""
    path = edit_path(org, campaign_slug)
    page = client.get(path)
    assert page.status_code == 200, page.text[:500]
    data = {**edit_form_values(html(page)), **changes}
    return post(client, path, data, token_from=path)


def fresh(session: Session) -> None:
    """End the test's read transaction and forget loaded rows: see what the app stored."""
    session.commit()
    session.expire_all()


def load(session: Session, slug: str) -> Campaign:
    fresh(session)
    campaign = session.exec(select(Campaign).where(Campaign.slug == slug)).first()
    assert campaign is not None
    return campaign


def pledge_slugs(session: Session, campaign_id: int) -> list[str]:
    fresh(session)
    return [
        p.slug
        for p in session.exec(
            select(Pledge)
            .where(Pledge.campaign_id == campaign_id)
            .order_by(col(Pledge.position), col(Pledge.id))
        )
    ]


def count(session: Session, model: Any) -> int:
    fresh(session)
    return len(session.exec(select(model)).all())


def status_events(session: Session, campaign_id: int) -> list[dict[str, Any]]:
    fresh(session)
    events = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.action == "campaign.status", AuditEvent.subject == f"campaign:{campaign_id}"
        )
        .order_by(col(AuditEvent.id))
    )
    return [{"actor": e.actor_id, **json.loads(e.data)} for e in events]


def assert_redirects_to_edit(response: Any, org: Organization, slug: str) -> None:
    assert response.status_code == 303, response.text[:800]
    assert urlsplit(response.headers["location"]).path == edit_path(org, slug)


def labelled(soup: BeautifulSoup | Tag) -> None:
    """Every visible field has a <label for> pointing at it."""
    labels = {str(label.get("for")) for label in soup.select("label[for]")}
    for field in soup.select("input, textarea, select"):
        if field.get("type") == "hidden":
            continue
        assert field.get("id") in labels, f"no label for {field}"


# --- GET /dashboard/{org}/campaigns/new, POST /dashboard/{org}/campaigns ---------------------


def test_the_new_page_has_a_labelled_form_with_a_sensible_default(
    manager: TestClient, lead: Organization
) -> None:
    response = manager.get(new_path(lead))
    assert response.status_code == 200
    soup = html(response)
    form = one(soup, f"form[action='/dashboard/{lead.slug}/campaigns']")
    labelled(form)
    names = {str(f["name"]) for f in form.select("[name]")}
    assert {"title", "slug", "summary", "body", "goal", "starts_at", "ends_at", "locale"} <= names
    assert one(form, "input[name=goal]")["value"] == "1000"
    assert one(form, "input[name=starts_at]")["type"] == "datetime-local"
    assert soup.select_one("input[name=csrf_token]") is not None


def test_creating_makes_a_draft_led_by_the_organisation(
    manager: TestClient, lead: Organization, session: Session, admin: User
) -> None:
    response = create(manager, lead)
    assert_redirects_to_edit(response, lead, "pemilu-damai-2029")

    campaign = load(session, "pemilu-damai-2029")
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.lead_org_id == lead.id
    assert campaign.title == "Pemilu Damai 2029"
    assert campaign.summary == "Anak muda menolak politik uang."
    assert campaign.body.startswith("## Kenapa")
    assert campaign.goal == 25000
    assert campaign.locale == "en"
    # Typed in Jakarta time (UTC+7), stored in UTC.
    assert campaign.starts_at == datetime(2099, 1, 31, 1, 0, tzinfo=UTC)
    assert campaign.ends_at == datetime(2099, 2, 14, 13, 30, tzinfo=UTC)
    # The lead organisation is the first partner, with its own referral code.
    partners = session.exec(
        select(CampaignPartner).where(CampaignPartner.campaign_id == campaign.id)
    ).all()
    assert [p.org_id for p in partners] == [lead.id]
    assert partners[0].referral_code

    page = html(manager.get(response.headers["location"]))
    assert one(page, "h1").get_text(strip=True) == "Pemilu Damai 2029"
    assert one(page, "[role=status]").get_text(strip=True)
    # Shown back in Jakarta time, as typed.
    assert edit_form_values(page)["starts_at"] == "2099-01-31T08:00"
    assert edit_form_values(page)["ends_at"] == "2099-02-14T20:30"


def test_the_new_draft_is_not_public(
    manager: TestClient, lead: Organization, anonymous: TestClient
) -> None:
    assert_redirects_to_edit(create(manager, lead), lead, "pemilu-damai-2029")
    assert anonymous.get("/c/pemilu-damai-2029").status_code == 404


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Pemilu Damai & Jujur 2029!", "pemilu-damai-jujur-2029"),
        ("Suara Kaum Muda — Bébas Hoaks", "suara-kaum-muda-bebas-hoaks"),
        ("  Tolak   POLITIK uang  ", "tolak-politik-uang"),
        ("Kata " * 30, ("kata-" * 13).rstrip("-")),  # cut at a whole word, at most 64
    ],
)
def test_an_empty_address_is_made_from_the_title(
    manager: TestClient, lead: Organization, session: Session, title: str, expected: str
) -> None:
    response = create(manager, lead, title=title[:160], slug="")
    assert_redirects_to_edit(response, lead, expected)
    assert load(session, expected).title == title[:160].strip()


def test_a_made_up_address_that_is_taken_gets_a_number(
    manager: TestClient, lead: Organization, session: Session
) -> None:
    assert_redirects_to_edit(create(manager, lead, slug=""), lead, "pemilu-damai-2029")
    assert_redirects_to_edit(create(manager, lead, slug=""), lead, "pemilu-damai-2029-2")
    assert_redirects_to_edit(create(manager, lead, slug=""), lead, "pemilu-damai-2029-3")


def test_dates_alone_mean_the_start_and_the_end_of_the_day_in_jakarta(
    manager: TestClient, lead: Organization, session: Session
) -> None:
    create(manager, lead, starts_at="2099-03-01", ends_at="2099-03-31")
    campaign = load(session, "pemilu-damai-2029")
    assert campaign.starts_at == datetime(2099, 2, 28, 17, 0, tzinfo=UTC)  # 00:00 WIB
    assert campaign.ends_at == datetime(2099, 3, 31, 16, 59, tzinfo=UTC)  # 23:59 WIB


def test_dates_may_be_left_empty(manager: TestClient, lead: Organization, session: Session) -> None:
    create(manager, lead, starts_at="", ends_at="")
    campaign = load(session, "pemilu-damai-2029")
    assert campaign.starts_at is None
    assert campaign.ends_at is None


@pytest.mark.parametrize(("typed", "goal"), [("10.000", 10_000), ("1,500,000", 1_500_000)])
def test_a_goal_may_be_written_with_thousands_separators(
    manager: TestClient, lead: Organization, session: Session, typed: str, goal: int
) -> None:
    create(manager, lead, goal=typed)
    assert load(session, "pemilu-damai-2029").goal == goal


BAD_CAMPAIGN_INPUT = [
    ("title", {"title": ""}, "Enter a title"),
    ("title", {"title": "   "}, "Enter a title"),
    ("title", {"title": "x" * 161}, "at most 160"),
    ("slug", {"slug": "Pemilu Damai"}, "lower-case"),
    ("slug", {"slug": "pemilu--damai"}, "lower-case"),
    ("slug", {"slug": "-pemilu"}, "lower-case"),
    ("slug", {"slug": "pemilu_damai"}, "lower-case"),
    ("slug", {"slug": "a" * 65}, "at most 64"),
    ("slug", {"slug": "", "title": "💚💚💚"}, "no letters"),
    ("summary", {"summary": "s" * 501}, "at most 500"),
    ("body", {"body": "b" * 20_001}, "20,000"),
    ("goal", {"goal": ""}, "Enter a goal"),
    ("goal", {"goal": "banyak"}, "whole number"),
    ("goal", {"goal": "1.5"}, "whole number"),
    ("goal", {"goal": "-5"}, "whole number"),
    ("goal", {"goal": "0"}, "between"),
    ("goal", {"goal": "100000001"}, "between"),
    ("starts_at", {"starts_at": "besok pagi"}, "date and time"),
    ("ends_at", {"ends_at": "2099-13-01T10:00"}, "date and time"),
    ("starts_at", {"starts_at": "0001-01-01T00:00"}, "date and time"),
    ("ends_at", {"ends_at": "2099-01-31T07:59"}, "after the start"),
    ("ends_at", {"ends_at": "2099-01-31T08:00"}, "after the start"),
    ("ends_at", {"starts_at": "", "ends_at": "2020-01-01T10:00"}, "in the future"),
    ("locale", {"locale": "fr"}, "language"),
]


@pytest.mark.parametrize(("field", "changes", "message"), BAD_CAMPAIGN_INPUT)
def test_creating_with_bad_input_shows_the_message_and_stores_nothing(
    client: TestClient,
    admin: User,
    lead: Organization,
    session: Session,
    field: str,
    changes: dict[str, str],
    message: str,
) -> None:
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    response = create(client, lead, **changes)
    assert response.status_code == 422
    errors = errors_of(response)
    assert field in errors, errors
    assert message in errors[field]
    soup = html(response)
    assert one(soup, "[role=alert]")
    # What was typed is kept.
    kept = {**NEW_CAMPAIGN, **changes}
    form = one(soup, f"form[action='/dashboard/{lead.slug}/campaigns']")
    assert one(form, "textarea[name=body]").get_text() == kept["body"]
    assert one(form, "input[name=title]")["value"] == kept["title"]
    if field not in ("starts_at", "ends_at"):
        assert one(form, "input[name=slug]")["value"] == kept["slug"]
    # The field points at its message.
    assert f"{field}-error" in str(one(form, f"[name={field}]").get("aria-describedby", ""))
    assert count(session, Campaign) == 0


def test_an_address_used_by_another_campaign_is_refused(
    client: TestClient,
    admin: User,
    lead: Organization,
    session: Session,
    make_campaign: Callable[..., CampaignView],
) -> None:
    make_campaign(slug="pemilu-damai-2029")  # another organisation's
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    response = create(client, lead)
    assert response.status_code == 422
    assert "already uses this address" in errors_of(response)["slug"]
    assert count(session, Campaign) == 1


def test_preview_renders_the_story_and_saves_nothing(
    manager: TestClient, lead: Organization, session: Session
) -> None:
    response = create(manager, lead, action="preview", body="Suara kita **tidak dijual**.")
    assert response.status_code == 200
    soup = html(response)
    assert one(soup, "#preview strong").get_text() == "tidak dijual"
    assert one(soup, "textarea[name=body]").get_text() == "Suara kita **tidak dijual**."
    assert count(session, Campaign) == 0


def test_markdown_is_rendered_with_raw_html_off(manager: TestClient, lead: Organization) -> None:
    body = (
        "<script>alert(1)</script>\n\n"
        '<img src="x" onerror="alert(2)">\n\n'
        "[klik](javascript:alert(3))\n\n"
        "- **satu**\n- dua\n"
    )
    response = create(manager, lead, action="preview", body=body)
    preview = one(html(response), "#preview")
    assert preview.select("script, img, iframe, [onerror]") == []
    assert not [a for a in preview.select("a") if "javascript" in str(a.get("href", ""))]
    assert "<script>alert(1)</script>" in preview.get_text()  # shown as text
    assert [li.get_text() for li in preview.select("li")] == ["satu", "dua"]


# --- GET/POST /dashboard/{org}/campaigns/{slug}/edit ---------------------------------------


def test_the_edit_page_shows_what_is_stored_and_links_to_the_other_pages(
    manager: TestClient, lead: Organization, make_led: MakeLed
) -> None:
    view = make_led(
        status="draft",
        starts_at=datetime(2099, 5, 1, 2, 0, tzinfo=UTC),
        ends_at=datetime(2099, 6, 1, 16, 59, tzinfo=UTC),
    )
    response = manager.get(edit_path(lead, view.slug))
    assert response.status_code == 200
    soup = html(response)
    labelled(soup)
    values = edit_form_values(soup)
    assert values["title"] == view.campaign.title
    assert values["slug"] == view.slug
    assert values["body"] == "Cerita **kami**."
    assert values["goal"] == "1000"
    assert values["starts_at"] == "2099-05-01T09:00"
    assert values["ends_at"] == "2099-06-01T23:59"
    assert values["locale"] == "id"
    assert one(soup, "#preview strong").get_text() == "kami"
    assert one(soup, "#public-link")["href"] == f"/c/{view.slug}"
    assert one(soup, "#statistics-link")["href"] == f"{base_path(lead, view.slug)}/statistics"
    assert one(soup, "#export-link")["href"] == f"{base_path(lead, view.slug)}/export.csv"


def test_saving_changes_the_campaign(
    manager: TestClient, lead: Organization, make_led: MakeLed, session: Session
) -> None:
    view = make_led(status="draft")
    response = update(
        manager,
        lead,
        view.slug,
        title="Judul Baru",
        summary="Ringkasan baru.",
        body="Isi *baru*.",
        goal="5000",
        starts_at="2099-04-01T10:15",
        ends_at="2099-04-30T22:00",
        locale="en",
    )
    assert_redirects_to_edit(response, lead, view.slug)
    campaign = load(session, view.slug)
    assert (campaign.title, campaign.summary, campaign.body, campaign.goal, campaign.locale) == (
        "Judul Baru",
        "Ringkasan baru.",
        "Isi *baru*.",
        5000,
        "en",
    )
    assert campaign.starts_at == datetime(2099, 4, 1, 3, 15, tzinfo=UTC)
    assert campaign.ends_at == datetime(2099, 4, 30, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "changes", "message"),
    [
        ("title", {"title": ""}, "Enter a title"),
        ("slug", {"slug": ""}, "Enter an address"),
        ("slug", {"slug": "Bukan Alamat"}, "lower-case"),
        ("summary", {"summary": "s" * 501}, "at most 500"),
        ("body", {"body": "b" * 20_001}, "20,000"),
        ("goal", {"goal": "0"}, "between"),
        ("ends_at", {"starts_at": "2099-05-02T10:00", "ends_at": "2099-05-01T10:00"}, "after"),
        ("ends_at", {"ends_at": "2021-05-01T10:00"}, "in the future"),
        ("locale", {"locale": "jv"}, "language"),
    ],
)
def test_saving_bad_input_shows_the_message_and_changes_nothing(
    client: TestClient,
    admin: User,
    lead: Organization,
    make_led: MakeLed,
    session: Session,
    field: str,
    changes: dict[str, str],
    message: str,
) -> None:
    view = make_led(status="draft")
    title, updated_at = view.campaign.title, view.campaign.updated_at
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    response = update(client, lead, view.slug, **{"title": "Judul Baru", **changes})
    assert response.status_code == 422
    errors = errors_of(response)
    assert message in errors[field], errors
    values = edit_form_values(html(response))
    assert values["title"] == changes.get("title", "Judul Baru")  # kept as typed
    campaign = load(session, view.slug)
    assert campaign.title == title
    assert campaign.updated_at == updated_at


def test_a_draft_can_move_to_another_address(
    manager: TestClient, lead: Organization, make_led: MakeLed, session: Session
) -> None:
    view = make_led(status="draft")
    old_slug = view.slug
    response = update(manager, lead, old_slug, slug="alamat-baru")
    assert_redirects_to_edit(response, lead, "alamat-baru")
    assert load(session, "alamat-baru").id == view.id
    assert manager.get(edit_path(lead, old_slug)).status_code == 404


def test_the_address_of_another_campaign_is_refused_on_edit(
    client: TestClient,
    admin: User,
    lead: Organization,
    make_led: MakeLed,
    session: Session,
) -> None:
    first, second = make_led(status="draft"), make_led(status="draft")
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    response = update(client, lead, second.slug, slug=first.slug)
    assert response.status_code == 422
    assert "already uses this address" in errors_of(response)["slug"]
    assert load(session, second.slug).id == second.id


@pytest.mark.parametrize("status", ["live", "closed"])
def test_the_address_is_fixed_once_public_and_the_page_says_why(
    client: TestClient,
    admin: User,
    lead: Organization,
    make_led: MakeLed,
    session: Session,
    status: str,
) -> None:
    view = make_led(status=status)
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    soup = html(client.get(edit_path(lead, view.slug)))
    field = one(soup, "#campaign input[name=slug]")
    assert field.has_attr("readonly")
    assert "cannot change" in one(soup, "#slug-hint").get_text()

    response = update(client, lead, view.slug, slug="alamat-lain")
    assert response.status_code == 422
    assert "links people already shared" in errors_of(response)["slug"]
    assert load(session, view.slug).id == view.id


def test_saving_a_live_campaign_unchanged_keeps_its_times_to_the_second(
    manager: TestClient, lead: Organization, make_led: MakeLed, session: Session
) -> None:
    view = make_led(status="live", ends_at=utcnow() + timedelta(days=9, seconds=17))
    before = load(session, view.slug)
    starts_at, ends_at = before.starts_at, before.ends_at
    assert starts_at is not None and starts_at.microsecond + starts_at.second > 0
    response = update(manager, lead, view.slug, title="Judul Baru")
    assert_redirects_to_edit(response, lead, view.slug)
    campaign = load(session, view.slug)
    assert campaign.title == "Judul Baru"
    assert (campaign.starts_at, campaign.ends_at) == (starts_at, ends_at)


def test_a_closed_campaign_can_be_edited_with_its_past_end(
    manager: TestClient, lead: Organization, make_led: MakeLed, session: Session
) -> None:
    view = make_led(status="closed")
    response = update(manager, lead, view.slug, summary="Hasilnya luar biasa.")
    assert_redirects_to_edit(response, lead, view.slug)
    assert load(session, view.slug).summary == "Hasilnya luar biasa."


def test_preview_on_the_edit_page_saves_nothing(
    manager: TestClient, lead: Organization, make_led: MakeLed, session: Session
) -> None:
    view = make_led(status="draft")
    response = update(manager, lead, view.slug, body="# Judul *miring*", action="preview")
    assert response.status_code == 200
    soup = html(response)
    assert one(soup, "#preview h1 em").get_text() == "miring"
    assert edit_form_values(soup)["body"] == "# Judul *miring*"
    assert load(session, view.slug).body == "Cerita **kami**."


# --- pledges -----------------------------------------------------------------------------


def pledges_path(org: Organization, view: CampaignView, suffix: str = "") -> str:
    return f"{base_path(org, view.slug)}/pledges{suffix}"


def test_adding_a_pledge_makes_its_address_from_the_text_and_puts_it_last(
    manager: TestClient, lead: Organization, make_led: MakeLed, session: Session
) -> None:
    view = make_led(status="draft")
    path = edit_path(lead, view.slug)
    response = post(
        manager, pledges_path(lead, view), {"text": "Saya  akan melapor hoaks!"}, token_from=path
    )
    assert_redirects_to_edit(response, lead, view.slug)
    assert pledge_slugs(session, view.id)[-1] == "saya-akan-melapor-hoaks"
    added = session.exec(select(Pledge).where(Pledge.slug == "saya-akan-melapor-hoaks")).one()
    assert added.text == "Saya akan melapor hoaks!"

    post(manager, pledges_path(lead, view), {"text": "Saya akan melapor hoaks"}, token_from=path)
    post(
        manager,
        pledges_path(lead, view),
        {"text": "Ajak teman", "slug": "ajak-teman"},
        token_from=path,
    )
    assert pledge_slugs(session, view.id)[-3:] == [
        "saya-akan-melapor-hoaks",
        "saya-akan-melapor-hoaks-2",
        "ajak-teman",
    ]
    items = html(manager.get(path)).select("ol.manage-pledges > li input[name=text]")
    assert [i["value"] for i in items][-1] == "Ajak teman"


def test_a_pledge_can_be_added_to_a_live_campaign_and_shows_publicly(
    manager: TestClient, lead: Organization, make_led: MakeLed, anonymous: TestClient
) -> None:
    view = make_led(status="live")
    post(
        manager,
        pledges_path(lead, view),
        {"text": "Saya memilih dengan hati", "slug": "memilih"},
        token_from=edit_path(lead, view.slug),
    )
    public = html(anonymous.get(f"/c/{view.slug}"))
    assert "memilih" in [str(i["value"]) for i in public.select("input[name=pledges]")]


@pytest.mark.parametrize(
    ("field", "data", "message"),
    [
        ("text", {"text": ""}, "Enter the pledge"),
        ("text", {"text": "x" * 201}, "at most 200"),
        ("slug", {"text": "Janji", "slug": "Bukan Slug"}, "lower-case"),
        ("slug", {"text": "Janji", "slug": "lawan-hoaks"}, "already has a pledge"),
        ("slug", {"text": "Janji", "slug": "x" * 65}, "at most 64"),
        ("slug", {"text": "💚 ✊"}, "no letters"),
    ],
)
def test_adding_a_bad_pledge_shows_the_message_and_stores_nothing(
    client: TestClient,
    admin: User,
    lead: Organization,
    make_led: MakeLed,
    session: Session,
    field: str,
    data: dict[str, str],
    message: str,
) -> None:
    view = make_led(status="draft")
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    response = post(client, pledges_path(lead, view), data, token_from=edit_path(lead, view.slug))
    assert response.status_code == 422
    assert message in errors_of(response)[field]
    form = one(html(response), "form#pledge-new")
    assert one(form, "input[name=text]")["value"] == data["text"]
    assert f"{field}-error" in str(one(form, f"input[name={field}]")["aria-describedby"])
    assert len(pledge_slugs(session, view.id)) == 3


def test_a_campaign_has_at_most_twenty_pledges(
    client: TestClient, admin: User, lead: Organization, make_led: MakeLed, session: Session
) -> None:
    view = make_led(status="draft", pledges=tuple(f"janji-{n}" for n in range(20)))
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    response = post(
        client,
        pledges_path(lead, view),
        {"text": "Satu lagi"},
        token_from=edit_path(lead, view.slug),
    )
    assert response.status_code == 422
    assert "at most 20" in errors_of(response)["text"]
    assert len(pledge_slugs(session, view.id)) == 20


def test_editing_a_pledge_text(
    manager: TestClient, lead: Organization, make_led: MakeLed, session: Session
) -> None:
    view = make_led(status="draft")
    pledge = view.pledges[1]
    response = post(
        manager,
        pledges_path(lead, view, f"/{pledge.id}"),
        {"text": "Saya akan memilih"},
        token_from=edit_path(lead, view.slug),
    )
    assert_redirects_to_edit(response, lead, view.slug)
    fresh(session)
    stored = session.get(Pledge, pledge.id)
    assert stored is not None
    assert (stored.text, stored.slug) == ("Saya akan memilih", "gunakan-hak-pilih")


@pytest.mark.parametrize(
    ("text", "message"), [("", "Enter the pledge"), ("y" * 201, "at most 200")]
)
def test_editing_a_pledge_with_bad_text_changes_nothing(
    client: TestClient,
    admin: User,
    lead: Organization,
    make_led: MakeLed,
    session: Session,
    text: str,
    message: str,
) -> None:
    view = make_led(status="draft")
    pledge = view.pledges[0]
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    response = post(
        client,
        pledges_path(lead, view, f"/{pledge.id}"),
        {"text": text},
        token_from=edit_path(lead, view.slug),
    )
    assert response.status_code == 422
    item = one(html(response), f"#pledge-{pledge.id}")
    assert message in one(item, "p.error").get_text()
    assert one(item, "input[name=text]")["value"] == text
    fresh(session)
    stored = session.get(Pledge, pledge.id)
    assert stored is not None and stored.text == "Janji tolak-politik-uang"


def test_editing_a_live_pledge_is_allowed_with_a_warning_about_its_signers(
    client: TestClient,
    admin: User,
    lead: Organization,
    make_led: MakeLed,
    session: Session,
    sign: Sign,
) -> None:
    view = make_led(status="live")
    sign(view, pledges=("tolak-politik-uang",), contact="a@example.com")
    sign(view, pledges=("tolak-politik-uang",), contact="b@example.com")
    pledge = view.pledges[0]
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    soup = html(client.get(edit_path(lead, view.slug)))
    warning = one(soup, f"#pledge-{pledge.id}-warning").get_text()
    assert "2 people signed this text" in warning
    assert "do not change its meaning" in warning
    assert one(soup, f"#pledge-{view.pledges[1].id}-warning").get_text().startswith("0 people")

    response = post(
        client,
        pledges_path(lead, view, f"/{pledge.id}"),
        {"text": "Saya menolak politik uang."},
        token_from=edit_path(lead, view.slug),
    )
    assert_redirects_to_edit(response, lead, view.slug)
    fresh(session)
    stored = session.get(Pledge, pledge.id)
    assert stored is not None and stored.text == "Saya menolak politik uang."


def test_a_draft_has_no_signers_warning(
    manager: TestClient, lead: Organization, make_led: MakeLed
) -> None:
    view = make_led(status="draft")
    soup = html(manager.get(edit_path(lead, view.slug)))
    assert soup.select("[id$=-warning]") == []


def move(
    client: TestClient, org: Organization, view: CampaignView, pledge: Pledge, direction: str
) -> Any:
    return post(
        client,
        pledges_path(org, view, f"/{pledge.id}/move"),
        {"direction": direction},
        token_from=edit_path(org, view.slug),
    )


def test_pledges_move_up_and_down_without_javascript(
    manager: TestClient,
    lead: Organization,
    make_led: MakeLed,
    session: Session,
    anonymous: TestClient,
) -> None:
    view = make_led(status="live")
    first, second, third = view.pledges
    assert_redirects_to_edit(move(manager, lead, view, third, "up"), lead, view.slug)
    assert pledge_slugs(session, view.id) == [
        "tolak-politik-uang",
        "lawan-hoaks",
        "gunakan-hak-pilih",
    ]
    move(manager, lead, view, first, "down")
    assert pledge_slugs(session, view.id) == [
        "lawan-hoaks",
        "tolak-politik-uang",
        "gunakan-hak-pilih",
    ]
    # At the ends, nothing moves further.
    move(manager, lead, view, third, "up")
    move(manager, lead, view, second, "down")
    assert pledge_slugs(session, view.id) == [
        "lawan-hoaks",
        "tolak-politik-uang",
        "gunakan-hak-pilih",
    ]

    soup = html(manager.get(edit_path(lead, view.slug)))
    items = soup.select("ol.manage-pledges > li")
    assert one(items[0], "button[value=up]").has_attr("disabled")
    assert one(items[-1], "button[value=down]").has_attr("disabled")
    assert not one(items[1], "button[value=up]").has_attr("disabled")

    public = html(anonymous.get(f"/c/{view.slug}"))
    assert [str(i["value"]) for i in public.select("input[name=pledges]")] == [
        "lawan-hoaks",
        "tolak-politik-uang",
        "gunakan-hak-pilih",
    ]


def test_moving_in_an_unknown_direction_is_refused(
    manager: TestClient, lead: Organization, make_led: MakeLed, session: Session
) -> None:
    view = make_led(status="draft")
    response = move(manager, lead, view, view.pledges[1], "sideways")
    assert response.status_code == 422
    assert one(html(response), f"#pledge-{view.pledges[1].id} p.error").get_text()
    assert pledge_slugs(session, view.id) == [
        "tolak-politik-uang",
        "gunakan-hak-pilih",
        "lawan-hoaks",
    ]


def test_a_draft_pledge_can_be_deleted_and_the_rest_keep_their_order(
    manager: TestClient, lead: Organization, make_led: MakeLed, session: Session
) -> None:
    view = make_led(status="draft")
    response = post(
        manager,
        pledges_path(lead, view, f"/{view.pledges[0].id}/delete"),
        {},
        token_from=edit_path(lead, view.slug),
    )
    assert_redirects_to_edit(response, lead, view.slug)
    assert pledge_slugs(session, view.id) == ["gunakan-hak-pilih", "lawan-hoaks"]
    positions = [
        p.position for p in session.exec(select(Pledge).where(Pledge.campaign_id == view.id))
    ]
    assert sorted(positions) == [0, 1]


@pytest.mark.parametrize("status", ["live", "closed"])
def test_a_pledge_of_a_public_campaign_cannot_be_deleted(
    client: TestClient,
    admin: User,
    lead: Organization,
    make_led: MakeLed,
    session: Session,
    sign: Sign,
    status: str,
) -> None:
    view = make_led(status="live")
    sign(view, pledges=("lawan-hoaks",))
    if status == "closed":
        campaigns.set_status(
            session, campaign=load(session, view.slug), status=CampaignStatus.CLOSED
        )
        session.commit()
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    page = html(client.get(edit_path(lead, view.slug)))
    assert page.select("form.pledge-delete") == []

    for pledge in (view.pledges[2], view.pledges[0]):  # signed, and not signed
        response = post(
            client,
            pledges_path(lead, view, f"/{pledge.id}/delete"),
            {},
            token_from=edit_path(lead, view.slug),
        )
        assert response.status_code == 422
        message = one(html(response), f"#pledge-{pledge.id} p.error").get_text()
        assert "cannot be removed" in message
    assert len(pledge_slugs(session, view.id)) == 3


def test_a_pledge_of_another_campaign_is_not_found(
    manager: TestClient, lead: Organization, make_led: MakeLed, session: Session
) -> None:
    mine, other = make_led(status="draft"), make_led(status="draft")
    token_from = edit_path(lead, mine.slug)
    foreign = other.pledges[0].id
    for suffix, data in [
        (f"/{foreign}", {"text": "Dibajak"}),
        (f"/{foreign}/move", {"direction": "down"}),
        (f"/{foreign}/delete", {}),
    ]:
        response = post(manager, pledges_path(lead, mine, suffix), data, token_from=token_from)
        assert response.status_code == 404
    assert pledge_slugs(session, other.id) == [
        "tolak-politik-uang",
        "gunakan-hak-pilih",
        "lawan-hoaks",
    ]


# --- status ------------------------------------------------------------------------------


def set_status(client: TestClient, org: Organization, view: CampaignView, status: str) -> Any:
    return post(
        client,
        f"{base_path(org, view.slug)}/status",
        {"status": status},
        token_from=edit_path(org, view.slug),
    )


def test_the_page_states_the_rules_and_offers_only_the_allowed_moves(
    client: TestClient, admin: User, lead: Organization, make_led: MakeLed
) -> None:
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    offered = {}
    for status in ("draft", "live", "closed"):
        view = make_led(status=status)
        soup = html(client.get(edit_path(lead, view.slug)))
        assert "A draft is not public" in one(soup, "#status").get_text()
        offered[status] = [str(i["value"]) for i in soup.select("#status input[name=status]")]
    assert offered == {"draft": ["live"], "live": ["closed"], "closed": ["live"]}


def test_the_page_warns_when_a_live_campaign_cannot_be_signed_because_of_its_dates(
    manager: TestClient, lead: Organization, make_led: MakeLed
) -> None:
    waiting = make_led(status="live", starts_at=utcnow() + timedelta(days=2))
    open_now = make_led(status="live")
    assert html(manager.get(edit_path(lead, waiting.slug))).select_one("#not-signable")
    assert html(manager.get(edit_path(lead, open_now.slug))).select_one("#not-signable") is None


def test_going_live_publishes_the_page_and_is_audited(
    manager: TestClient,
    lead: Organization,
    make_led: MakeLed,
    session: Session,
    anonymous: TestClient,
    admin: User,
) -> None:
    view = make_led(status="draft")
    assert anonymous.get(f"/c/{view.slug}").status_code == 404
    response = set_status(manager, lead, view, "live")
    assert_redirects_to_edit(response, lead, view.slug)
    campaign = load(session, view.slug)
    assert campaign.status == CampaignStatus.LIVE
    assert campaign.starts_at is not None
    assert status_events(session, view.id) == [
        {"actor": admin.id, "from": "draft", "to": "live", "slug": view.slug}
    ]
    public = html(anonymous.get(f"/c/{view.slug}"))
    assert one(public, "h1").get_text() == view.campaign.title
    assert public.select_one("form[action$='/sign']") is not None


def test_a_draft_without_pledges_cannot_go_live(
    client: TestClient, admin: User, lead: Organization, make_led: MakeLed, session: Session
) -> None:
    view = make_led(status="draft", pledges=())
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    response = set_status(client, lead, view, "live")
    assert response.status_code == 422
    assert "at least one pledge" in errors_of(response)["status"]
    assert load(session, view.slug).status == CampaignStatus.DRAFT
    assert status_events(session, view.id) == []


def test_an_unapproved_organisation_cannot_put_a_campaign_live(
    client: TestClient, admin: User, lead: Organization, make_led: MakeLed, session: Session
) -> None:
    view = make_led(status="draft")
    lead.verified = False
    session.add(lead)
    session.commit()
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    assert (
        "not approved"
        in one(html(client.get(edit_path(lead, view.slug))), "#unapproved").get_text()
    )

    response = set_status(client, lead, view, "live")
    assert response.status_code == 422
    assert "approved by the site's administrators" in errors_of(response)["status"]
    assert load(session, view.slug).status == CampaignStatus.DRAFT
    assert status_events(session, view.id) == []


def test_a_draft_cannot_be_closed(
    client: TestClient, admin: User, lead: Organization, make_led: MakeLed, session: Session
) -> None:
    view = make_led(status="draft")
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    response = set_status(client, lead, view, "closed")
    assert response.status_code == 422
    assert "A draft cannot be closed" in errors_of(response)["status"]
    assert load(session, view.slug).status == CampaignStatus.DRAFT


@pytest.mark.parametrize(
    ("status", "message"), [("draft", "back to being a draft"), ("archived", "Choose a status")]
)
def test_a_live_campaign_cannot_go_back_to_draft_or_to_a_made_up_status(
    client: TestClient,
    admin: User,
    lead: Organization,
    make_led: MakeLed,
    session: Session,
    status: str,
    message: str,
) -> None:
    view = make_led(status="live")
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    response = set_status(client, lead, view, status)
    assert response.status_code == 422
    assert message in errors_of(response)["status"]
    assert load(session, view.slug).status == CampaignStatus.LIVE


def test_closing_shows_the_result_without_a_form_and_reopening_brings_it_back(
    manager: TestClient,
    lead: Organization,
    make_led: MakeLed,
    session: Session,
    anonymous: TestClient,
    sign: Sign,
    admin: User,
) -> None:
    view = make_led(status="live")
    sign(view)
    assert_redirects_to_edit(set_status(manager, lead, view, "closed"), lead, view.slug)
    assert load(session, view.slug).status == CampaignStatus.CLOSED

    public = anonymous.get(f"/c/{view.slug}")
    assert public.status_code == 200
    soup = html(public)
    assert soup.select_one("form[action$='/sign']") is None
    assert one(soup, "section.closed")
    assert one(soup, ".counter .count").get_text() == "1"

    assert_redirects_to_edit(set_status(manager, lead, view, "live"), lead, view.slug)
    assert load(session, view.slug).status == CampaignStatus.LIVE
    assert html(anonymous.get(f"/c/{view.slug}")).select_one("form[action$='/sign']")
    assert [(e["from"], e["to"], e["actor"]) for e in status_events(session, view.id)][-2:] == [
        ("live", "closed", admin.id),
        ("closed", "live", admin.id),
    ]


def test_the_public_page_reflects_edits(
    manager: TestClient, lead: Organization, make_led: MakeLed, anonymous: TestClient
) -> None:
    view = make_led(status="live")
    response = update(
        manager, lead, view.slug, title="Judul Terbaru", body="Bacalah **ini**.", goal="777"
    )
    assert_redirects_to_edit(response, lead, view.slug)
    soup = html(anonymous.get(f"/c/{view.slug}"))
    assert one(soup, "h1").get_text() == "Judul Terbaru"
    assert one(soup, ".story strong").get_text() == "ini"
    assert "777" in one(soup, ".goal").get_text()


# --- partners ----------------------------------------------------------------------------


def partners_path(org: Organization, view: CampaignView, suffix: str = "") -> str:
    return f"{base_path(org, view.slug)}/partners{suffix}"


def test_every_partner_has_its_referral_link_ready_to_copy(
    manager: TestClient, lead: Organization, make_led: MakeLed
) -> None:
    view = make_led(status="live", partners=2)
    soup = html(manager.get(edit_path(lead, view.slug)))
    for partner in view.partners:
        item = one(soup, f"#partner-{partner.id}")
        link = one(item, "input.referral-link")
        assert link.has_attr("readonly")
        assert link["value"] == f"http://testserver/c/{view.slug}?ref={partner.referral_code}"
        assert one(soup, f"label[for={link['id']}]")
    assert len({p.referral_code for p in view.partners}) == 3


def test_an_existing_organisation_is_invited_and_gets_its_own_link_once_it_accepts(
    manager: TestClient,
    lead: Organization,
    make_led: MakeLed,
    make_org: Callable[..., Organization],
    make_user: MakeUser,
    session: Session,
    anonymous: TestClient,
) -> None:
    view = make_led(status="live", partners=0)
    ally = make_org(slug="pemuda-peduli", name="Pemuda Peduli")
    ally.verified = False  # an unapproved organisation can still be a co-partner
    session.add(ally)
    session.commit()
    ally_admin = make_user("admin@pemuda.example.org", org=ally, role="admin")
    response = post(
        manager,
        partners_path(lead, view),
        {"kind": "existing", "org_slug": " Pemuda-Peduli "},
        token_from=edit_path(lead, view.slug),
    )
    assert_redirects_to_edit(response, lead, view.slug)
    partner = session.exec(
        select(CampaignPartner).where(
            CampaignPartner.campaign_id == view.id, CampaignPartner.org_id == ally.id
        )
    ).one()
    assert partner.status is PartnerStatus.INVITED
    # Invited, not yet a partner: no link on the lead's page, nothing on the public page.
    soup = html(manager.get(edit_path(lead, view.slug)))
    assert one(soup, f"#partner-{partner.id} .partner-status")["data-status"] == "invited"
    assert soup.select_one(f"#partner-{partner.id} input.referral-link") is None
    invited = html(anonymous.get(f"/c/{view.slug}?ref={partner.referral_code}"))
    assert invited.select_one(".ref") is None
    # Its admin is told by email.
    told = session.exec(select(OutboxMessage).where(OutboxMessage.to == ally_admin.email)).all()
    assert len(told) == 1

    campaigns.answer_invitation(
        session, org=ally, partner_id=partner.id or 0, accept=True, actor=ally_admin
    )
    campaigns.forget_views()
    soup = html(manager.get(edit_path(lead, view.slug)))
    link = str(one(soup, f"#partner-{partner.id} input.referral-link")["value"])
    assert link.endswith(f"?ref={partner.referral_code}")

    # The link credits the partner on the public page.
    public = html(anonymous.get(urlsplit(link).path + "?" + urlsplit(link).query))
    assert "Pemuda Peduli" in one(public, ".ref").get_text()
    assert one(public, "input[name=ref]")["value"] == partner.referral_code


@pytest.mark.parametrize(
    ("org_slug", "message"),
    [
        ("", "Enter the organisation"),
        ("tidak-ada", "No organisation"),
        ("lembaga-pemilu", "already a partner"),
    ],
)
def test_adding_an_unknown_or_present_organisation_is_refused(
    client: TestClient,
    admin: User,
    lead: Organization,
    make_led: MakeLed,
    session: Session,
    org_slug: str,
    message: str,
) -> None:
    view = make_led(status="draft", partners=0)
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    response = post(
        client,
        partners_path(lead, view),
        {"kind": "existing", "org_slug": org_slug},
        token_from=edit_path(lead, view.slug),
    )
    assert response.status_code == 422
    assert message in errors_of(response)["org_slug"]
    assert one(html(response), "form#partner-existing input[name=org_slug]")["value"] == org_slug
    assert count(session, CampaignPartner) == 1


def test_inviting_a_new_organisation_creates_it_adds_it_and_invites_its_admin(
    manager: TestClient,
    lead: Organization,
    make_led: MakeLed,
    session: Session,
    admin: User,
) -> None:
    view = make_led(status="live", partners=0)
    response = post(
        manager,
        partners_path(lead, view),
        {
            "kind": "invite",
            "name": "Komunitas Cek Fakta Bandung",
            "email": "Ketua@CekFakta.example.org",
        },
        token_from=edit_path(lead, view.slug),
    )
    assert_redirects_to_edit(response, lead, view.slug)
    fresh(session)
    org = session.exec(
        select(Organization).where(Organization.slug == "komunitas-cek-fakta-bandung")
    ).one()
    assert org.name == "Komunitas Cek Fakta Bandung"
    assert org.verified is False
    partner = session.exec(
        select(CampaignPartner).where(
            CampaignPartner.campaign_id == view.id, CampaignPartner.org_id == org.id
        )
    ).one()
    assert partner.referral_code
    # A partner once its first admin accepts on its dashboard: invited until then.
    assert partner.status is PartnerStatus.INVITED
    invitation = session.exec(
        select(UserToken).where(UserToken.org_id == org.id, UserToken.kind == TokenKind.INVITE)
    ).one()
    assert invitation.email == "ketua@cekfakta.example.org"
    assert invitation.role == Role.ADMIN
    assert invitation.created_by_id == admin.id
    mails = session.exec(
        select(OutboxMessage).where(OutboxMessage.to == "ketua@cekfakta.example.org")
    ).all()
    assert len(mails) == 1
    page = html(manager.get(response.headers["location"]))
    assert one(page, f"#partner-{partner.id} .partner-status")["data-status"] == "invited"
    assert page.select_one(f"#partner-{partner.id} input.referral-link") is None


def test_an_invited_organisation_whose_name_makes_a_taken_address_gets_a_number(
    manager: TestClient,
    lead: Organization,
    make_led: MakeLed,
    make_org: Callable[..., Organization],
    session: Session,
) -> None:
    make_org(slug="relawan-muda", name="Relawan Muda Jakarta")
    view = make_led(status="draft", partners=0)
    response = post(
        manager,
        partners_path(lead, view),
        {"kind": "invite", "name": "Relawan: Muda!", "email": "relawan@example.org"},
        token_from=edit_path(lead, view.slug),
    )
    assert_redirects_to_edit(response, lead, view.slug)
    fresh(session)
    assert session.exec(select(Organization).where(Organization.slug == "relawan-muda-2")).one()


@pytest.mark.parametrize(
    ("field", "data", "message"),
    [
        ("name", {"name": "", "email": "a@example.org"}, "Enter the organisation's name"),
        ("name", {"name": "n" * 161, "email": "a@example.org"}, "at most 160"),
        (
            "name",
            {"name": "lembaga pemilu BERSIH", "email": "a@example.org"},
            "already on the site",
        ),
        ("email", {"name": "Organisasi Baru", "email": "bukan-email"}, ""),
        ("email", {"name": "Organisasi Baru", "email": ""}, ""),
    ],
)
def test_a_bad_invitation_is_refused_and_creates_nothing(
    client: TestClient,
    admin: User,
    lead: Organization,
    make_led: MakeLed,
    session: Session,
    field: str,
    data: dict[str, str],
    message: str,
) -> None:
    view = make_led(status="draft", partners=0)
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    orgs_before = count(session, Organization)
    response = post(
        client,
        partners_path(lead, view),
        {"kind": "invite", **data},
        token_from=edit_path(lead, view.slug),
    )
    assert response.status_code == 422
    errors = errors_of(response)
    assert errors.get(field), errors
    assert message in errors[field]
    form = one(html(response), "form#partner-invite")
    assert one(form, "input[name=name]")["value"] == data["name"]
    assert one(form, "input[name=email]")["value"] == data["email"]
    assert count(session, Organization) == orgs_before
    assert count(session, CampaignPartner) == 1
    assert count(session, UserToken) == 0


def test_a_partner_without_supporters_can_be_removed(
    manager: TestClient, lead: Organization, make_led: MakeLed, session: Session
) -> None:
    view = make_led(status="live", partners=1)
    partner = next(p for p in view.partners if not p.is_lead)
    response = post(
        manager,
        partners_path(lead, view, f"/{partner.id}/remove"),
        {},
        token_from=edit_path(lead, view.slug),
    )
    assert_redirects_to_edit(response, lead, view.slug)
    fresh(session)
    assert session.get(CampaignPartner, partner.id) is None


@pytest.mark.parametrize("reason", ["lead", "referrals", "updates"])
def test_the_lead_and_partners_with_supporters_stay(
    client: TestClient,
    admin: User,
    lead: Organization,
    make_led: MakeLed,
    session: Session,
    sign: Sign,
    reason: str,
) -> None:
    view = make_led(status="live", partners=1)
    co = next(p for p in view.partners if not p.is_lead)
    target = view.lead if reason == "lead" else co
    assert target is not None
    if reason == "referrals":
        sign(view, ref=co.referral_code)
    if reason == "updates":
        sign(view, updates_org=co.slug)
    client = sign_in(client, admin)
    client.cookies.set("lang", "en")
    page = html(client.get(edit_path(lead, view.slug)))
    assert one(page, f"#partner-{target.id}").select("form.partner-remove") == []

    response = post(
        client,
        partners_path(lead, view, f"/{target.id}/remove"),
        {},
        token_from=edit_path(lead, view.slug),
    )
    assert response.status_code == 422
    message = one(html(response), f"#partner-{target.id} p.error").get_text()
    assert ("lead organisation cannot be removed" in message) == (reason == "lead")
    assert ("stays a partner" in message) == (reason != "lead")
    fresh(session)
    assert session.get(CampaignPartner, target.id) is not None


def test_a_partner_of_another_campaign_is_not_found(
    manager: TestClient, lead: Organization, make_led: MakeLed, session: Session
) -> None:
    mine, other = make_led(status="draft"), make_led(status="draft")
    foreign = next(p for p in other.partners if not p.is_lead)
    response = post(
        manager,
        partners_path(lead, mine, f"/{foreign.id}/remove"),
        {},
        token_from=edit_path(lead, mine.slug),
    )
    assert response.status_code == 404
    fresh(session)
    assert session.get(CampaignPartner, foreign.id) is not None


# --- permissions -------------------------------------------------------------------------


@pytest.fixture
def world(
    session: Session, lead: Organization, make_led: MakeLed, make_org: Callable[..., Organization]
) -> dict[str, Any]:
    draft = make_led(status="draft", slug="draf-rahasia", partners=1)
    live = make_led(status="live", slug="kampanye-terbuka", partners=0)
    return {"draft": draft, "live": live, "other": make_org(slug="organisasi-lain")}


def route_cases(
    lead: Organization, draft: CampaignView
) -> list[tuple[str, str, dict[str, Any], int]]:
    """Every management route with a valid post, and what its admin gets."""
    base = base_path(lead, draft.slug)
    pledge = draft.pledges[0].id
    partner = next(p for p in draft.partners if not p.is_lead).id
    return [
        ("GET", new_path(lead), {}, 200),
        ("POST", f"/dashboard/{lead.slug}/campaigns", {**NEW_CAMPAIGN}, 303),
        ("GET", f"{base}/edit", {}, 200),
        ("POST", f"{base}/edit", {**NEW_CAMPAIGN, "slug": draft.slug}, 303),
        ("POST", f"{base}/pledges", {"text": "Janji baru"}, 303),
        ("POST", f"{base}/pledges/{pledge}", {"text": "Teks baru"}, 303),
        ("POST", f"{base}/pledges/{pledge}/move", {"direction": "down"}, 303),
        ("POST", f"{base}/pledges/{pledge}/delete", {}, 303),
        ("POST", f"{base}/status", {"status": "live"}, 303),
        ("POST", f"{base}/partners", {"kind": "existing", "org_slug": "organisasi-lain"}, 303),
        ("POST", f"{base}/partners/{partner}/remove", {}, 303),
    ]


ROUTE_NAMES = [
    "new",
    "create",
    "edit",
    "update",
    "pledge_add",
    "pledge_update",
    "pledge_move",
    "pledge_delete",
    "status",
    "partner_add",
    "partner_remove",
]


def request(client: TestClient, method: str, path: str, data: dict[str, Any], token: str) -> Any:
    if method == "GET":
        return client.get(path)
    return client.post(path, data={**data, "csrf_token": token})


@pytest.mark.parametrize("index", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
def test_only_the_lead_organisations_admins_may_manage(
    client: TestClient,
    make_user: MakeUser,
    moderator: Person,
    site_admin: Person,
    org_admin: Person,
    lead: Organization,
    world: dict[str, Any],
    session: Session,
    index: int,
) -> None:
    method, path, data, success = route_cases(lead, world["draft"])[index]
    public_page = f"/c/{world['live'].slug}"

    client.cookies.clear()
    response = request(client, method, path, data, csrf_token(client, public_page))
    assert response.status_code == 303
    assert urlsplit(response.headers["location"]).path == "/login"

    refused = {
        "moderator": moderator,
        "other organisation's admin": make_user(org=world["other"], role=Role.ADMIN),
        "site admin": site_admin,
    }
    for who, user in refused.items():
        sign_in(client, user)
        response = request(client, method, path, data, csrf_token(client, public_page))
        assert response.status_code == 403, who

    sign_in(client, org_admin)
    response = request(client, method, path, data, csrf_token(client, public_page))
    assert response.status_code == success, response.text[:800]


@pytest.mark.parametrize("index", range(2, len(ROUTE_NAMES)), ids=ROUTE_NAMES[2:])
def test_another_organisation_gets_not_found_for_a_campaign_it_does_not_lead(
    client: TestClient,
    make_user: MakeUser,
    lead: Organization,
    world: dict[str, Any],
    session: Session,
    index: int,
) -> None:
    """Under its own slug, another organisation's admin learns nothing about the campaign,
    even when it is a co-partner of it."""
    draft = world["draft"]
    title = draft.campaign.title
    co_slug = next(p.slug for p in draft.partners if not p.is_lead)
    co_partner = session.exec(select(Organization).where(Organization.slug == co_slug)).one()
    for org in (world["other"], co_partner):
        method, path, data, _ = route_cases(lead, draft)[index]
        path = path.replace(f"/dashboard/{lead.slug}/", f"/dashboard/{org.slug}/", 1)
        sign_in(client, make_user(org=org, role=Role.ADMIN))
        response = request(
            client, method, path, data, csrf_token(client, f"/c/{world['live'].slug}")
        )
        assert response.status_code == 404, (org.slug, response.text[:300])
    assert load(session, draft.slug).title == title
    assert len(pledge_slugs(session, draft.id)) == 3


def test_a_post_without_the_csrf_token_is_refused(
    manager: TestClient, lead: Organization, make_led: MakeLed, session: Session
) -> None:
    view = make_led(status="draft")
    response = manager.post(f"{base_path(lead, view.slug)}/status", data={"status": "live"})
    assert response.status_code == 403
    assert load(session, view.slug).status == CampaignStatus.DRAFT


def test_every_state_of_the_pages_has_unique_ids_and_valid_references(
    manager: TestClient, lead: Organization, make_led: MakeLed
) -> None:
    """Labels and error messages point at one element each, whichever form failed."""
    view = make_led(status="live")
    path = edit_path(lead, view.slug)
    base = base_path(lead, view.slug)
    responses = [
        manager.get(new_path(lead)),
        create(manager, lead, title=""),
        manager.get(path),
        post(manager, path, {"title": ""}, token_from=path),
        post(manager, f"{base}/pledges", {"text": ""}, token_from=path),
        post(manager, f"{base}/pledges/{view.pledges[0].id}", {"text": ""}, token_from=path),
        post(manager, f"{base}/status", {"status": "draft"}, token_from=path),
        post(manager, f"{base}/partners", {"kind": "existing"}, token_from=path),
        post(manager, f"{base}/partners", {"kind": "invite"}, token_from=path),
    ]
    for response in responses:
        soup = html(response)
        ids = [str(tag["id"]) for tag in soup.select("[id]")]
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
        for tag in soup.select("[aria-describedby]"):
            for ref in str(tag["aria-describedby"]).split():
                assert ref in ids, (response.url, ref)
        for label in soup.select("label[for]"):
            assert label["for"] in ids
    assert [r.status_code for r in responses] == [200, 422, 200, 422, 422, 422, 422, 422, 422]
