"""Corrections of published verdicts: proposed by one moderator with a public note, approved
by a second one (never the proposer), or withdrawn; the verdict stays published, its page shows
the note, and the case's history keeps every text."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from pledge import i18n
from pledge.audit import AuditAction
from pledge.db import utcnow
from pledge.errors import Conflict, Forbidden
from pledge.hoaxes.models import CaseStatus, Correction, HoaxCase, Verdict
from pledge.moderation import service as moderation
from tests.support.db import events, fresh, reload
from tests.support.factories import MakeCase
from tests.support.moderation import CSRF, Access, Browser, World, case_url, post
from tests.support.pages import english_day, errors_of, html

FIELDS = {
    "label": "MENYESATKAN",
    "public_title": "Pemilih tanpa undangan C6 tidak bisa mencoblos",
    "correction": "Pemilih tanpa undangan C6 tetap bisa mencoblos dengan e-KTP.",
    "public_explanation": "KPU: e-KTP cukup.\r\n\r\nUndangan C6 hanya pemberitahuan.",
    "note": "Versi pertama menyebut kecamatan yang salah.",
    "reason": "Sumber KPU yang benar ditemukan.",
}


def published(session: Session, make_case: MakeCase, world: World, **fields: Any) -> HoaxCase:
    """A published verdict of campaign A, proposed by Ayu and approved by Budi."""
    return make_case(
        world.a,
        status="published",
        proposed_by_id=world.mod_a.id,
        approved_by_id=world.mod_a2.id,
        **fields,
    )


def done(response: Any) -> str:
    assert response.status_code == 303, response.text[:500]
    return response.headers["location"]


def problem(response: Any) -> str:
    found = html(response).select_one("#problem")
    return found.get_text(" ", strip=True) if found else ""


def corrections_of(session: Session, case: HoaxCase) -> list[Correction]:
    return list(
        fresh(session).exec(
            select(Correction).where(Correction.case_id == case.id).order_by(col(Correction.id))
        )
    )


def propose(client: TestClient, case: HoaxCase, **changes: str) -> Any:
    return post(client, case_url(case, "correct"), **{**FIELDS, **changes})


def approve_url(case: HoaxCase | int, correction: Correction | int, action: str = "approve") -> str:
    number = correction if isinstance(correction, int) else correction.id
    return case_url(case, f"corrections/{number}/{action}")


# --- proposing --------------------------------------------------------------------------


def test_a_moderator_proposes_a_correction_and_the_verdict_waits_unchanged(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = published(session, make_case, world)
    before = (case.label, case.public_title, case.correction, case.public_explanation)
    ayu = browser(world.mod_a)
    page = html(ayu.get(case_url(case)))
    form = page.select_one("#form-correct form")
    assert form["action"] == case_url(case, "correct")
    # The form starts from the published text.
    assert form.select_one("[name=public_title]")["value"] == case.public_title
    assert form.select_one("[name=label] option[selected]")["value"] == "SALAH"

    location = done(propose(ayu, case))
    assert location.endswith("done=correction-proposed")
    (waiting,) = corrections_of(session, case)
    assert (waiting.label, waiting.public_title, waiting.correction, waiting.note) == (
        Verdict.MENYESATKAN,
        FIELDS["public_title"],
        FIELDS["correction"],
        FIELDS["note"],
    )
    assert waiting.public_explanation == "KPU: e-KTP cukup.\n\nUndangan C6 hanya pemberitahuan."
    assert waiting.proposed_by_id == world.mod_a.id and waiting.approved_at is None
    stored = reload(session, case)
    assert (stored.label, stored.public_title, stored.correction, stored.public_explanation) == (
        before
    )
    assert stored.status == CaseStatus.PUBLISHED and stored.corrected_at is None
    event = events(session, case)[-1]
    assert event.action == AuditAction.CASE_CORRECT and event.reason == FIELDS["reason"]
    data = json.loads(event.data)
    assert data["step"] == "proposed" and data["new"]["public_title"] == FIELDS["public_title"]

    # The proposer sees it waiting, without an approve form; another moderator can approve.
    mine = html(ayu.get(location))
    assert mine.select_one("#done").get_text(strip=True).startswith("The correction is proposed")
    assert mine.select_one("#correction-note").get_text(strip=True) == FIELDS["note"]
    assert mine.select_one("#correction-proposer").get_text(strip=True) == "Ayu"
    assert mine.select_one("#form-approve_correction") is None
    assert mine.select_one("#own-correction") is not None
    assert mine.select_one("#form-withdraw_correction") is not None
    assert mine.select_one("#form-correct") is None  # one correction waits at a time
    theirs = html(browser(world.mod_a2).get(case_url(case)))
    assert theirs.select_one("#form-approve_correction") is not None
    history = [row.select_one(".action").get_text(strip=True) for row in mine.select(".event")]
    assert history[-1] == "Proposed a correction of the published verdict"


def test_only_one_correction_waits_at_a_time(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = published(session, make_case, world)
    done(propose(browser(world.mod_a), case))
    refused = propose(browser(world.mod_a2), case, note="Yang lain.")
    assert refused.status_code == 409
    assert problem(refused).startswith("A correction of this verdict is already waiting")
    assert len(corrections_of(session, case)) == 1


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"label": "", "public_title": "", "public_explanation": "", "note": "", "reason": ""},
            {
                "correct-label": "Choose the label the verdict carries.",
                "correct-public_title": "Write the claim as it circulates: what the hoax says.",
                "correct-public_explanation": (
                    "Explain to the public what is wrong, and how you know."
                ),
                "correct-note": "Tell the public what changed and why.",
                "correct-reason": "Give a reason: it is kept in the case's history.",
            },
        ),
        ({"correction": ""}, {"correct-correction": "Write the correction: what is true instead."}),
        (
            {"correction": "c" * 281},
            {
                "correct-correction": (
                    "Keep the correction to one sentence of at most 280 characters."
                )
            },
        ),
        (
            {"public_title": "t" * 201},
            {"correct-public_title": "Keep the claim to 200 characters."},
        ),
        ({"note": "n" * 501}, {"correct-note": "Keep the note to 500 characters."}),
    ],
)
def test_a_correction_checks_its_fields(
    session: Session,
    world: World,
    make_case: MakeCase,
    browser: Browser,
    changes: dict[str, str],
    errors: dict[str, str],
) -> None:
    case = published(session, make_case, world)
    refused = propose(browser(world.mod_a), case, **changes)
    assert refused.status_code == 422
    assert errors_of(refused) == errors
    form = html(refused).select_one("#form-correct")
    assert form.has_attr("open")
    assert form.select_one("[name=note]").get_text() == {**FIELDS, **changes}["note"]
    assert corrections_of(session, case) == []


def test_satire_needs_no_correction(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = published(session, make_case, world)
    done(propose(browser(world.mod_a), case, label="SATIRE", correction=""))
    (waiting,) = corrections_of(session, case)
    assert waiting.label == Verdict.SATIRE and waiting.correction == ""


def test_an_unpublished_case_cannot_be_corrected(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    for status in ("new", "awaiting_approval", "not_hoax"):
        case = make_case(world.a, status=status)
        refused = propose(browser(world.mod_a), case)
        assert refused.status_code == 409, status
        assert problem(refused) == "Only a published verdict can be corrected."
        assert corrections_of(session, case) == []


# --- approving ---------------------------------------------------------------------------


def test_a_second_moderator_approves_and_the_verdict_page_changes(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = published(session, make_case, world, canonical_url="https://example.com/hoaks")
    old_title = case.public_title
    ayu, budi = browser(world.mod_a), browser(world.mod_a2)
    done(propose(ayu, case))
    (waiting,) = corrections_of(session, case)

    refused = post(ayu, approve_url(case, waiting), reason="Saya setuju dengan diri sendiri.")
    assert refused.status_code == 403
    assert problem(refused) == (
        "You proposed this correction, so another moderator has to approve it."
    )
    refused = post(budi, approve_url(case, waiting), reason="")
    assert refused.status_code == 422
    assert errors_of(refused) == {
        "approve_correction-reason": "Give a reason: it is kept in the case's history."
    }
    assert reload(session, case).public_title == old_title

    before = utcnow()
    location = done(post(budi, approve_url(case, waiting), reason="Sumbernya benar."))
    assert location.endswith("done=corrected")
    stored = reload(session, case)
    assert stored.status == CaseStatus.PUBLISHED
    assert (stored.label, stored.public_title, stored.correction) == (
        Verdict.MENYESATKAN,
        FIELDS["public_title"],
        FIELDS["correction"],
    )
    assert stored.corrected_at is not None and stored.corrected_at >= before
    assert stored.approved_by_id == world.mod_a2.id  # the verdict's approver is kept
    (applied,) = corrections_of(session, case)
    assert applied.approved_by_id == world.mod_a2.id and applied.approved_at is not None
    event = events(session, case)[-1]
    assert event.action == AuditAction.CASE_CORRECT and event.reason == "Sumbernya benar."
    data = json.loads(event.data)
    assert data["step"] == "approved"
    assert data["old"]["public_title"] == old_title and data["old"]["label"] == "SALAH"
    assert data["new"]["public_title"] == FIELDS["public_title"]
    assert data["new"]["label"] == "MENYESATKAN"

    # The public page: the new text, the note with its date, and ClaimReview's dateModified.
    public = browser(None).get(f"/hoaxes/{case.id}")
    page = html(public)
    assert page.select_one("h1 q.claim-text").get_text() == FIELDS["public_title"]
    assert page.select_one(".fact-text").get_text() == FIELDS["correction"]
    notes = [p.get_text(" ", strip=True) for p in page.select("#corrections .correction-note")]
    assert notes == [f"Corrected on {english_day(stored.corrected_at)}: {FIELDS['note']}"]
    review = json.loads(page.select_one("script[type='application/ld+json']").string)
    assert review["dateModified"] == stored.corrected_at.strftime("%Y-%m-%d")
    assert review["claimReviewed"] == FIELDS["public_title"]
    assert review["reviewRating"]["alternateName"] == "MENYESATKAN"

    # Nothing waits now: the same correction cannot be approved twice.
    again = post(browser(world.admin_a), approve_url(case, waiting), reason="Lagi.")
    assert again.status_code == 404


def test_every_approved_correction_is_listed_newest_first_in_both_languages(
    session: Session,
    world: World,
    make_case: MakeCase,
    access: Access,
    new_client: Callable[..., TestClient],
) -> None:
    case = published(session, make_case, world)
    first_day = utcnow() - timedelta(days=3)
    for n, (proposer, approver, when) in enumerate(
        [(world.mod_a, world.mod_a2, first_day), (world.mod_a2, world.mod_a, None)]
    ):
        form = moderation.CorrectionForm(**{**FIELDS, "note": f"Catatan {n}"})
        made = moderation.propose_correction(
            session, access=access(proposer), case_id=case.id or 0, form=form
        )
        moderation.approve_correction(
            session,
            access=access(approver),
            case_id=case.id or 0,
            correction_id=made.id or 0,
            reason="Benar.",
            now=when,
        )
    today = english_day(utcnow())
    english = html(new_client(lang="en").get(f"/hoaxes/{case.id}"))
    notes = [p.get_text(" ", strip=True) for p in english.select("#corrections .correction-note")]
    assert notes == [
        f"Corrected on {today}: Catatan 1",
        f"Corrected on {english_day(first_day)}: Catatan 0",
    ]
    indonesian = html(new_client(lang="id").get(f"/hoaxes/{case.id}"))
    i18n.set_locale("id")
    corrected_on = i18n.translations("id").gettext("Corrected on %(date)s:") % {
        "date": i18n.day(utcnow())
    }
    first = indonesian.select_one("#corrections .correction-note")
    assert first.get_text(" ", strip=True) == f"{corrected_on} Catatan 1"
    assert indonesian.select_one("html")["lang"] == "id"


def test_approving_needs_a_waiting_correction_of_this_case(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = published(session, make_case, world)
    other = published(session, make_case, world)
    ayu, budi = browser(world.mod_a), browser(world.mod_a2)
    assert post(budi, approve_url(case, 999_999), reason="Ada?").status_code == 404
    done(propose(ayu, other))
    (elsewhere,) = corrections_of(session, other)
    # Another case's correction, through this case's address: not found, nothing changed.
    assert post(budi, approve_url(case, elsewhere), reason="Salah alamat.").status_code == 404
    assert post(budi, approve_url(case, elsewhere, "withdraw"), reason="x").status_code == 404
    assert reload(session, other).public_title != FIELDS["public_title"]
    assert corrections_of(session, other)[0].approved_at is None


def test_the_service_refuses_a_correction_of_a_case_no_longer_published(
    session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    case = make_case(world.a, status="not_hoax")
    session.add(Correction(case_id=case.id or 0, label=Verdict.SALAH, public_title="x", note="y"))
    session.commit()
    (waiting,) = corrections_of(session, case)
    with pytest.raises(Conflict):
        moderation.approve_correction(
            session,
            access=access(world.mod_a2),
            case_id=case.id or 0,
            correction_id=waiting.id or 0,
            reason="Benar.",
        )
    with pytest.raises(Forbidden):
        published_case = published(session, make_case, world)
        form = moderation.CorrectionForm(**FIELDS)
        made = moderation.propose_correction(
            session, access=access(world.mod_a), case_id=published_case.id or 0, form=form
        )
        moderation.approve_correction(
            session,
            access=access(world.mod_a),
            case_id=published_case.id or 0,
            correction_id=made.id or 0,
            reason="Sendiri.",
        )


# --- withdrawing --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["mod_a", "admin_a"])
def test_the_proposer_or_another_moderator_withdraws_a_waiting_correction(
    session: Session, world: World, make_case: MakeCase, browser: Browser, who: str
) -> None:
    case = published(session, make_case, world)
    done(propose(browser(world.mod_a), case))
    waiting = corrections_of(session, case)[0].id or 0
    client = browser(getattr(world, who))
    refused = post(client, approve_url(case, waiting, "withdraw"), reason="")
    assert refused.status_code == 422
    assert errors_of(refused) == {
        "withdraw_correction-reason": "Give a reason: it is kept in the case's history."
    }
    location = done(post(client, approve_url(case, waiting, "withdraw"), reason="Belum perlu."))
    assert location.endswith("done=correction-withdrawn")
    assert corrections_of(session, case) == []
    stored = reload(session, case)
    assert stored.public_title != FIELDS["public_title"] and stored.corrected_at is None
    event = events(session, case)[-1]
    assert event.action == AuditAction.CASE_CORRECT and event.reason == "Belum perlu."
    data = json.loads(event.data)
    assert data["step"] == "withdrawn" and data["note"] == FIELDS["note"]
    assert data["new"]["public_title"] == FIELDS["public_title"]
    # Withdrawn, it no longer waits; another correction may be proposed now.
    again = post(client, approve_url(case, waiting, "withdraw"), reason="Lagi.")
    assert again.status_code == 404
    done(propose(browser(world.mod_a2), case))
    assert len(corrections_of(session, case)) == 1


# --- who may ---------------------------------------------------------------------------


def test_a_moderator_of_another_organisation_finds_nothing_and_anonymous_signs_in(
    session: Session, world: World, make_case: MakeCase, browser: Browser
) -> None:
    case = published(session, make_case, world)
    done(propose(browser(world.mod_a), case))
    (waiting,) = corrections_of(session, case)
    dewi = browser(world.mod_b)
    assert propose(dewi, case).status_code == 404
    for action in ("approve", "withdraw"):
        assert post(dewi, approve_url(case, waiting, action), reason="x").status_code == 404
    anonymous = browser(None)
    for path in (
        case_url(case, "correct"),
        approve_url(case, waiting),
        approve_url(case, waiting, "withdraw"),
    ):
        response = anonymous.post(path, data={"csrf_token": CSRF, **FIELDS})
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
    (still,) = corrections_of(session, case)
    assert still.approved_at is None
    assert reload(session, case).public_title != FIELDS["public_title"]
