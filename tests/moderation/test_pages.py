"""The moderators' pages through HTTP: who may open them, the queue, claims, every decision
with its bad inputs, the two-person rule, merging, bulk rejection and the history."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from pledge import audit, i18n
from pledge.accounts import service as accounts
from pledge.accounts.models import Role
from pledge.audit import AuditAction
from pledge.db import utcnow
from pledge.hoaxes.models import TRANSITIONS, CaseStatus, HoaxCase, HoaxReport
from pledge.moderation.service import Decision, decisions_for
from tests.support.db import actions, events, fresh, reload
from tests.support.factories import MakeCase
from tests.support.moderation import CSRF, HOAX_FIELDS, Browser, World, case_url, post
from tests.support.pages import errors_of, html
from tests.support.people import sign_in

CASE_POSTS = ("claim", "release", "break", "decide", "approve", "send-back")


def held(session: Session, case: HoaxCase, user: Any, minutes: int = 10) -> HoaxCase:
    case = reload(session, case)
    case.claimed_by_id = user.id
    case.claim_expires_at = utcnow() + timedelta(minutes=minutes)
    session.add(case)
    session.commit()
    return case


def problem(response: Any) -> str:
    found = html(response).select_one("#problem")
    return found.get_text(" ", strip=True) if found else ""


def queue_ids(response: Any) -> list[int]:
    return [int(li["data-case-id"]) for li in html(response).select("li.case")]


def done(response: Any) -> str:
    assert response.status_code == 303, response.text[:500]
    return response.headers["location"]


# --- who may open the pages ----------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(
    world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = make_case(world.a)
    anonymous = browser(None)
    for path in ("/mod", case_url(case)):
        response = anonymous.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
    for action in CASE_POSTS:
        response = anonymous.post(case_url(case, action), data={"csrf_token": CSRF})
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    response = anonymous.post("/mod/bulk-reject", data={"csrf_token": CSRF})
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.mark.parametrize("who", ["plain", "site_admin"])
def test_people_who_moderate_nowhere_are_forbidden(
    session: Session, world: World, make_case: MakeCase, browser: Browser, who: str
) -> None:
    case = make_case(world.a)
    client = browser(getattr(world, who))
    response = client.get("/mod")
    assert response.status_code == 403
    assert "Only moderators of partner organisations" in response.text
    assert client.get(case_url(case)).status_code == 403
    for action in CASE_POSTS:
        assert post(client, case_url(case, action), reason="x").status_code == 403
    assert post(client, "/mod/bulk-reject", case_ids=str(case.id), reason="x").status_code == 403
    assert reload(session, case).status == CaseStatus.NEW and actions(session, case) == []


@pytest.mark.parametrize("who", ["mod_a", "mod_a2", "admin_a"])
def test_moderators_and_admins_of_partner_orgs_open_the_pages(
    world: World, make_case: MakeCase, browser: Browser, who: str
) -> None:
    case = make_case(world.a)
    client = browser(getattr(world, who))
    queue = client.get("/mod")
    assert queue.status_code == 200 and queue_ids(queue) == [case.id]
    assert queue.headers["cache-control"] == "no-store"
    page = client.get(case_url(case))
    assert page.status_code == 200
    assert html(page).select_one("h1").get_text(strip=True) == f"Case #{case.id}"


def test_a_case_of_a_campaign_the_org_does_not_partner_in_is_not_found(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    """Moderators of org_b see campaign B only: A's case pages and every post on them answer
    404, like a case that does not exist; nothing changes."""
    case = held(session, make_case(world.a), world.mod_a)
    for who in (world.mod_b, world.admin_b):
        client = browser(who)
        assert queue_ids(client.get("/mod")) == []
        assert client.get(case_url(case)).status_code == 404
        assert client.get(case_url(999_999)).status_code == 404
        for action in CASE_POSTS:
            fields = {"reason": "x", "decision": "rejected"}
            assert post(client, case_url(case, action), **fields).status_code == 404, action
        response = post(client, "/mod/bulk-reject", case_ids=str(case.id), reason="Spam.")
        assert (
            "0 cases were rejected"
            in html(client.get(done(response))).select_one("#done").get_text()
        )
    stored = reload(session, case)
    assert stored.status == CaseStatus.NEW and stored.claimed_by_id == world.mod_a.id
    assert actions(session, case) == []


def test_bad_case_numbers_are_not_found(world: World, browser: Browser) -> None:
    client = browser(world.mod_a)
    for path in ("/mod/cases/0", "/mod/cases/abc", "/mod/cases/99999999999"):
        assert client.get(path).status_code in (404, 422), path
    assert client.get("/mod/cases/12345").status_code == 404


def test_posts_need_the_csrf_token(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = make_case(world.a)
    client = browser(world.mod_a)
    response = client.post(
        case_url(case, "claim"), data={"csrf_token": "forged-token-of-enough-length"}
    )
    assert response.status_code == 403
    assert reload(session, case).claimed_by_id is None


# --- the queue -----------------------------------------------------------------------


def test_queue_shows_cases_in_the_queue_by_default_most_reported_first(
    world: World, make_case: MakeCase, browser: Browser
) -> None:
    old = make_case(world.a, reports=2, created_at=utcnow() - timedelta(days=3))
    newer = make_case(world.a, reports=2)
    top = make_case(world.a, reports=5, status="needs_info")
    waiting = make_case(world.a, reports=1, status="awaiting_approval", public_title="Judul usulan")
    for closed in ("published", "not_hoax", "rejected", "duplicate"):
        make_case(world.a, reports=9, status=closed)
    make_case(world.b, reports=20)
    response = browser(world.mod_a).get("/mod")
    assert queue_ids(response) == [top.id, old.id, newer.id, waiting.id]
    row = html(response).select_one(f"#case-{old.id}")
    assert row.select_one(".reports").get_text(strip=True) == "2 reports"
    assert row.select_one(".age").get_text(strip=True) == "first reported 3 days ago"
    assert row.select_one(".campaign").get_text(strip=True) == "Kampanye A"
    assert row.select_one(".platform").get_text(strip=True) == "WhatsApp"
    assert (
        row.select_one(".summary").get_text(strip=True)
        == "Pesan berantai tentang TPS yang dipindah."
    )
    assert (
        html(response).select_one(f"#case-{waiting.id} .summary").get_text(strip=True)
        == "Judul usulan"
    )
    # Only open cases can be picked for bulk rejection.
    assert row.select_one("input[name=case_ids]")["value"] == str(old.id)
    assert html(response).select_one(f"#case-{waiting.id} input[name=case_ids]") is None


def test_queue_rows_link_the_case_and_its_picture_and_name_the_holder(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = held(session, make_case(world.a, media=True), world.mod_a2)
    expired = make_case(world.a)
    expired.claimed_by_id, expired.claim_expires_at = (
        world.mod_a2.id,
        utcnow() - timedelta(minutes=1),
    )
    session.add(expired)
    session.commit()
    response = browser(world.mod_a).get("/mod")
    row = html(response).select_one(f"#case-{case.id}")
    assert row.select_one("a.open")["href"] == f"/mod/cases/{case.id}"
    assert row.select_one("img")["src"] == f"/media/{case.media_id}"
    holder = row.select_one(".holder").get_text(strip=True)
    assert holder == f"Held by Budi until {i18n.moment(case.claim_expires_at, 'en')}."
    assert html(response).select_one(f"#case-{expired.id} .holder") is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["new_wa", "info_fb", "waiting", "b_case"]),
        ("status=open", ["new_wa", "info_fb", "b_case"]),
        ("status=needs_info", ["info_fb"]),
        ("status=published", ["published"]),
        ("status=all", ["new_wa", "info_fb", "waiting", "published", "b_case"]),
        ("platform=facebook", ["info_fb"]),
        ("category=ai_generated", ["waiting"]),
        ("campaign=kampanye-b", ["b_case"]),
        ("campaign=kampanye-a&status=all", ["new_wa", "info_fb", "waiting", "published"]),
        ("platform=whatsapp&status=open&campaign=kampanye-a", ["new_wa"]),
    ],
)
def test_queue_filters(
    session: Session,
    world: World,
    make_case: MakeCase,
    browser: Browser,
    query: str,
    expected: list[str],
) -> None:
    # A moderator of two organisations sees the campaigns of both.
    accounts.add_member(session, user=world.mod_a, org=world.org_b, role=Role.MODERATOR)
    session.commit()
    made = {
        "new_wa": make_case(world.a, reports=6),
        "info_fb": make_case(world.a, reports=5, status="needs_info", platform="facebook"),
        "waiting": make_case(
            world.a, reports=4, status="awaiting_approval", category="ai_generated"
        ),
        "published": make_case(world.a, reports=3, status="published"),
        "b_case": make_case(world.b, reports=2),
    }
    response = browser(world.mod_a).get(f"/mod?{query}")
    assert response.status_code == 200
    assert queue_ids(response) == [made[name].id for name in expected]
    options = [o["value"] for o in html(response).select("#campaign option")]
    assert options == ["", "kampanye-a", "kampanye-b"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("status=gone", "status", "Choose a status from the list."),
        ("platform=myspace", "platform", "Choose a platform from the list."),
        ("category=gossip", "category", "Choose a category from the list."),
        (
            "campaign=kampanye-b",
            "campaign",
            "Choose one of the campaigns your organisation takes part in.",
        ),
        (
            "campaign=no-such-thing",
            "campaign",
            "Choose one of the campaigns your organisation takes part in.",
        ),
        ("after=abc", "after", "This page link is broken. Start again from the first page."),
        ("after=1.-2", "after", "This page link is broken. Start again from the first page."),
    ],
)
def test_queue_refuses_bad_filters(
    world: World, make_case: MakeCase, browser: Browser, query: str, field: str, message: str
) -> None:
    make_case(world.a)
    response = browser(world.mod_a).get(f"/mod?{query}")
    assert response.status_code == 422
    assert errors_of(response)[field] == message
    assert queue_ids(response) == []


def test_queue_pages_follow_keys(world: World, make_case: MakeCase, browser: Browser) -> None:
    """60 cases with tied report counts: following "Next page" lists each case exactly once,
    in order, 25 at a time, with the filters kept."""
    start = utcnow() - timedelta(days=1)
    made = [
        make_case(
            world.a,
            reports=0,
            report_count=(n * 3) % 4 + 1,
            created_at=start + timedelta(minutes=n),
        )
        for n in range(60)
    ]
    make_case(world.a, reports=0, report_count=3, platform="tiktok")  # filtered out
    expected = [c.id for c in sorted(made, key=lambda c: (-c.report_count, c.id or 0))]
    client = browser(world.mod_a)
    url: str | None = "/mod?platform=whatsapp"
    seen: list[int] = []
    sizes = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        ids = queue_ids(response)
        sizes.append(len(ids))
        seen.extend(ids)
        link = html(response).select_one("#next-page")
        url = str(link["href"]) if link else None
        if url:
            assert "platform=whatsapp" in url and re.search(r"after=\d+\.\d+", url)
            assert "offset" not in url and "page=" not in url
    assert sizes == [25, 25, 10]
    assert seen == expected


# --- claims --------------------------------------------------------------------------


def test_claim_renew_release_through_the_page(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = make_case(world.a)
    client = browser(world.mod_a)
    page = client.get(case_url(case))
    assert (
        html(page).select_one("#holder").get_text(strip=True) == "Nobody is working on this case."
    )
    assert html(page).select_one("#claim-to-decide") is not None  # no decision forms yet
    assert html(page).select_one("#form-hoax") is None
    assert reload(session, case).claimed_by_id is None  # opening the page does not claim

    assert done(post(client, case_url(case, "claim"))) == f"/mod/cases/{case.id}?done=claimed"
    stored = reload(session, case)
    assert stored.claimed_by_id == world.mod_a.id
    page = client.get(f"/mod/cases/{case.id}?done=claimed")
    expiry = i18n.moment(stored.claim_expires_at, "en")
    assert (
        html(page).select_one("#holder").get_text(strip=True)
        == f"You hold this case until {expiry}."
    )
    assert (
        html(page)
        .select_one("#done")
        .get_text(strip=True)
        .startswith("The case is yours for 15 minutes")
    )
    assert html(page).select_one("#form-hoax") is not None

    # Renewing moves the expiry on.
    stored.claim_expires_at = utcnow() + timedelta(minutes=2)
    session.add(stored)
    session.commit()
    assert done(post(client, case_url(case, "claim"))).endswith("done=renewed")
    assert reload(session, case).claim_expires_at > utcnow() + timedelta(minutes=14)

    other = browser(world.mod_a2)
    page = other.get(case_url(case))
    assert (
        html(page)
        .select_one("#holder")
        .get_text(strip=True)
        .startswith("Ayu holds this case until")
    )
    assert html(page).select_one("#form-break") is None  # a moderator cannot end it
    refused = post(other, case_url(case, "claim"))
    assert refused.status_code == 409
    assert problem(refused) == "Ayu is working on this case. Try another one, or ask them."
    refused = post(other, case_url(case, "release"))
    assert refused.status_code == 409
    assert problem(refused) == "You do not hold this case, so there is nothing to release."

    assert done(post(client, case_url(case, "release"))).endswith("done=released")
    assert reload(session, case).claimed_by_id is None
    assert done(post(other, case_url(case, "claim"))).endswith("done=claimed")
    assert actions(session, case) == ["case.claim", "case.claim", "case.release", "case.claim"]


def test_an_org_admin_of_a_partner_breaks_a_claim_with_a_reason(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = held(session, make_case(world.a), world.mod_a)
    admin = browser(world.admin_a)
    page = admin.get(case_url(case))
    assert html(page).select_one("#form-break textarea[name=reason]") is not None

    refused = post(admin, case_url(case, "break"), reason="  ")
    assert refused.status_code == 422
    assert errors_of(refused)["break-reason"] == "Give a reason: it is kept in the case's history."
    refused = post(admin, case_url(case, "break"), reason="x" * 501)
    assert refused.status_code == 422
    assert errors_of(refused)["break-reason"] == "Keep the reason to 500 characters."

    # A moderator of a partner organisation may not; another organisation's admin sees nothing.
    refused = post(browser(world.mod_a2), case_url(case, "break"), reason="Saya mau ambil.")
    assert refused.status_code == 403
    assert (
        problem(refused)
        == "Only an admin of a partner organisation can end another moderator's claim."
    )
    assert post(browser(world.admin_b), case_url(case, "break"), reason="x").status_code == 404
    assert reload(session, case).claimed_by_id == world.mod_a.id

    assert done(post(admin, case_url(case, "break"), reason="Ayu sedang cuti.")).endswith(
        "done=broken"
    )
    assert reload(session, case).claimed_by_id is None
    refused = post(admin, case_url(case, "break"), reason="Lagi.")
    assert refused.status_code == 409
    assert problem(refused) == "Nobody holds this case right now: there is no claim to end."
    [event] = events(session, case)
    assert (event.action, event.reason, event.actor_id) == (
        "case.break_claim",
        "Ayu sedang cuti.",
        world.admin_a.id,
    )


def test_deciding_without_the_claim_is_refused(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = make_case(world.a)
    client = browser(world.mod_a)
    refused = post(client, case_url(case, "decide"), decision="not_hoax", reason="Benar.")
    assert refused.status_code == 409
    assert (
        problem(refused)
        == "Claim the case first: only the moderator holding a case can decide on it."
    )
    held(session, case, world.mod_a2)
    refused = post(client, case_url(case, "decide"), decision="not_hoax", reason="Benar.")
    assert refused.status_code == 409
    assert problem(refused) == "Budi is working on this case. Try another one, or ask them."
    assert reload(session, case).status == CaseStatus.NEW
    assert actions(session, case) == []


# --- decisions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "status", "notice"),
    [
        ("not_hoax", CaseStatus.NOT_HOAX, "The case is closed as not a hoax."),
        ("needs_info", CaseStatus.NEEDS_INFO, "The case is marked as needing more information."),
        ("rejected", CaseStatus.REJECTED, "The case is rejected."),
    ],
)
def test_simple_decisions_need_a_reason(
    session: Session,
    world: World,
    make_case: MakeCase,
    browser: Browser,
    decision: str,
    status: CaseStatus,
    notice: str,
) -> None:
    case = held(session, make_case(world.a), world.mod_a)
    client = browser(world.mod_a)
    # Asking for information asks the reporters a question too (tests/hoaxes/test_answers.py).
    asked = {"question": "Dari grup mana?"} if decision == "needs_info" else {}
    for reason, message in (
        ("", "Give a reason: it is kept in the case's history."),
        ("   ", "Give a reason: it is kept in the case's history."),
        ("a" * 501, "Keep the reason to 500 characters."),
    ):
        refused = post(client, case_url(case, "decide"), decision=decision, reason=reason, **asked)
        assert refused.status_code == 422
        assert errors_of(refused) == {f"{decision}-reason": message}
        assert html(refused).select_one(f"#form-{decision}").has_attr("open")
        assert html(refused).select_one(f"#{decision}-reason").get_text() == reason  # kept
    assert reload(session, case).status == CaseStatus.NEW
    location = done(
        post(client, case_url(case, "decide"), decision=decision, reason="a" * 500, **asked)
    )
    assert location == f"/mod/cases/{case.id}?done=decided-{decision}"
    stored = reload(session, case)
    assert stored.status == status and stored.claimed_by_id is None  # a decision releases
    assert html(client.get(location)).select_one("#done").get_text(strip=True) == notice
    [event] = events(session, case)
    assert (event.action, event.reason) == ("case.decide", "a" * 500)


def test_an_unknown_decision_is_refused(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = held(session, make_case(world.a), world.mod_a)
    refused = post(
        browser(world.mod_a), case_url(case, "decide"), decision="publish", reason="Langsung."
    )
    assert refused.status_code == 422
    assert errors_of(refused) == {"decision-decision": "Choose one of the decisions offered."}
    assert reload(session, case).status == CaseStatus.NEW


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"label": "", "public_title": "", "public_explanation": "", "reason": ""},
            {
                "hoax-label": "Choose the label the verdict carries.",
                "hoax-public_title": "Write the claim as it circulates: what the hoax says.",
                "hoax-public_explanation": "Explain to the public what is wrong, and how you know.",
                "hoax-reason": "Give a reason: it is kept in the case's history.",
            },
        ),
        ({"label": "BOHONG"}, {"hoax-label": "Choose the label the verdict carries."}),
        # The correction is asked for every label but satire, in one sentence.
        ({"correction": ""}, {"hoax-correction": "Write the correction: what is true instead."}),
        (
            {"correction": "c" * 281},
            {"hoax-correction": "Keep the correction to one sentence of at most 280 characters."},
        ),
        (
            {"claim_author": "a" * 201},
            {"hoax-claim_author": "Keep who spread it to 200 characters."},
        ),
        *[
            ({"claim_date": raw}, {"hoax-claim_date": message})
            for raw, message in (
                (
                    (utcnow() + timedelta(days=2)).date().isoformat(),
                    "The claim cannot have appeared after today.",
                ),
                ("1999-12-31", "Enter a date from 2000 on."),
                ("31/12/2024", "Enter the date as YYYY-MM-DD, or leave it empty."),
                ("2024-02-30", "Enter the date as YYYY-MM-DD, or leave it empty."),
            )
        ],
        ({"public_title": "t" * 201}, {"hoax-public_title": "Keep the claim to 200 characters."}),
        (
            {"public_explanation": "e" * 4001},
            {"hoax-public_explanation": "Keep the explanation to 4000 characters."},
        ),
        *[
            (
                {"fact_check_url": url},
                {
                    "hoax-fact_check_url": "Enter a full web address starting with http:// or https://, or leave it empty."
                },
            )
            for url in (
                "javascript:alert(1)",
                "ftp://cekfakta.example.id/x",
                "cekfakta.example.id",
                "https://",
                "https://a b.id/",
            )
        ],
    ],
)
def test_a_hoax_verdict_checks_its_fields(
    session: Session,
    world: World,
    make_case: MakeCase,
    browser: Browser,
    changes: dict[str, str],
    errors: dict[str, str],
) -> None:
    case = held(session, make_case(world.a), world.mod_a)
    refused = post(browser(world.mod_a), case_url(case, "decide"), **{**HOAX_FIELDS, **changes})
    assert refused.status_code == 422
    assert errors_of(refused) == errors
    form = html(refused).select_one("#form-hoax")
    assert form.has_attr("open")
    for name, value in {**HOAX_FIELDS, **changes}.items():
        field = form.select_one(f"[name={name}]")
        if name in ("public_title", "correction", "claim_author", "claim_date", "fact_check_url"):
            assert field["value"] == value  # what was typed is shown back
    stored = reload(session, case)
    assert (
        stored.status == CaseStatus.NEW
        and stored.label is None
        and stored.claimed_by_id == world.mod_a.id
    )


def test_a_hoax_verdict_is_proposed_for_approval(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = held(session, make_case(world.a), world.mod_a)
    client = browser(world.mod_a)
    fields = {
        **HOAX_FIELDS,
        "fact_check_url": "",
        "public_explanation": "Paragraf satu.\r\n\r\nParagraf dua.",
    }
    location = done(post(client, case_url(case, "decide"), **fields))
    assert location.endswith("done=decided-hoax")
    stored = reload(session, case)
    assert stored.status == CaseStatus.AWAITING_APPROVAL
    assert (stored.label, stored.public_title, stored.fact_check_url) == (
        "SALAH",
        "TPS dipindah ke balai desa sehari sebelum pemilu",
        None,
    )
    assert stored.public_explanation == "Paragraf satu.\n\nParagraf dua."
    assert stored.proposed_by_id == world.mod_a.id and stored.claimed_by_id is None
    assert stored.correction == HOAX_FIELDS["correction"]
    assert (stored.claim_author, stored.claim_date) == ("", None)  # optional, left empty
    page = html(client.get(location))
    assert page.select_one("#proposed-label").get_text(strip=True) == "SALAH (False)"
    assert page.select_one("#proposed-title q").get_text() == HOAX_FIELDS["public_title"]
    assert page.select_one("#proposed-correction").get_text(strip=True) == (
        f"Fact: {HOAX_FIELDS['correction']}"
    )
    assert page.select_one("#proposed-claim-author") is None
    assert [p.get_text() for p in page.select("#proposed-explanation p")] == [
        "Paragraf satu.",
        "Paragraf dua.",
    ]
    assert page.select_one("#proposer").get_text(strip=True) == "Ayu"


def test_the_proposer_cannot_approve_and_a_second_moderator_publishes(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = held(session, make_case(world.a), world.mod_a)
    proposer, second = browser(world.mod_a), browser(world.mod_a2)
    done(post(proposer, case_url(case, "decide"), **HOAX_FIELDS))

    # The approve form needs the claim, like every decision.
    refused = post(second, case_url(case, "approve"), reason="Setuju.")
    assert refused.status_code == 409 and problem(refused).startswith("Claim the case first")

    done(post(proposer, case_url(case, "claim")))
    page = html(proposer.get(case_url(case)))
    assert page.select_one("#form-approve") is None
    assert page.select_one("#own-proposal") is not None
    refused = post(proposer, case_url(case, "approve"), reason="Saya setuju dengan diri sendiri.")
    assert refused.status_code == 403
    assert problem(refused) == "You proposed this verdict, so another moderator has to approve it."
    stored = reload(session, case)
    assert stored.status == CaseStatus.AWAITING_APPROVAL and stored.published_at is None
    done(post(proposer, case_url(case, "release")))

    done(post(second, case_url(case, "claim")))
    assert html(second.get(case_url(case))).select_one("#form-approve") is not None
    refused = post(second, case_url(case, "approve"), reason="")
    assert refused.status_code == 422
    assert errors_of(refused) == {
        "approve-reason": "Give a reason: it is kept in the case's history."
    }
    before = utcnow()
    location = done(post(second, case_url(case, "approve"), reason="Sumber KPU kuat."))
    assert location.endswith("done=approved")
    stored = reload(session, case)
    assert stored.status == CaseStatus.PUBLISHED
    assert stored.approved_by_id == world.mod_a2.id and stored.proposed_by_id == world.mod_a.id
    assert stored.published_at is not None and stored.published_at >= before
    assert stored.claimed_by_id is None
    page = html(second.get(location))
    assert page.select_one("#status").get_text(strip=True) == "Published"
    assert page.select_one("#approver").get_text(strip=True) == "Budi"
    assert (
        page.select_one("#holder").get_text(strip=True).startswith("This case is closed for good")
    )
    # Published means public: the verdict's own page now answers everyone.
    public = browser(None).get(f"/hoaxes/{case.id}")
    assert public.status_code == 200
    assert HOAX_FIELDS["public_title"] in html(public).select_one("h1").get_text()


def test_send_back_returns_the_case_to_the_queue(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = held(session, make_case(world.a), world.mod_a)
    client = browser(world.mod_a)
    done(post(client, case_url(case, "decide"), **HOAX_FIELDS))
    done(post(client, case_url(case, "claim")))
    refused = post(client, case_url(case, "send-back"), reason="")
    assert refused.status_code == 422
    assert errors_of(refused) == {
        "send_back-reason": "Give a reason: it is kept in the case's history."
    }
    # The proposer may send their own proposal back, to change it.
    assert done(post(client, case_url(case, "send-back"), reason="Judul perlu diubah.")).endswith(
        "done=sent-back"
    )
    stored = reload(session, case)
    assert (
        stored.status == CaseStatus.NEW and stored.label is None and stored.proposed_by_id is None
    )
    assert stored.public_title == "" and stored.claimed_by_id is None
    assert case.id in queue_ids(client.get("/mod?status=open"))


def test_merge_through_the_page(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    link = "https://x.com/akun/status/1"
    target = make_case(world.a, reports=4, canonical_url=link)
    source = held(session, make_case(world.a, reports=2, canonical_url=link), world.mod_a)
    elsewhere = make_case(world.b)
    client = browser(world.mod_a)
    page = html(client.get(case_url(source)))
    assert page.select_one(f"#candidate-{target.id} a")["href"] == f"/mod/cases/{target.id}"

    for raw, message in (
        ("", "Enter the number of the case this one duplicates."),
        (str(elsewhere.id), "Enter the number of another case of the same campaign."),
        (str(source.id), "A case cannot be merged into itself."),
    ):
        refused = post(
            client,
            case_url(source, "decide"),
            decision="duplicate",
            target_case_id=raw,
            reason="Sama.",
        )
        assert refused.status_code == 422
        assert errors_of(refused) == {"duplicate-target_case_id": message}
    refused = post(
        client, case_url(source, "decide"), decision="duplicate", target_case_id=str(target.id)
    )
    assert errors_of(refused) == {
        "duplicate-reason": "Give a reason: it is kept in the case's history."
    }

    location = done(
        post(
            client,
            case_url(source, "decide"),
            decision="duplicate",
            target_case_id=f"#{target.id}",
            reason="Sama.",
        )
    )
    assert location.endswith("done=decided-duplicate")
    merged, into = reload(session, source), reload(session, target)
    assert merged.status == CaseStatus.DUPLICATE and merged.merged_into_id == target.id
    assert into.report_count == 6
    owners = (
        fresh(session)
        .exec(select(HoaxReport.case_id).where(HoaxReport.campaign_id == world.a.id))
        .all()
    )
    assert set(owners) == {target.id}
    page = html(client.get(location))
    assert page.select_one("#merged-into")["href"] == f"/mod/cases/{target.id}"
    target_page = html(client.get(case_url(target)))
    assert len(target_page.select("li.report")) == 6
    assert (
        target_page.select_one(".event .action").get_text(strip=True)
        == f"Case #{source.id} merged into this one"
    )


def test_reopen_a_closed_case(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = make_case(world.a, status="not_hoax")
    client = browser(world.mod_a)
    done(post(client, case_url(case, "claim")))
    page = html(client.get(case_url(case)))
    assert [d["id"] for d in page.select("#decide details")] == ["form-reopen"]
    done(post(client, case_url(case, "decide"), decision="reopen", reason="Ada bukti baru."))
    assert reload(session, case).status == CaseStatus.NEW


# --- every refused move, through the pages --------------------------------------------


def _valid_fields(decision: Decision, other: HoaxCase) -> dict[str, str]:
    if decision == Decision.HOAX:
        return dict(HOAX_FIELDS)
    fields = {"decision": decision.value, "reason": "Alasan yang sah."}
    if decision == Decision.DUPLICATE:
        fields["target_case_id"] = str(other.id)
    return fields


REFUSED_DECISIONS = [
    (status, decision)
    for status in CaseStatus
    for decision in Decision
    if decision not in decisions_for(status)
]


@pytest.mark.parametrize(("status", "decision"), REFUSED_DECISIONS, ids=lambda v: str(v))
def test_every_decision_a_status_does_not_allow_is_refused(
    session: Session,
    world: World,
    make_case: MakeCase,
    browser: Browser,
    status: CaseStatus,
    decision: Decision,
) -> None:
    """Even with the claim held and every field valid: 409, nothing changes."""
    other = make_case(world.a)
    case = held(session, make_case(world.a, status=status), world.mod_a)
    refused = post(browser(world.mod_a), case_url(case, "decide"), **_valid_fields(decision, other))
    assert refused.status_code == 409
    assert problem(refused)
    stored = reload(session, case)
    assert stored.status == status and stored.claimed_by_id == world.mod_a.id
    assert actions(session, case) == []
    assert reload(session, other).report_count == 1


@pytest.mark.parametrize(
    "status", [s for s in CaseStatus if s != CaseStatus.AWAITING_APPROVAL], ids=str
)
@pytest.mark.parametrize("action", ["approve", "send-back"])
def test_approve_and_send_back_only_from_awaiting_approval(
    session: Session,
    world: World,
    make_case: MakeCase,
    browser: Browser,
    status: CaseStatus,
    action: str,
) -> None:
    assert (CaseStatus.PUBLISHED in TRANSITIONS[status]) is False
    case = held(
        session, make_case(world.a, status=status, proposed_by_id=world.mod_a.id), world.mod_a2
    )
    refused = post(browser(world.mod_a2), case_url(case, action), reason="Alasan.")
    assert refused.status_code == 409
    assert problem(refused)
    assert reload(session, case).status == status
    assert actions(session, case) == []


# --- bulk rejection ------------------------------------------------------------------


def test_bulk_reject_from_the_queue(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    spam = [make_case(world.a, reports=2) for _ in range(3)]
    held_case = held(session, make_case(world.a), world.mod_a2)
    waiting = make_case(world.a, status="awaiting_approval")
    theirs = make_case(world.b)
    client = browser(world.mod_a)
    form = html(client.get("/mod")).select_one("form#bulk")
    assert form["action"] == "/mod/bulk-reject"
    assert form.select_one("label[for=bulk-reason]") is not None

    refused = post(client, "/mod/bulk-reject", reason="")
    assert refused.status_code == 422
    assert errors_of(refused) == {
        "bulk-reason": "Give a reason: it is kept in the case's history.",
        "bulk-case_ids": "Choose at least one case.",
    }
    refused = client.post(
        "/mod/bulk-reject",
        data={"csrf_token": CSRF, "reason": "", "case_ids": [str(spam[0].id), str(spam[1].id)]},
    )
    assert refused.status_code == 422
    assert errors_of(refused) == {"bulk-reason": "Give a reason: it is kept in the case's history."}
    checked = [box["value"] for box in html(refused).select("input[name=case_ids][checked]")]
    assert checked == [str(spam[0].id), str(spam[1].id)]  # the choice survives the error

    picked = [*spam, held_case, waiting, theirs]
    response = client.post(
        "/mod/bulk-reject",
        data={"csrf_token": CSRF, "reason": "Iklan judi.", "case_ids": [str(c.id) for c in picked]},
    )
    location = done(response)
    assert location == "/mod?done=bulk-rejected&rejected=3&skipped=3"
    notice = " ".join(html(client.get(location)).select_one("#done").get_text().split())
    assert notice.startswith("3 cases were rejected. 3 chosen cases were left alone")
    assert [reload(session, c).status for c in picked] == [
        CaseStatus.REJECTED, CaseStatus.REJECTED, CaseStatus.REJECTED,
        CaseStatus.NEW, CaseStatus.AWAITING_APPROVAL, CaseStatus.NEW,
    ]  # fmt: skip
    assert actions(session, spam[0]) == ["case.bulk_reject"]
    assert events(session, spam[0])[0].reason == "Iklan judi."


def test_bulk_reject_returns_to_the_same_filters(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    spam = make_case(world.a, platform="tiktok")
    client = browser(world.mod_a)
    form = html(client.get("/mod?platform=tiktok&status=open")).select_one("form#bulk")
    carried = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    assert carried == {"csrf_token": CSRF, "platform": "tiktok", "status": "open"}
    response = post(client, "/mod/bulk-reject", **carried, case_ids=str(spam.id), reason="Spam.")
    assert done(response) == (
        "/mod?status=open&platform=tiktok&done=bulk-rejected&rejected=1&skipped=0"
    )
    refused = post(client, "/mod/bulk-reject", **carried, case_ids=str(spam.id), reason="")
    assert refused.status_code == 422
    assert html(refused).select_one("#platform option[selected]")["value"] == "tiktok"


# --- the history and what the page never shows -----------------------------------------


def test_every_action_is_in_the_history_on_the_case_page(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = make_case(world.a)
    ayu, budi, citra = browser(world.mod_a), browser(world.mod_a2), browser(world.admin_a)
    done(post(ayu, case_url(case, "claim")))
    done(post(citra, case_url(case, "break"), reason="Ayu tidak aktif."))
    done(post(ayu, case_url(case, "claim")))
    done(post(ayu, case_url(case, "claim")))
    done(post(ayu, case_url(case, "release")))
    done(post(ayu, case_url(case, "claim")))
    done(post(ayu, case_url(case, "decide"), **HOAX_FIELDS))
    done(post(budi, case_url(case, "claim")))
    done(post(budi, case_url(case, "send-back"), reason="Kurang sumber."))
    done(post(ayu, case_url(case, "claim")))
    done(post(ayu, case_url(case, "decide"), **{**HOAX_FIELDS, "reason": "Sumber ditambah."}))
    done(post(budi, case_url(case, "claim")))
    done(post(budi, case_url(case, "approve"), reason="Lengkap."))

    expected = [
        ("Budi", "Approved and published", "Lengkap."),
        # In the same step: the reporters who left a contact are told (none here).
        ("Budi", "Told the reporters the verdict", ""),
        ("Budi", "Claimed", ""),
        ("Ayu", "Proposed a verdict", "Sumber ditambah."),
        ("Ayu", "Claimed", ""),
        ("Budi", "Sent the verdict back", "Kurang sumber."),
        ("Budi", "Claimed", ""),
        ("Ayu", "Proposed a verdict", HOAX_FIELDS["reason"]),
        ("Ayu", "Claimed", ""),
        ("Ayu", "Released the claim", ""),
        ("Ayu", "Renewed the claim", ""),
        ("Ayu", "Claimed", ""),
        ("Citra", "Ended another moderator's claim", "Ayu tidak aktif."),
        ("Ayu", "Claimed", ""),
    ]
    rows = html(ayu.get(case_url(case))).select("#history tr.event")
    shown = [
        (
            r.select_one(".actor").get_text(strip=True),
            r.select_one(".action").get_text(strip=True),
            r.select_one(".reason").get_text(strip=True),
        )
        for r in rows
    ]
    assert shown == expected
    assert all(
        re.fullmatch(
            r"\d{1,2} [A-Z][a-z]+ \d{4} \d\d:\d\d WIB",
            r.select_one(".time").get_text(" ", strip=True),
        )
        for r in rows
    )
    assert actions(session, case) == [
        "case.claim", "case.break_claim", "case.claim", "case.claim", "case.release", "case.claim",
        "case.decide", "case.claim", "case.send_back", "case.claim", "case.decide", "case.claim",
        "case.notify", "case.approve",
    ]  # fmt: skip


def test_the_history_names_merges_and_decisions_and_shows_an_unknown_action_as_stored(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = make_case(world.a)
    subject = f"case:{case.id}"
    written = [
        ("case.forecast", {}),  # written by a newer version of the site
        (AuditAction.CASE_DECIDE, {"decision": "not_hoax"}),
        (AuditAction.CASE_DECIDE, {"decision": "something-new"}),
        (AuditAction.CASE_MERGE, {"into": 41}),
        (AuditAction.CASE_MERGE, {"from_case": 40}),
        (AuditAction.CASE_BULK_REJECT, {}),
    ]
    for action, data in written:
        audit.record(session, actor_id=None, action=action, subject=subject, data=data)  # type: ignore[arg-type]
    session.commit()

    rows = html(browser(world.mod_a).get(case_url(case))).select("#history tr.event")
    shown = [(r["data-action"], r.select_one(".action").get_text(strip=True)) for r in rows]
    assert shown == [
        ("case.bulk_reject", "Rejected with other cases"),
        ("case.merge", "Case #40 merged into this one"),
        ("case.merge", "Merged into case #41"),
        ("case.decide", "Decided"),
        ("case.decide", "Closed as not a hoax"),
        ("case.forecast", "case.forecast"),
    ]


def test_the_case_page_shows_reports_but_never_the_reporters_contacts(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = make_case(world.a, reports=2, media=True, contact="SECRET-CONTACT-CIPHERTEXT")
    report = fresh(session).exec(select(HoaxReport).where(HoaxReport.case_id == case.id)).first()
    assert report is not None
    response = browser(world.mod_a).get(case_url(case))
    page = html(response)
    assert "SECRET-CONTACT" not in response.text
    items = page.select("li.report")
    assert len(items) == 2
    first = items[0]
    assert first.select_one("a.url")["href"] == report.url
    assert "nofollow" in first.select_one("a.url")["rel"]
    assert first.select_one(".description").get_text(strip=True) == report.description
    assert first.select_one(".province").get_text(strip=True) == "DKI Jakarta"
    assert first.select_one("img")["src"] == f"/media/{case.media_id}"
    assert page.select_one("#details img")["src"] == f"/media/{case.media_id}"
    # The picture answers the moderator, and nobody outside the campaign's partners.
    assert browser(world.mod_a).get(f"/media/{case.media_id}").status_code == 200
    assert browser(world.mod_b).get(f"/media/{case.media_id}").status_code == 404


def test_every_field_of_the_case_page_has_a_label(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = held(session, make_case(world.a), world.mod_a)
    page = html(browser(world.mod_a).get(case_url(case)))
    fields = page.select("main input:not([type=hidden]), main select, main textarea")
    assert fields
    for field in fields:
        assert page.select_one(f"label[for={field['id']}]") is not None, field
    assert all(
        form.select_one("input[name=csrf_token]") for form in page.select("form[method=post]")
    )


def test_a_verdict_keeps_who_spread_the_claim_and_when_and_satire_needs_no_correction(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = held(session, make_case(world.a), world.mod_a)
    client = browser(world.mod_a)
    page = html(client.get(case_url(case)))
    form = page.select_one("#form-hoax")
    labels = {label["for"]: label.get_text(strip=True) for label in form.select("label")}
    assert labels["hoax-public_title"] == "The claim as it circulates"
    assert labels["hoax-correction"] == "The correction, in one sentence"
    assert (
        "Write what the hoax says, not the truth."
        in form.select_one("#hoax-public_title-hint").get_text()
    )
    assert form.select_one("#hoax-claim_date")["type"] == "date"
    fields = {
        **HOAX_FIELDS,
        "label": "SATIRE",
        "correction": "",
        "claim_author": "Akun TikTok @kabarpemilu",
        "claim_date": "2024-01-05",
    }
    location = done(post(client, case_url(case, "decide"), **fields))
    stored = reload(session, case)
    assert (stored.label, stored.correction, stored.claim_author, stored.claim_date) == (
        "SATIRE",
        "",
        "Akun TikTok @kabarpemilu",
        date(2024, 1, 5),
    )
    page = html(client.get(location))
    assert page.select_one("#proposed-claim-author").get_text() == "Akun TikTok @kabarpemilu"
    assert page.select_one("#proposed-claim-date").get_text() == "5 January 2024"


def test_the_verdict_form_speaks_indonesian(
    session: Session, world: World, make_case: MakeCase, new_client: Any
) -> None:
    """The labels and messages come from the catalogue: Indonesian by default."""
    case = held(session, make_case(world.a), world.mod_a)
    client = sign_in(new_client(lang="id"), world.mod_a, csrf=CSRF)
    catalogue = i18n.translations("id")
    refused = post(client, case_url(case, "decide"), **{**HOAX_FIELDS, "correction": ""})
    assert refused.status_code == 422
    assert errors_of(refused) == {
        "hoax-correction": catalogue.gettext("Write the correction: what is true instead.")
    }
    label = html(refused).select_one("label[for=hoax-public_title]").get_text(strip=True)
    assert label == catalogue.gettext("The claim as it circulates")
