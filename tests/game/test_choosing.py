"""Moderators choose the verdicts that play: a published verdict with its picture goes in the
game and out again, for a reason kept in the case's history, by the moderators of its campaign
only; the case page's section says how its pictures did."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge import audit
from pledge.accounts.models import User
from pledge.audit import AuditAction
from pledge.game import service as game
from pledge.game.models import GameItem
from pledge.hoaxes.states import audit_subject
from tests.game.playing import attach_original, published_verdict
from tests.support.db import fresh
from tests.support.factories import make_case
from tests.support.moderation import World, case_url, post
from tests.support.pages import errors_of, html

Staff = Callable[[User | None], TestClient]
REASON = "Gambar ini sering menipu: bagus untuk latihan."


def choose(client: TestClient, case_id: int, **fields: str) -> object:
    return post(client, case_url(case_id, "game"), **fields)


def in_game(session: Session, case_id: int) -> bool:
    row = fresh(session).get(GameItem, case_id)
    return bool(row and row.in_game)


def test_a_moderator_puts_a_published_verdict_in_the_game_and_its_pictures_play(
    session: Session, world: World, staff: Staff
) -> None:
    case_id = published_verdict(session, world.a, 1)
    attach_original(session, case_id, 2)
    moderator = staff(world.mod_a2)  # of a co-partner: the campaign is theirs too

    response = choose(moderator, case_id, play="in", reason=REASON)

    assert response.status_code == 303
    assert response.headers["location"] == f"/mod/cases/{case_id}?game=in#game"
    assert in_game(session, case_id)
    items = game.list_items(fresh(session), campaign_id=world.a.id)
    assert [(i.case_id, i.kind.value) for i in items] == [(case_id, "fake"), (case_id, "real")]
    events = audit.list_events(fresh(session), subject=audit_subject(case_id))
    assert events[0].action == AuditAction.CASE_GAME
    assert events[0].actor_id == world.mod_a2.id and events[0].reason == REASON
    assert json.loads(events[0].data) == {"in_game": True}
    section = html(moderator.get(response.headers["location"])).select_one("#game")
    assert section is not None
    assert section.select_one("#game-done").get_text(strip=True) == (
        "The verdict plays in the game from now on."
    )
    assert section.select_one("#game-status")["data-in-game"] == "true"
    assert "Its original plays too, as a real photo." in section.get_text(" ", strip=True)


def test_taking_a_verdict_out_leaves_the_game_without_its_pictures(
    session: Session, world: World, staff: Staff
) -> None:
    case_id = published_verdict(session, world.a, 1)
    moderator = staff(world.mod_a)
    assert choose(moderator, case_id, play="in", reason=REASON).status_code == 303

    response = choose(moderator, case_id, play="out", reason="Sudah terlalu sering.")
    again = choose(moderator, case_id, play="out", reason="Dua kali.")

    assert (response.status_code, again.status_code) == (303, 303)
    assert not in_game(session, case_id)
    assert game.list_items(fresh(session), campaign_id=world.a.id) == []
    events = audit.list_events(fresh(session), action=AuditAction.CASE_GAME)
    # Choosing what is already so is no change: nothing more in the history.
    assert [json.loads(e.data) for e in events] == [{"in_game": False}, {"in_game": True}]


def test_a_choice_without_a_reason_is_refused_beside_the_reason(
    session: Session, world: World, staff: Staff
) -> None:
    case_id = published_verdict(session, world.a, 1)

    response = choose(staff(world.mod_a), case_id, play="in", reason="  ")

    assert response.status_code == 422
    assert errors_of(response) == {
        "game-reason": "Give a reason: it is kept in the case's history."
    }
    assert html(response).select_one("#form-game input[value=in]").has_attr("checked")
    assert not in_game(session, case_id)
    assert audit.list_events(fresh(session), action=AuditAction.CASE_GAME) == []


def test_a_choice_that_is_neither_in_nor_out_is_refused(
    session: Session, world: World, staff: Staff
) -> None:
    case_id = published_verdict(session, world.a, 1)

    response = choose(staff(world.mod_a), case_id, play="maybe", reason=REASON)
    nothing = choose(staff(world.mod_a), case_id, reason=REASON)

    for refused in (response, nothing):
        assert refused.status_code == 422
        assert errors_of(refused) == {"game-play": "Choose whether the verdict plays in the game."}
    assert not in_game(session, case_id)


def test_only_the_campaigns_moderators_may_choose(
    session: Session, world: World, staff: Staff
) -> None:
    case_id = published_verdict(session, world.a, 1)

    anonymous = choose(staff(None), case_id, play="in", reason=REASON)
    elsewhere = choose(staff(world.mod_b), case_id, play="in", reason=REASON)
    nobody = choose(staff(world.plain), case_id, play="in", reason=REASON)

    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert elsewhere.status_code == 404  # as if the case did not exist
    assert nobody.status_code == 403
    assert not in_game(session, case_id)


def test_a_case_not_published_or_without_a_picture_cannot_play(
    session: Session, world: World, staff: Staff
) -> None:
    waiting = make_case(session, world.a, status="awaiting_approval", media=True)
    no_picture = make_case(session, world.a, status="published")
    moderator = staff(world.mod_a)

    refused = choose(moderator, waiting.id, play="in", reason=REASON)
    bare = choose(moderator, no_picture.id, play="in", reason=REASON)

    assert refused.status_code == 409
    assert html(refused).select_one("#problem").get_text(strip=True) == (
        "Only a published verdict can play in the game."
    )
    assert bare.status_code == 409
    assert html(bare).select_one("#problem").get_text(strip=True) == (
        "This verdict has no picture to play with."
    )
    assert not in_game(session, waiting.id) and not in_game(session, no_picture.id)
    # Neither case page offers the game: only a published verdict with a picture shows it.
    assert html(moderator.get(case_url(waiting))).select_one("#game") is None
    assert html(moderator.get(case_url(no_picture))).select_one("#game") is None
