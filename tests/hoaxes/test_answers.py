"""A moderator asks the reporters for more information; each reporter answers on their own
report's page (text, a link, another screenshot), and the case goes back to the queue marked
as answered until a moderator decides on it again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from pledge.config import get_settings
from pledge.db import utcnow
from pledge.deps import moderator_access
from pledge.hoaxes.models import CaseStatus, HoaxCase, HoaxReport, Media, ReportAnswer
from pledge.moderation.service import DecisionForm, decide
from tests.support.db import count, events, fresh, reload
from tests.support.forms import code_of, post_report
from tests.support.images import screenshot
from tests.support.moderation import CSRF, World, case_url, make_world, post
from tests.support.pages import csrf_token, english_day, errors_of, html
from tests.support.people import sign_in

QUESTION = "Dari grup WhatsApp mana pesan ini? Kirim tangkapan layar aslinya."


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)


@pytest.fixture
def moderator(new_client: Callable[..., TestClient], world: World) -> TestClient:
    return sign_in(new_client(lang="en"), world.mod_a, csrf=CSRF)


def report(
    client: TestClient, world: World, session: Session, **fields: Any
) -> tuple[str, HoaxReport]:
    """A report of the same post (so that every one joins one case), and its stored row."""
    url = "https://www.facebook.com/hoaks/posts/777"
    code = code_of(post_report(client, world.a, url=url, **fields))
    found = fresh(session).exec(select(HoaxReport).where(HoaxReport.tracking_code == code)).one()
    return code, found


def case_of(session: Session, case_id: int) -> HoaxCase:
    found = fresh(session).get(HoaxCase, case_id)
    assert found is not None
    return found


def ask(session: Session, case_id: int, question: str = QUESTION) -> HoaxCase:
    """The case needs more information, with this question (as the decision leaves it)."""
    case = fresh(session).get(HoaxCase, case_id)
    assert case is not None
    case.status, case.question, case.answered_at = CaseStatus.NEEDS_INFO, question, None
    session.add(case)
    session.commit()
    return case


def answer(client: TestClient, code: str, *, image: bytes | None = None, **fields: str) -> Any:
    """Post the answer form from the report's page, as a browser does."""
    page = f"/reports/{code}"
    data = {"csrf_token": token_of(client), "text": "", "url": "", **fields}
    files = (
        {"screenshot": ("jawaban.png", image, "image/png")}
        if image
        else {"screenshot": ("", b"", "application/octet-stream")}
    )
    return client.post(f"{page}/answer", data=data, files=files)


def token_of(client: TestClient) -> str:
    """The browser's CSRF token, from a page that always has a form (the report's page has
    none unless the moderators ask a question)."""
    return csrf_token(client, "/c/kampanye-a/report")


def answers(session: Session) -> list[ReportAnswer]:
    return list(fresh(session).exec(select(ReportAnswer).order_by(col(ReportAnswer.id))))


# --- the question --------------------------------------------------------------------


def test_a_moderator_asks_a_question_that_the_reporter_reads_on_their_page(
    client: TestClient, moderator: TestClient, world: World, session: Session
) -> None:
    code, row = report(client, world, session)
    case = case_of(session, row.case_id)
    case.claimed_by_id, case.claim_expires_at = world.mod_a.id, utcnow().replace(year=2100)
    session.add(case)
    session.commit()

    refused = post(moderator, case_url(row.case_id, "decide"), decision="needs_info", reason="x")
    assert refused.status_code == 422
    assert errors_of(refused) == {
        "needs_info-question": "Write what you need from the reporter: they will read it on "
        "their tracking page."
    }
    too_long = post(
        moderator,
        case_url(row.case_id, "decide"),
        decision="needs_info",
        reason="x",
        question="a" * 1001,
    )
    assert errors_of(too_long) == {"needs_info-question": "Keep the question to 1000 characters."}
    assert reload(session, case).status == CaseStatus.NEW

    done = post(
        moderator,
        case_url(row.case_id, "decide"),
        decision="needs_info",
        reason="Tidak jelas sumbernya.",
        question=QUESTION,
    )
    assert done.status_code == 303
    stored = reload(session, case)
    assert (stored.status, stored.question) == (CaseStatus.NEEDS_INFO, QUESTION)
    [event] = [e for e in events(session, case) if e.action == "case.decide"]
    assert event.reason == "Tidak jelas sumbernya."  # the reason stays the moderators'

    page = html(client.get(f"/reports/{code}"))
    assert "need more information" in page.select_one(".status-text").get_text()
    assert page.select_one("#question-text").get_text(strip=True) == QUESTION
    form = page.select_one("#answer-form")
    assert form["action"] == f"/reports/{code}/answer"
    assert form["enctype"] == "multipart/form-data"
    names = {field["name"] for field in form.select("input, textarea")}
    assert names == {"csrf_token", "text", "url", "screenshot"}
    assert "Tidak jelas" not in page.get_text()


def test_no_form_while_the_case_is_not_waiting_for_information(
    client: TestClient, world: World, session: Session
) -> None:
    code, _row = report(client, world, session)
    page = html(client.get(f"/reports/{code}"))
    assert page.select_one("#answer-form") is None
    assert page.select_one("#question") is None


# --- answering -----------------------------------------------------------------------


def test_an_answer_with_text_link_and_screenshot_sends_the_case_back_to_the_queue(
    client: TestClient, world: World, session: Session
) -> None:
    code, row = report(client, world, session)
    ask(session, row.case_id)
    media_before = count(session, Media)

    response = answer(
        client,
        code,
        image=screenshot(7),
        text="Dari grup RT 05.\r\nDikirim tadi pagi.",
        url="facebook.com/hoaks/posts/778?fbclid=abc",
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/reports/{code}?done=answered"

    [stored] = answers(session)
    assert (stored.case_id, stored.report_id) == (row.case_id, row.id)
    assert stored.text == "Dari grup RT 05.\nDikirim tadi pagi."
    assert stored.url == "https://facebook.com/hoaks/posts/778?fbclid=abc"
    assert stored.canonical_url is not None and "fbclid" not in stored.canonical_url
    assert stored.media_id is not None and count(session, Media) == media_before + 1
    picture = fresh(session).get(Media, stored.media_id)
    assert picture is not None and picture.mime in {"image/png", "image/webp", "image/jpeg"}

    case = case_of(session, row.case_id)
    assert case.status == CaseStatus.NEW
    assert case.answered_at is not None
    event = events(session, case)[-1]
    assert (event.action, event.actor_id, event.reason) == ("case.answer", None, "")
    assert f'"answer": {stored.id}' in event.data and f'"report": {row.id}' in event.data

    page = html(client.get(response.headers["location"]))
    assert page.select_one("#done").get_text(strip=True) == (
        "Thank you: moderators will look at your answer."
    )
    # The day in Jakarta time, as readers write it ("6 December 2026").
    today = english_day(utcnow())
    assert page.select_one("#answered").get_text(strip=True) == f"You answered on {today}."
    assert "Being reviewed again" in page.select_one(".status-text").get_text()
    assert "Dari grup RT 05." in page.select_one(".your-answers").get_text()


def test_an_empty_answer_is_refused_beside_the_field(
    client: TestClient, world: World, session: Session
) -> None:
    code, row = report(client, world, session)
    ask(session, row.case_id)
    response = answer(client, code, text="   ")
    assert response.status_code == 422
    assert errors_of(response) == {
        "text": "Write your answer, give a link or attach a screenshot (or all three)."
    }
    assert html(response).select_one("#answer-form") is not None
    assert answers(session) == []
    assert case_of(session, row.case_id).status == CaseStatus.NEEDS_INFO


def test_bad_fields_are_shown_back_with_their_messages(
    client: TestClient, world: World, session: Session
) -> None:
    code, row = report(client, world, session)
    ask(session, row.case_id)
    response = answer(client, code, text="a" * 1001, url="bukan tautan")
    assert response.status_code == 422
    errors = errors_of(response)
    assert errors["text"] == "Keep your answer to at most 1000 characters."
    assert "space" in errors["url"]
    assert html(response).select_one("#url")["value"] == "bukan tautan"
    assert answers(session) == []


def test_a_picture_bomb_is_refused_and_nothing_is_stored(
    client: TestClient, world: World, session: Session
) -> None:
    code, row = report(client, world, session)
    ask(session, row.case_id)
    media_before = count(session, Media)
    raw = screenshot(1)
    chunks = b"".join(b"\x00\x00\x00\x00tEXt" + b"\x00" * 4 for _ in range(20_000))
    response = answer(client, code, image=raw[:33] + chunks + raw[33:], text="Ini aslinya.")
    assert response.status_code == 422
    assert errors_of(response)["screenshot"].startswith(
        "This picture's file is built in an unusual way and cannot be checked."
    )
    assert answers(session) == [] and count(session, Media) == media_before
    assert case_of(session, row.case_id).status == CaseStatus.NEEDS_INFO


def test_a_file_that_is_not_a_picture_is_refused(
    client: TestClient, world: World, session: Session
) -> None:
    code, row = report(client, world, session)
    ask(session, row.case_id)
    response = answer(client, code, image=b"%PDF-1.4 bukan gambar", text="Lihat lampiran")
    assert response.status_code == 422
    assert set(errors_of(response)) == {"screenshot"}
    assert answers(session) == []


def test_an_upload_over_the_cap_is_refused_before_it_is_read(
    client: TestClient, world: World, session: Session
) -> None:
    code, row = report(client, world, session)
    ask(session, row.case_id)
    too_big = b"\x89PNG\r\n\x1a\n" + b"\0" * (get_settings().max_upload_bytes + 1)
    response = answer(client, code, image=too_big, text="Besar sekali")
    assert response.status_code == 413
    assert answers(session) == []
    assert case_of(session, row.case_id).status == CaseStatus.NEEDS_INFO


def test_nothing_is_answerable_when_the_case_is_not_waiting(
    client: TestClient, world: World, session: Session
) -> None:
    code, _row = report(client, world, session)
    response = answer(client, code, text="Jawaban yang tidak diminta")
    assert response.status_code == 409
    assert "not waiting for an answer" in html(response).select_one("#problem").get_text()
    assert html(response).select_one(".tracking-code").get_text() == code
    assert answers(session) == []


def test_an_unknown_code_is_not_found(client: TestClient, world: World, session: Session) -> None:
    report(client, world, session)
    token = token_of(client)
    for unknown in ("zzzzzzzzzz", "nope"):
        response = client.post(
            f"/reports/{unknown}/answer",
            data={"csrf_token": token, "text": "Halo"},
            files={"screenshot": ("", b"", "application/octet-stream")},
        )
        assert response.status_code == 404
        shown = html(client.get(f"/reports/{unknown}")).select_one("main").get_text(" ", strip=True)
        assert html(response).select_one("main").get_text(" ", strip=True) == shown


def test_two_reporters_of_one_case_each_answer_and_see_only_their_own(
    client: TestClient,
    new_client: Callable[..., TestClient],
    world: World,
    session: Session,
) -> None:
    first_code, first = report(client, world, session)
    other = new_client()
    second_code, second = report(other, world, session)
    assert first.case_id == second.case_id
    ask(session, first.case_id)

    assert answer(client, first_code, text="Jawaban pertama").status_code == 303
    # Back in the queue, but still taking answers until a moderator decides.
    page = html(other.get(f"/reports/{second_code}"))
    assert page.select_one("#answer-form") is not None
    assert "Jawaban pertama" not in page.get_text()
    assert answer(other, second_code, text="Jawaban kedua").status_code == 303

    assert [(a.report_id, a.text) for a in answers(session)] == [
        (first.id, "Jawaban pertama"),
        (second.id, "Jawaban kedua"),
    ]
    case = case_of(session, first.case_id)
    assert case.status == CaseStatus.NEW and case.answered_at is not None
    assert [e.action for e in events(session, case)].count("case.answer") == 2
    mine = html(client.get(f"/reports/{first_code}")).get_text()
    theirs = html(other.get(f"/reports/{second_code}")).get_text()
    assert "Jawaban pertama" in mine and "Jawaban kedua" not in mine
    assert "Jawaban kedua" in theirs and "Jawaban pertama" not in theirs


def test_a_decision_ends_the_answers_and_clears_the_mark(
    client: TestClient, world: World, session: Session
) -> None:
    code, row = report(client, world, session)
    ask(session, row.case_id)
    assert answer(client, code, text="Ini jawabannya").status_code == 303
    case = case_of(session, row.case_id)
    case.claimed_by_id, case.claim_expires_at = world.mod_a.id, utcnow().replace(year=2100)
    session.add(case)
    session.commit()
    decide(
        session,
        access=moderator_access(world.mod_a, session),
        case_id=row.case_id,
        form=DecisionForm(decision="not_hoax", reason="Sudah jelas."),
    )
    case = reload(session, case)
    assert case.status == CaseStatus.NOT_HOAX and case.answered_at is None
    assert html(client.get(f"/reports/{code}")).select_one("#answer-form") is None
    response = answer(client, code, text="Satu lagi")
    assert response.status_code == 409
    assert len(answers(session)) == 1


def test_a_reporter_may_add_a_few_times_but_not_without_end(
    client: TestClient, world: World, session: Session
) -> None:
    code, row = report(client, world, session)
    ask(session, row.case_id)
    for n in range(5):
        assert answer(client, code, text=f"Tambahan {n}").status_code == 303
    response = answer(client, code, text="Tambahan lagi")
    assert response.status_code == 409
    assert len(answers(session)) == 5
    assert html(client.get(f"/reports/{code}")).select_one("#answer-form") is None


def test_answers_are_rate_limited(client: TestClient, world: World, session: Session) -> None:
    code, _row = report(client, world, session)
    token = token_of(client)
    # Not waiting for answers: each is refused with a 409, and still counted.
    statuses = [
        client.post(
            f"/reports/{code}/answer",
            data={"csrf_token": token, "text": "x"},
            files={"screenshot": ("", b"", "application/octet-stream")},
        ).status_code
        for _ in range(31)
    ]
    assert statuses[:30] == [409] * 30
    assert statuses[30] == 429


def test_a_forged_answer_is_refused(client: TestClient, world: World, session: Session) -> None:
    code, row = report(client, world, session)
    ask(session, row.case_id)
    token_of(client)
    response = client.post(
        f"/reports/{code}/answer",
        data={"csrf_token": "forged", "text": "Palsu"},
        files={"screenshot": ("", b"", "application/octet-stream")},
    )
    assert response.status_code == 403
    assert answers(session) == []


# --- what moderators see -------------------------------------------------------------


def test_the_queue_marks_answered_cases_and_the_case_page_shows_the_answers(
    client: TestClient,
    moderator: TestClient,
    new_client: Callable[..., TestClient],
    world: World,
    session: Session,
) -> None:
    code, row = report(client, world, session)
    ask(session, row.case_id)
    queue = html(moderator.get("/mod"))
    assert queue.select_one(f"#case-{row.case_id} .badge.answered") is None

    assert answer(client, code, image=screenshot(9), text="Ini aslinya").status_code == 303
    queue = html(moderator.get("/mod"))
    assert queue.select_one(f"#case-{row.case_id} .badge.answered").get_text() == "Answered"

    page = html(moderator.get(case_url(row.case_id)))
    assert page.select_one("#question").get_text(strip=True) == QUESTION
    [stored] = answers(session)
    card = page.select_one(f"#answer-{stored.id}")
    assert card.select_one(".answer-text").get_text() == "Ini aslinya"
    src = card.select_one("img")["src"]
    assert src == f"/media/{stored.media_id}"
    assert moderator.get(src).status_code == 200

    # Nobody else sees the answer's screenshot: a visitor, the reporter, another campaign's
    # moderator.
    assert new_client().get(src).status_code == 404
    assert client.get(src).status_code == 404
    other = sign_in(new_client(), world.mod_b, csrf=CSRF)
    assert other.get(src).status_code == 404
    assert other.get(case_url(row.case_id)).status_code == 404

    history = page.select("#history tr.event")
    answered = [r for r in history if r["data-action"] == "case.answer"]
    assert answered[0].select_one(".actor").get_text(strip=True) == "a reporter"
    assert answered[0].select_one(".action").get_text(strip=True) == (
        "A reporter answered the question"
    )
