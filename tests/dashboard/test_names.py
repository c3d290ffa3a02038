"""Supporters' first names on a campaign page: a short list of insults and impersonations is
held until reviewed, and the moderators and admins of the leading organisation hide or show
any name. The signature always counts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge import audit
from pledge.accounts.models import Organization, Role
from pledge.supporters import service as supporters
from pledge.supporters.models import supporter_table
from pledge.supporters.service.names import folded, is_held
from tests.support.dashboard import World
from tests.support.factories import make_supporter
from tests.support.pages import html
from tests.support.people import Person, make_person, sign_in
from tests.support.settings import UseSettings

CSRF = "names-review-csrf-token-0123456789"
NewClient = Callable[..., TestClient]


# --- the list ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Anjing", "ANJIIING", "anj1ng", "Bangsat99", "Prabowo", "pr4b0w0", "KPU", "Admin", "Jokowi"],
)
def test_insults_and_impersonations_are_held_however_they_are_typed(name: str) -> None:
    assert is_held(name)


@pytest.mark.parametrize("name", ["Sari", "Budi", "Putri", "Mahfud", "Widodo", "Tnia", "Babilon"])
def test_ordinary_names_are_not_held(name: str) -> None:
    # A word of four letters or fewer holds only that word ("tni", "babi").
    assert not is_held(name)


def test_folding_takes_off_case_accents_digits_and_repeats() -> None:
    assert folded("Ánjììng!!") == "anjing"
    assert folded("B4ngs@t") == "bangsat"


def test_a_site_adds_words_of_its_own(use_settings: UseSettings) -> None:
    assert not is_held("Zonk")
    use_settings(held_names="zonk, Calon Palsu")
    assert is_held("Zonk")
    assert is_held("calonpalsu")


# --- the campaign page -------------------------------------------------------------------------


def sign(session: Session, world: World, name: str, n: int) -> int:
    signing = make_supporter(
        session, world.view, name=name, contact=f"nama{n}@example.com", show_name="on"
    )
    return signing.supporter.id


def shown_names(client: TestClient, world: World) -> list[str]:
    page = html(client.get(f"/c/{world.view.slug}"))
    return [item.get_text(" ", strip=True) for item in page.select(".recent li")]


def total(session: Session, world: World) -> int:
    session.rollback()
    return supporters.get_counts(session, campaign_id=world.view.id).total


def test_a_held_name_is_not_listed_but_its_signature_counts(
    client: TestClient, session: Session, world: World
) -> None:
    sign(session, world, "Sari Dewi", 1)
    sign(session, world, "Anjing Galak", 2)
    listed = shown_names(client, world)
    assert any(line.startswith("Sari") for line in listed)
    assert not any("Anjing" in line for line in listed)
    assert total(session, world) == 2


# --- the moderators' page ----------------------------------------------------------------------


def person(session: Session, org: Organization | None, role: Role, **extra: Any) -> Person:
    email = f"{role.value}-{org.slug if org else 'site'}@example.org"
    return make_person(session, email, "Orang", org=org, role=role, **extra)


def as_(new_client: NewClient, who: Person | None) -> TestClient:
    browser = new_client()
    sign_in(browser, who, csrf=CSRF)
    return browser


def names_page(world: World, org: Organization | None = None) -> str:
    return f"/dashboard/{(org or world.lead).slug}/campaigns/{world.view.slug}/names"


def review(browser: TestClient, world: World, supporter_id: int | str, decision: str) -> Any:
    return browser.post(
        names_page(world),
        data={"csrf_token": CSRF, "supporter": str(supporter_id), "decision": decision},
    )


@pytest.fixture
def lead_moderator(session: Session, world: World) -> Person:
    return person(session, world.lead, Role.MODERATOR)


def test_the_page_lists_held_names_first_with_their_status(
    new_client: NewClient, session: Session, world: World, lead_moderator: Person
) -> None:
    sign(session, world, "Sari Dewi", 1)
    sign(session, world, "Prabowo Asli", 2)
    sign(session, world, "Budi", 3)
    response = as_(new_client, lead_moderator).get(names_page(world))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    rows = html(response).select(".names li")
    firsts = [row.select_one(".first-name").get_text() for row in rows]
    assert firsts == ["Prabowo", "Budi", "Sari"]
    assert [row["data-status"] for row in rows] == ["held", "shown", "shown"]
    assert "Held for review" in rows[0].get_text()
    assert rows[0].select_one("button[value=shown]") is not None
    assert rows[1].select_one("button[value=hidden]") is not None
    # Only first names: never the rest of what was typed, nor any contact.
    assert "Asli" not in response.text and "nama2@example.com" not in response.text


def test_a_moderator_hides_a_name_and_the_signature_still_counts(
    new_client: NewClient,
    client: TestClient,
    session: Session,
    world: World,
    lead_moderator: Person,
) -> None:
    sari = sign(session, world, "Sari Dewi", 1)
    browser = as_(new_client, lead_moderator)
    answer = review(browser, world, sari, "hidden")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{names_page(world)}?done=hidden#name-{sari}"
    notice = html(browser.get(answer.headers["location"])).select_one("#done")
    assert notice is not None and "hidden" in notice.get_text()
    assert not any(line.startswith("Sari") for line in shown_names(client, world))
    assert total(session, world) == 1
    event = session.execute(
        sa.select(audit.AuditEvent).where(audit.AuditEvent.subject == f"supporter:{sari}")
    ).scalar_one()
    assert event.action == audit.AuditAction.SUPPORTER_NAME_HIDE
    assert event.actor_id == lead_moderator.id
    assert json.loads(event.data) == {"campaign": world.view.slug}
    assert "Sari" not in event.data + event.reason  # the log keeps no name


def test_a_moderator_shows_a_held_name(
    new_client: NewClient,
    client: TestClient,
    session: Session,
    world: World,
    lead_moderator: Person,
) -> None:
    gibran = sign(session, world, "Gibran", 1)
    assert not any(line.startswith("Gibran") for line in shown_names(client, world))
    assert review(as_(new_client, lead_moderator), world, gibran, "shown").status_code == 303
    assert any(line.startswith("Gibran") for line in shown_names(client, world))
    # And hidden again.
    assert review(as_(new_client, lead_moderator), world, gibran, "hidden").status_code == 303
    assert not any(line.startswith("Gibran") for line in shown_names(client, world))


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 303),
        ("lead_admin", 200),
        ("lead_moderator", 200),
        ("partner_admin", 403),  # a co-partner sees statistics, not the lead's review
        ("stranger_admin", 404),
        ("site_admin", 403),
    ],
)
def test_who_may_open_the_page(
    new_client: NewClient, session: Session, world: World, who: str, status: int
) -> None:
    people = {
        "anonymous": None,
        "lead_admin": lambda: person(session, world.lead, Role.ADMIN),
        "lead_moderator": lambda: person(session, world.lead, Role.MODERATOR),
        "partner_admin": lambda: person(session, world.partner, Role.ADMIN),
        "stranger_admin": lambda: person(session, world.stranger, Role.ADMIN),
        "site_admin": lambda: person(session, None, Role.ADMIN, site_admin=True),
    }
    make = people[who]
    browser = new_client() if make is None else as_(new_client, make())
    org = {"partner_admin": world.partner, "stranger_admin": world.stranger}.get(who)
    response = browser.get(names_page(world, org))
    assert response.status_code == status
    if status == 303:
        assert response.headers["location"].startswith("/login")


def test_a_co_partner_cannot_hide_a_name(
    new_client: NewClient, client: TestClient, session: Session, world: World
) -> None:
    sari = sign(session, world, "Sari Dewi", 1)
    browser = as_(new_client, person(session, world.partner, Role.MODERATOR))
    answer = browser.post(
        names_page(world, world.partner),
        data={"csrf_token": CSRF, "supporter": str(sari), "decision": "hidden"},
    )
    assert answer.status_code == 403
    assert any(line.startswith("Sari") for line in shown_names(client, world))


@pytest.mark.parametrize(
    ("supporter", "decision"), [("", "hidden"), ("abc", "hidden"), ("1", "delete"), ("1", "")]
)
def test_bad_input_is_answered_422_with_a_message(
    new_client: NewClient,
    session: Session,
    world: World,
    lead_moderator: Person,
    supporter: str,
    decision: str,
) -> None:
    sign(session, world, "Sari Dewi", 1)
    answer = review(as_(new_client, lead_moderator), world, supporter, decision)
    assert answer.status_code == 422
    alert = html(answer).select_one(".alert")
    assert alert is not None and "Choose a name" in alert.get_text()


def test_a_supporter_of_another_campaign_is_not_found(
    new_client: NewClient, session: Session, world: World, lead_moderator: Person
) -> None:
    other = make_supporter(
        session, world.elsewhere, name="Sari", contact="lain@example.com", show_name="on"
    )
    answer = review(as_(new_client, lead_moderator), world, other.supporter.id, "hidden")
    assert answer.status_code == 404
    session.rollback()
    review_of = session.execute(
        sa.select(supporter_table.c.name_review).where(supporter_table.c.id == other.supporter.id)
    ).scalar_one()
    assert review_of is None


def test_the_form_needs_its_csrf_token(
    new_client: NewClient, session: Session, world: World, lead_moderator: Person
) -> None:
    sari = sign(session, world, "Sari Dewi", 1)
    answer = as_(new_client, lead_moderator).post(
        names_page(world), data={"supporter": str(sari), "decision": "hidden"}
    )
    assert answer.status_code == 403


def test_the_organisation_page_links_to_the_names_for_its_moderators(
    new_client: NewClient, session: Session, world: World, lead_moderator: Person
) -> None:
    page = html(as_(new_client, lead_moderator).get(f"/dashboard/{world.lead.slug}"))
    link = page.select_one(f"#led-{world.view.slug} a.names")
    assert link is not None and link["href"] == names_page(world)
