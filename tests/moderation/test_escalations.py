"""Reports moderators made elsewhere (platforms, Bawaslu, Komdigi) and what came of them: the
case page's forms, their checks, who may use them, the queue's filter, and the verdict page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from pledge.audit import AuditAction
from pledge.db import utcnow
from pledge.hoaxes.models import (
    Escalation,
    EscalationOutcome,
    EscalationTarget,
    HoaxCase,
    HoaxMonth,
)
from pledge.moderation import service as moderation
from pledge.moderation.service import DecisionForm, local_day
from tests.support.db import events, fresh
from tests.support.factories import MakeCase
from tests.support.moderation import Browser, World, case_url, post
from tests.support.pages import english_day, errors_of, html


def today() -> date:
    return local_day(utcnow())


def escalate(browser: Any, case: HoaxCase, **fields: Any) -> Any:
    values = {"target": "tiktok", "reported_on": today().isoformat(), **fields}
    return post(browser, case_url(case, "escalations"), **values)


def stored(session: Session) -> list[Escalation]:
    return list(fresh(session).exec(select(Escalation).order_by(col(Escalation.id))))


def old_case(make_case: MakeCase, world: World, days: int = 10, **fields: Any) -> HoaxCase:
    return make_case(world.a, created_at=utcnow() - timedelta(days=days), **fields)


# --- recording a report made elsewhere -------------------------------------------------


def test_a_moderator_records_a_report_and_its_outcome(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = old_case(make_case, world)
    ayu = browser(world.mod_a)
    reported = today() - timedelta(days=3)
    response = escalate(
        ayu, case, target="bawaslu", reported_on=reported.isoformat(), reference="BWSL-2029-17"
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("?done=escalated")
    [esc] = stored(session)
    assert (esc.target, esc.reported_on, esc.reference) == (
        EscalationTarget.BAWASLU,
        reported,
        "BWSL-2029-17",
    )
    assert esc.outcome is None and esc.created_by_id == world.mod_a.id
    assert esc.campaign_id == world.a.id

    page = html(ayu.get(case_url(case)))
    item = page.select_one(f"#escalation-{esc.id}")
    assert item is not None
    assert "Bawaslu" in item.select_one(".recipient").get_text()
    assert "BWSL-2029-17" in item.get_text()
    assert "Waiting for an answer" in item.select_one(".outcome").get_text()

    # A second moderator of the campaign records the outcome later.
    budi = browser(world.mod_a2)
    outcome_on = today() - timedelta(days=1)
    response = post(
        budi,
        case_url(case, f"escalations/{esc.id}/outcome"),
        outcome="removed",
        outcome_on=outcome_on.isoformat(),
    )
    assert response.status_code == 303, response.text[:500]
    [esc] = stored(session)
    assert (esc.outcome, esc.outcome_on) == (EscalationOutcome.REMOVED, outcome_on)
    kept = [e for e in events(session, case) if e.action.startswith("case.escalat")]
    assert [e.action for e in kept] == [
        AuditAction.CASE_ESCALATE,
        AuditAction.CASE_ESCALATION_OUTCOME,
    ]
    assert [e.actor_id for e in kept] == [world.mod_a.id, world.mod_a2.id]
    history = html(budi.get(case_url(case))).select("tr.event .action")
    texts = [cell.get_text(strip=True) for cell in history]
    assert "Reported it to a platform or an authority" in texts
    assert "Recorded what came of a report elsewhere" in texts


def test_someone_else_is_recorded_by_name(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = old_case(make_case, world)
    response = escalate(browser(world.mod_a), case, target="other", target_name="  Polda Metro ")
    assert response.status_code == 303
    [esc] = stored(session)
    assert (esc.target, esc.target_name) == (EscalationTarget.OTHER, "Polda Metro")


def test_a_published_case_may_be_escalated_a_merged_one_may_not(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    published = old_case(make_case, world, status="published")
    assert escalate(browser(world.mod_a), published).status_code == 303
    target = old_case(make_case, world)
    merged = old_case(make_case, world, status="duplicate", merged_into_id=target.id)
    response = escalate(browser(world.mod_a), merged)
    assert response.status_code == 409
    assert "merged into another" in html(response).select_one("#problem").get_text()
    assert len(stored(session)) == 1


BAD_REPORTS = {
    "future date": ({"reported_on": "FUTURE"}, "escalate-reported_on", "in the future"),
    "before the case": ({"reported_on": "BEFORE"}, "escalate-reported_on", "first reported after"),
    "not a date": ({"reported_on": "31/12/2029"}, "escalate-reported_on", "YYYY-MM-DD"),
    "unknown target": ({"target": "friendster"}, "escalate-target", "from the list"),
    "no target": ({"target": ""}, "escalate-target", "from the list"),
    "other without a name": ({"target": "other"}, "escalate-target_name", "Name whom"),
    "too long reference": ({"reference": "x" * 201}, "escalate-reference", "200 characters"),
}


def test_bad_reports_are_refused_beside_their_field(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = old_case(make_case, world, days=2)
    ayu = browser(world.mod_a)
    dates = {
        "FUTURE": (today() + timedelta(days=1)).isoformat(),
        "BEFORE": (today() - timedelta(days=5)).isoformat(),
    }
    for name, (fields, key, message) in BAD_REPORTS.items():
        fields = {k: dates.get(v, v) for k, v in fields.items()}
        response = escalate(ayu, case, **{"reference": "REF-1", **fields})
        assert response.status_code == 422, name
        assert message in errors_of(response).get(key, ""), (name, errors_of(response))
        form = html(response).select_one("#form-escalate")
        assert form is not None and form.has_attr("open"), name
    assert stored(session) == []


def test_bad_outcomes_are_refused(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = old_case(make_case, world)
    ayu = browser(world.mod_a)
    reported = today() - timedelta(days=3)
    escalate(ayu, case, reported_on=reported.isoformat())
    [esc] = stored(session)
    url = case_url(case, f"escalations/{esc.id}/outcome")
    key = f"outcome-{esc.id}"
    cases = {
        "before the report": (
            {"outcome": "removed", "outcome_on": (reported - timedelta(days=1)).isoformat()},
            f"{key}-outcome_on",
            "before the day it was reported",
        ),
        "future": (
            {"outcome": "removed", "outcome_on": (today() + timedelta(days=2)).isoformat()},
            f"{key}-outcome_on",
            "in the future",
        ),
        "unknown outcome": (
            {"outcome": "deleted", "outcome_on": today().isoformat()},
            f"{key}-outcome",
            "from the list",
        ),
    }
    for name, (fields, field, message) in cases.items():
        response = post(ayu, url, **fields)
        assert response.status_code == 422, name
        assert message in errors_of(response).get(field, ""), (name, errors_of(response))
    [esc] = stored(session)
    assert esc.outcome is None and esc.outcome_on is None


# --- who may record ------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = old_case(make_case, world)
    anonymous = browser(None)
    response = anonymous.post(
        case_url(case, "escalations"), data={"target": "x", "reported_on": "2029-01-01"}
    )
    assert response.status_code in (303, 403)
    assert stored(session) == []


def test_a_moderator_of_another_organisation_gets_404(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = old_case(make_case, world)
    escalate(browser(world.mod_a), case)
    [esc] = stored(session)
    dewi = browser(world.mod_b)
    assert escalate(dewi, case).status_code == 404
    response = post(
        dewi,
        case_url(case, f"escalations/{esc.id}/outcome"),
        outcome="removed",
        outcome_on=today().isoformat(),
    )
    assert response.status_code == 404
    assert len(stored(session)) == 1 and stored(session)[0].outcome is None


def test_an_escalation_of_another_case_is_not_found(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    one, other = old_case(make_case, world), old_case(make_case, world)
    ayu = browser(world.mod_a)
    escalate(ayu, one)
    [esc] = stored(session)
    response = post(
        ayu,
        case_url(other, f"escalations/{esc.id}/outcome"),
        outcome="removed",
        outcome_on=today().isoformat(),
    )
    assert response.status_code == 404
    assert stored(session)[0].outcome is None


# --- the queue's filter --------------------------------------------------------------


def test_the_queue_shows_cases_with_open_escalations(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    waiting, answered, never = (old_case(make_case, world) for _ in range(3))
    ayu = browser(world.mod_a)
    escalate(ayu, waiting)
    escalate(ayu, answered)
    esc = stored(session)[1]
    post(
        ayu,
        case_url(answered, f"escalations/{esc.id}/outcome"),
        outcome="no_answer",
        outcome_on=today().isoformat(),
    )
    every = [int(li["data-case-id"]) for li in html(ayu.get("/mod")).select("li.case")]
    assert set(every) == {waiting.id, answered.id, never.id}
    response = ayu.get("/mod?escalation=open")
    shown = [int(li["data-case-id"]) for li in html(response).select("li.case")]
    assert shown == [waiting.id]
    selected = html(response).select_one("#escalation option[selected]")
    assert selected is not None and selected["value"] == "open"
    # Another organisation's moderator sees none of campaign A's cases.
    assert html(browser(world.mod_b).get("/mod?escalation=open")).select("li.case") == []
    refused = ayu.get("/mod?escalation=maybe")
    assert refused.status_code == 422
    assert "escalation" in errors_of(refused)


# --- the verdict page ----------------------------------------------------------------


def test_the_verdict_page_tells_what_happened_next_without_references(
    session: Session, world: World, make_case: MakeCase, browser: Browser, client: Any
) -> None:
    case = old_case(make_case, world, status="published")
    ayu = browser(world.mod_a)
    reported = today() - timedelta(days=4)
    escalate(ayu, case, target="meta", reported_on=reported.isoformat(), reference="SECRET-REF-9")
    escalate(ayu, case, target="other", target_name="Polda Metro", reference="LP/123")
    first = stored(session)[0]
    acted = today() - timedelta(days=2)
    post(
        ayu,
        case_url(case, f"escalations/{first.id}/outcome"),
        outcome="labelled",
        outcome_on=acted.isoformat(),
    )
    response = client.get(f"/hoaxes/{case.id}?lang=en")
    assert response.status_code == 200
    section = html(response).select_one("#what-next")
    assert section is not None
    assert section.select_one("h2").get_text(strip=True) == "What happened next"
    items = [li.get_text(" ", strip=True) for li in section.select("li.escalation")]
    assert items[0].startswith(
        f"Reported to Meta (Facebook, Instagram, WhatsApp) on {english_day(reported)}"
    )
    assert f"Labelled on {english_day(acted)}" in items[0]
    assert "Polda Metro" in items[1] and "No outcome yet" in items[1]
    text = response.text
    assert "SECRET-REF-9" not in text and "LP/123" not in text
    assert "Ayu" not in text
    # Placed before the count of reporters.
    hint = section.find_next("p", class_="hint")
    assert hint is not None


def test_a_verdict_without_escalations_has_no_section(
    world: World, make_case: MakeCase, client: Any
) -> None:
    case = old_case(make_case, world, status="published")
    page = html(client.get(f"/hoaxes/{case.id}?lang=en"))
    assert page.select_one("#what-next") is None


# --- the monthly counts moderation keeps -------------------------------------------------


def _month_counts(session: Session) -> dict[str, int]:
    return {m.metric: m.count for m in fresh(session).exec(select(HoaxMonth))}


def _hold(session: Session, case: HoaxCase, user: Any) -> None:
    case = fresh(session).get(HoaxCase, case.id)
    assert case is not None
    case.claimed_by_id = user.id
    case.claim_expires_at = utcnow() + timedelta(minutes=10)
    session.add(case)
    session.commit()


def test_a_published_verdict_and_a_merge_are_counted(
    session: Session, world: World, make_case: MakeCase, make_report: Any, access: Any
) -> None:
    first = make_report(world.a, url="https://example.com/hoaks/satu")
    second = make_report(world.a, url="https://example.com/hoaks/dua")
    assert _month_counts(session) == {"reports": 2, "cases": 2}
    # The second case is merged into the first: one thing reported, one case.
    _hold(session, HoaxCase(id=second.case_id), world.mod_a)
    moderation.decide(
        session,
        access=access(world.mod_a),
        case_id=second.case_id,
        form=DecisionForm(decision="duplicate", target_case_id=str(first.case_id), reason="Sama."),
    )
    assert _month_counts(session) == {"reports": 2, "cases": 1}
    # Proposed by one moderator, approved by another: one SALAH verdict this month.
    _hold(session, HoaxCase(id=first.case_id), world.mod_a)
    moderation.decide(
        session,
        access=access(world.mod_a),
        case_id=first.case_id,
        form=DecisionForm(
            decision="hoax", label="SALAH", public_title="TPS 12 dipindah ke balai desa",
            correction="TPS 12 tetap di SDN Mekarsari 2.",
            public_explanation="KPU memastikan lokasi TPS tetap.", reason="Dicek.",
        ),
    )  # fmt: skip
    _hold(session, HoaxCase(id=first.case_id), world.mod_a2)
    moderation.approve(session, access=access(world.mod_a2), case_id=first.case_id, reason="Ok.")
    # The verdict, by its label and by its whole hours to verdict (approved at once here).
    assert _month_counts(session) == {
        "reports": 2, "cases": 1, "verdict:SALAH": 1, "verdict_hours:0": 1,
    }  # fmt: skip


def test_the_monthly_counts_follow_an_escalation_and_its_replaced_outcome(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = old_case(make_case, world, days=20)
    ayu = browser(world.mod_a)
    reported = today() - timedelta(days=10)
    assert escalate(ayu, case, reported_on=reported.isoformat()).status_code == 303
    [esc] = stored(session)
    assert _escalation_counts(session) == {"escalations": 1}

    outcome = case_url(case, f"escalations/{esc.id}/outcome")
    removed = (reported + timedelta(days=3)).isoformat()
    assert post(ayu, outcome, outcome="removed", outcome_on=removed).status_code == 303
    assert _escalation_counts(session) == {
        "escalations": 1, "escalations_answered": 1, "escalations_acted": 1, "action_days:3": 1,
    }  # fmt: skip

    # A later outcome replaces the earlier one in the counts too: no action, no days.
    later = (reported + timedelta(days=5)).isoformat()
    assert post(ayu, outcome, outcome="no_action", outcome_on=later).status_code == 303
    assert _escalation_counts(session) == {"escalations": 1, "escalations_answered": 1}


def _escalation_counts(session: Session) -> dict[str, int]:
    """The monthly counts of reports made elsewhere that are not zero (the month of the
    report)."""
    return {
        m.metric: m.count
        for m in fresh(session).exec(select(HoaxMonth))
        if m.count and (m.metric.startswith("escalations") or m.metric.startswith("action_days"))
    }
