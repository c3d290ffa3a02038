"""Suggested matches on the case page, and the moderator's answers to them: joining a case
into a suggested one, setting a pair apart, and taking a report out into a case of its own.
Each with its success, its bad input and who may do it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from pledge.audit import AuditAction
from pledge.db import utcnow
from pledge.hoaxes.models import CaseMatch, CaseStatus, HoaxCase, MatchKind
from tests.support.db import actions, events, fresh, reload, reports_in
from tests.support.factories import MakeCase
from tests.support.moderation import Browser, World, case_url, post
from tests.support.pages import errors_of, html


def suggest(
    session: Session, newer: HoaxCase, older: HoaxCase, kind: MatchKind = MatchKind.TEXT
) -> CaseMatch:
    match = CaseMatch(
        campaign_id=newer.campaign_id,
        case_id=newer.id or 0,
        other_case_id=older.id or 0,
        kind=kind,
        score=0.72,
        why="text 0.72",
    )
    session.add(match)
    session.commit()
    return match


def hold(session: Session, case: HoaxCase, user: Any) -> None:
    case = reload(session, case)
    case.claimed_by_id = user.id
    case.claim_expires_at = utcnow() + timedelta(minutes=10)
    session.add(case)
    session.commit()


def problem(response: Any) -> str:
    found = html(response).select_one("#problem")
    return found.get_text(" ", strip=True) if found else ""


# --- the case page -------------------------------------------------------------------------


def test_both_cases_of_a_pair_show_the_other_with_why(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    older = make_case(world.a, reports=3)
    newer = make_case(world.a)
    match = suggest(session, newer, older)
    client = browser(world.mod_a)
    for case, other in ((newer, older), (older, newer)):
        page = html(client.get(case_url(case)))
        item = page.select_one(f"#match-{match.id}")
        assert item is not None, f"case {case.id} does not show the suggestion"
        text = item.get_text(" ", strip=True)
        assert f"Case #{other.id}" in text
        assert "Similar text" in text and "72% alike" in text and "text 0.72" in text
        assert item.select_one(f"a[href='/mod/cases/{other.id}']") is not None
        target = item.select_one("input[name=target_case_id]")
        assert target is not None and target["value"] == str(other.id)


def test_a_pair_set_apart_is_not_shown_and_a_merged_case_shows_its_survivor(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    first, second, third = make_case(world.a), make_case(world.a), make_case(world.a)
    apart = suggest(session, second, first)
    followed = suggest(session, third, first)
    apart.dismissed_at = utcnow()
    session.add(apart)
    first = reload(session, first)
    first.status, first.merged_into_id = CaseStatus.DUPLICATE, second.id
    session.add(first)
    session.commit()
    page = html(browser(world.mod_a).get(case_url(third)))
    assert page.select_one(f"#match-{apart.id}") is None
    item = page.select_one(f"#match-{followed.id}")
    assert item is not None
    # The suggested case was merged since: the page offers the case it lives on in.
    assert f"Case #{second.id}" in item.get_text(" ", strip=True)
    assert html(browser(world.mod_a).get(case_url(second))).select_one(f"#match-{apart.id}") is None


# --- joining --------------------------------------------------------------------------------


def test_joining_a_suggested_case_merges_in_one_action_with_its_reason(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    older = make_case(world.a, reports=2)
    newer = make_case(world.a)
    suggest(session, newer, older)
    response = post(
        browser(world.mod_a),
        case_url(newer, "join"),
        target_case_id=str(older.id),
        reason="Klaim yang sama, kata-katanya lain.",
    )
    assert response.status_code == 303
    assert response.headers["location"] == case_url(newer) + "?done=decided-duplicate"
    session = fresh(session)
    newer, older = reload(session, newer), reload(session, older)
    assert newer.status == CaseStatus.DUPLICATE and newer.merged_into_id == older.id
    assert older.report_count == 3 and len(reports_in(session, older.id or 0)) == 3
    merged = [e for e in events(session, older) if e.action == AuditAction.CASE_MERGE]
    assert merged and merged[-1].reason == "Klaim yang sama, kata-katanya lain."


def test_joining_needs_a_reason_and_a_case_of_the_same_campaign(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case, other = make_case(world.a), make_case(world.a)
    elsewhere = make_case(world.b)
    client = browser(world.mod_a)
    response = post(client, case_url(case, "join"), target_case_id=str(other.id), reason=" ")
    assert response.status_code == 422
    assert errors_of(response).get(f"join-{other.id}-reason")
    response = post(
        client, case_url(case, "join"), target_case_id=str(elsewhere.id), reason="Sama."
    )
    assert response.status_code == 409
    assert "another case of the same campaign" in problem(response)
    response = post(client, case_url(case, "join"), target_case_id=str(case.id), reason="Sama.")
    assert response.status_code == 409 and "cannot be merged into itself" in problem(response)
    assert reload(fresh(session), case).status == CaseStatus.NEW


def test_joining_waits_for_another_moderators_claim_and_a_decided_case_stays(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case, other = make_case(world.a), make_case(world.a)
    hold(session, other, world.mod_a2)
    client = browser(world.mod_a)
    response = post(client, case_url(case, "join"), target_case_id=str(other.id), reason="Sama.")
    assert response.status_code == 409
    assert f"Another moderator holds case #{other.id}" in problem(response)
    published = make_case(world.a, status="published")
    response = post(
        client, case_url(published, "join"), target_case_id=str(case.id), reason="Sama."
    )
    assert response.status_code == 409 and "is decided" in problem(response)
    session = fresh(session)
    assert reload(session, case).status == CaseStatus.NEW
    assert reload(session, published).status == CaseStatus.PUBLISHED


def test_a_moderator_of_another_campaign_cannot_join_its_cases(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case, other = make_case(world.a), make_case(world.a)
    response = post(
        browser(world.mod_b), case_url(case, "join"), target_case_id=str(other.id), reason="x"
    )
    assert response.status_code == 404
    assert reload(fresh(session), case).status == CaseStatus.NEW


# --- setting apart -------------------------------------------------------------------------


def test_setting_a_pair_apart_hides_it_on_both_cases_and_is_in_both_histories(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    older, newer = make_case(world.a), make_case(world.a)
    match = suggest(session, newer, older, MatchKind.PICTURE)
    client = browser(world.mod_a)
    path = case_url(older, f"matches/{match.id}/set-apart")
    response = post(client, path, reason="Gambar sama, teks beda: dua hoaks.")
    assert response.status_code == 303
    assert response.headers["location"].endswith("?done=set-apart")
    session = fresh(session)
    stored = session.get(CaseMatch, match.id)
    assert stored is not None and stored.dismissed_at is not None
    assert stored.dismissed_by_id == world.mod_a.id
    for case in (older, newer):
        assert AuditAction.CASE_SET_APART in actions(session, case)
        assert html(client.get(case_url(case))).select_one(f"#match-{match.id}") is None
    page = html(client.get(case_url(newer)))
    assert f"Set apart from case #{older.id}" in page.select_one("#history").get_text(" ")


def test_setting_apart_needs_a_reason_and_a_suggestion_of_that_case(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    older, newer, third = make_case(world.a), make_case(world.a), make_case(world.a)
    match = suggest(session, newer, older)
    client = browser(world.mod_a)
    response = post(client, case_url(older, f"matches/{match.id}/set-apart"), reason="")
    assert response.status_code == 422
    assert errors_of(response).get(f"apart-{match.id}-reason")
    response = post(client, case_url(third, f"matches/{match.id}/set-apart"), reason="Beda.")
    assert response.status_code == 404
    response = post(
        browser(world.mod_b), case_url(older, f"matches/{match.id}/set-apart"), reason="Beda."
    )
    assert response.status_code == 404
    stored = fresh(session).get(CaseMatch, match.id)
    assert stored is not None and stored.dismissed_at is None


# --- splitting ------------------------------------------------------------------------------


def test_a_report_taken_out_gets_a_case_of_its_own_back_in_the_queue(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = make_case(world.a, status="published", reports=3)
    wrong = reports_in(session, case.id or 0)[-1]
    client = browser(world.mod_a)
    response = post(
        client, case_url(case, "split"), report_id=str(wrong.id), reason="Foto lain, bukan ini."
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("?done=split")
    session = fresh(session)
    case = reload(session, case)
    assert case.report_count == 2 and case.status == CaseStatus.PUBLISHED
    new = session.exec(select(HoaxCase).where(HoaxCase.id != case.id)).one()
    assert new.status == CaseStatus.NEW and new.report_count == 1
    assert [r.id for r in reports_in(session, new.id or 0)] == [wrong.id]
    assert AuditAction.CASE_SPLIT in actions(session, case)
    assert AuditAction.CASE_SPLIT in actions(session, new)
    # The two are never suggested to each other again.
    pair = session.exec(select(CaseMatch).where(CaseMatch.case_id == new.id)).one()
    assert pair.other_case_id == case.id and pair.dismissed_at is not None
    history = html(client.get(case_url(case))).select_one("#history").get_text(" ")
    assert f"Report #{wrong.id} taken out into case #{new.id}" in history


def test_splitting_refuses_the_only_report_another_cases_report_and_no_reason(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    single, pair = make_case(world.a), make_case(world.a, reports=2)
    only = reports_in(session, single.id or 0)[0]
    client = browser(world.mod_a)
    response = post(client, case_url(single, "split"), report_id=str(only.id), reason="Beda.")
    assert response.status_code == 409 and "only report" in problem(response)
    response = post(client, case_url(pair, "split"), report_id=str(only.id), reason="Beda.")
    assert response.status_code == 404
    response = post(client, case_url(pair, "split"), report_id="abc", reason="Beda.")
    assert response.status_code == 422
    mine = reports_in(session, pair.id or 0)[0]
    response = post(client, case_url(pair, "split"), report_id=str(mine.id), reason="")
    assert response.status_code == 422
    assert errors_of(response).get(f"split-{mine.id}-reason")
    response = post(
        browser(world.mod_b), case_url(pair, "split"), report_id=str(mine.id), reason="Beda."
    )
    assert response.status_code == 404
    session = fresh(session)
    assert len(session.exec(select(HoaxCase)).all()) == 2
    assert reload(session, pair).report_count == 2


def test_only_cases_with_several_reports_offer_the_split(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    single, pair = make_case(world.a), make_case(world.a, reports=2)
    client = browser(world.mod_a)
    assert not html(client.get(case_url(single))).select("form[action$='/split']")
    forms = html(client.get(case_url(pair))).select("form[action$='/split']")
    assert len(forms) == 2
