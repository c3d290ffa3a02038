"""A reporter may allow moderators to write to them: the case's moderators then see the
contact while the case is open, and write from the case page; the message goes through the
outbox in the reporter's language and lands in the case's history."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pledge import i18n
from pledge.config import get_settings
from pledge.hoaxes.models import CaseStatus, HoaxCase, HoaxReport
from pledge.i18n import translations
from pledge.mail import Channel
from pledge.moderation import service as moderation
from pledge.moderation.service import reporters
from pledge.security import FieldCipher
from tests.support.db import events, fresh, outbox
from tests.support.forms import code_of, post_report
from tests.support.moderation import Access, Browser, World, case_url, post
from tests.support.pages import errors_of, html
from tests.support.settings import UseSettings

Reporter = Callable[..., HoaxReport]


@pytest.fixture
def reporter(new_client: Callable[..., TestClient], world: World, session: Session) -> Reporter:
    """A report sent through the form, in a language, with a contact and the box ticked or
    not; all of one post, so that they join one case."""

    def send(
        contact: str = "rina@example.com", *, may: bool = True, lang: str = "id"
    ) -> HoaxReport:
        fields = {"contact": contact, "url": "https://www.tiktok.com/@a/video/7300000000000000001"}
        if may:
            fields["may_contact"] = "on"
        code = code_of(post_report(new_client(lang=lang), world.a, **fields))
        return fresh(session).exec(select(HoaxReport).where(HoaxReport.tracking_code == code)).one()

    return send


@contextmanager
def force_locale(locale: str) -> Iterator[None]:
    before = i18n.get_locale()
    i18n.set_locale(locale)
    try:
        yield
    finally:
        i18n.set_locale(before)


def message_url(report: HoaxReport) -> str:
    return case_url(report.case_id, f"reports/{report.id}/message")


def close(session: Session, case_id: int, status: CaseStatus = CaseStatus.REJECTED) -> None:
    case = fresh(session).get(HoaxCase, case_id)
    assert case is not None
    case.status = status
    session.add(case)
    session.commit()


# --- the report form -------------------------------------------------------------------


def test_the_report_form_asks_whether_a_moderator_may_write(
    client: TestClient, world: World, session: Session
) -> None:
    page = html(client.get(f"/c/{world.a.slug}/report?lang=en"))
    box = page.select_one("input[name=may_contact]")
    assert box is not None and box["type"] == "checkbox" and not box.has_attr("checked")
    assert "A moderator may write to me about this report" in box.find_parent("label").get_text()
    hint = page.select_one("#contact-hint").get_text()
    assert "tell you the verdict" in hint and "moderator's questions" in hint


def test_the_choice_is_stored_with_the_encrypted_contact(
    reporter: Reporter, session: Session
) -> None:
    allowed = reporter("rina@example.com")
    assert allowed.may_contact is True
    cipher = FieldCipher(get_settings().secret_key)
    assert cipher.decrypt(allowed.contact_encrypted or "") == "rina@example.com"
    assert reporter("budi@example.com", may=False).may_contact is False


def test_ticking_the_box_without_a_contact_is_refused_beside_it(
    client: TestClient, world: World, session: Session
) -> None:
    response = post_report(client, world.a, contact="", may_contact="on")
    assert response.status_code == 422
    # In the reporter's language (Indonesian, the default).
    message = translations("id").gettext(
        "Give your email or mobile number above, or untick this box."
    )
    assert message != "Give your email or mobile number above, or untick this box."
    assert errors_of(response) == {"may_contact": message}
    assert fresh(session).exec(select(HoaxReport)).all() == []


# --- who sees the contact --------------------------------------------------------------


def test_the_cases_moderators_see_the_contact_only_while_it_is_open(
    reporter: Reporter, browser: Browser, world: World, session: Session
) -> None:
    allowed = reporter("rina@example.com")
    reporter("budi@example.com", may=False)
    reporter("", may=False)
    page = html(browser(world.mod_a).get(case_url(allowed.case_id)))
    shown = [p.select_one(".contact").get_text() for p in page.select(".reporter-contact")]
    assert shown == ["rina@example.com"]  # not the one who did not allow it
    assert "budi@example.com" not in page.get_text()
    assert page.select_one(f"#form-message-{allowed.id} form")["action"] == message_url(allowed)
    # The co-partner's moderators see the case, and the contact, too.
    other = html(browser(world.mod_a2).get(case_url(allowed.case_id)))
    assert other.select_one(".reporter-contact .contact").get_text() == "rina@example.com"

    # Another organisation's moderator, and visitors, see nothing of the case.
    assert browser(world.mod_b).get(case_url(allowed.case_id)).status_code == 404
    anonymous = browser(None).get(case_url(allowed.case_id))
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]

    close(session, allowed.case_id, CaseStatus.NOT_HOAX)
    closed = browser(world.mod_a).get(case_url(allowed.case_id))
    assert "rina@example.com" not in closed.text
    assert html(closed).select_one(".reporter-contact") is None


# --- writing to the reporter -----------------------------------------------------------


def test_a_message_is_queued_in_the_reporters_language_and_kept_in_the_history(
    reporter: Reporter, browser: Browser, world: World, session: Session
) -> None:
    report = reporter("rina@example.com", lang="en")
    client = browser(world.mod_a2)  # any moderator of the case: no claim needed
    text = "Halo Rina, dari grup mana pesan ini berasal?"
    response = post(client, message_url(report), message=text)
    assert response.status_code == 303
    assert response.headers["location"] == f"{case_url(report.case_id)}?done=messaged-email"

    [message] = outbox(session)
    assert (message.channel, message.to) == ("email", "rina@example.com")
    assert message.subject == "A moderator writes about your hoax report"  # English: as sent
    assert text in message.body
    assert f"http://testserver/reports/{report.tracking_code}" in message.body

    [event] = [e for e in events(session, report.case_id) if e.action == "case.message"]
    assert event.actor_id == world.mod_a2.id and event.reason == text
    assert '"channel": "email"' in event.data and f'"report": {report.id}' in event.data
    assert "rina@example.com" not in event.data + event.reason

    page = html(client.get(response.headers["location"]))
    assert "on its way to the reporter by email" in page.select_one("#done").get_text()
    rows = [r for r in page.select("#history tr.event") if r["data-action"] == "case.message"]
    assert rows[0].select_one(".action").get_text(strip=True) == "Wrote to a reporter"
    assert rows[0].select_one(".reason").get_text(strip=True) == text


def test_the_message_is_written_in_the_language_the_report_was_sent_in(
    reporter: Reporter,
    access: Access,
    world: World,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = reporter("rina@example.com", lang="id")
    assert report.locale == "id"
    asked: list[str] = []
    real = reporters.translations

    def spy(locale: str) -> Any:
        asked.append(locale)
        return real(locale)

    monkeypatch.setattr(reporters, "translations", spy)
    with force_locale("en"):  # the moderator reads the site in English
        moderation.message_reporter(
            session,
            access=access(world.mod_a),
            case_id=report.case_id,
            report_id=report.id or 0,
            form=moderation.MessageForm(message="Halo"),
            status_url=lambda code: f"https://contoh.id/reports/{code}",
        )
    assert asked == ["id"]
    [message] = outbox(session)
    assert f"https://contoh.id/reports/{report.tracking_code}" in message.body


def test_a_phone_number_is_written_to_on_whatsapp_only_when_the_site_can(
    reporter: Reporter,
    access: Access,
    browser: Browser,
    world: World,
    session: Session,
    use_settings: UseSettings,
) -> None:
    report = reporter("0812 3456 7890")
    page = html(browser(world.mod_a).get(case_url(report.case_id)))
    assert page.select_one(".reporter-contact .contact").get_text() == "+6281234567890"
    assert page.select_one(f"#form-message-{report.id}") is None  # no WhatsApp: no form
    refused = post(browser(world.mod_a), message_url(report), message="Halo")
    assert refused.status_code == 409
    assert "cannot send WhatsApp messages" in html(refused).select_one("#problem").get_text()
    assert outbox(session) == []

    use_settings(whatsapp_access_token="token", whatsapp_phone_number_id="1234567890")
    # Through the service: the route would hand the message to the Cloud API at once.
    channel = moderation.message_reporter(
        session,
        access=access(world.mod_a),
        case_id=report.case_id,
        report_id=report.id or 0,
        form=moderation.MessageForm(message="Halo, dari grup mana?"),
        status_url=lambda code: f"https://contoh.id/reports/{code}",
    )
    assert channel == Channel.WHATSAPP
    [message] = outbox(session)
    assert (message.channel, message.to) == ("whatsapp", "+6281234567890")
    assert "Halo, dari grup mana?" in message.body
    [event] = [e for e in events(session, report.case_id) if e.action == "case.message"]
    assert '"channel": "whatsapp"' in event.data


def test_bad_messages_and_reporters_who_cannot_be_written_to_are_refused(
    reporter: Reporter,
    browser: Browser,
    make_case: Callable[..., HoaxCase],
    world: World,
    session: Session,
) -> None:
    allowed = reporter("rina@example.com")
    silent = reporter("budi@example.com", may=False)
    nobody = reporter("", may=False)
    client = browser(world.mod_a)

    for message, expected in (
        ("   ", "Write the message to the reporter."),
        ("a" * 2001, "Keep the message to 2000 characters."),
    ):
        response = post(client, message_url(allowed), message=message)
        assert response.status_code == 422
        assert errors_of(response) == {f"message-{allowed.id}-message": expected}
        assert html(response).select_one(f"#form-message-{allowed.id}").has_attr("open")

    for report in (silent, nobody):
        response = post(client, message_url(report), message="Halo")
        assert response.status_code == 409
        assert "did not allow moderators to write" in html(response).select_one("#problem").text

    # A report of another case, or one that does not exist, is not found.
    other = make_case(world.a)
    elsewhere = case_url(other.id, f"reports/{allowed.id}/message")
    assert post(client, elsewhere, message="Halo").status_code == 404
    missing = case_url(allowed.case_id, "reports/999999/message")
    assert post(client, missing, message="Halo").status_code == 404

    close(session, allowed.case_id)
    response = post(client, message_url(allowed), message="Halo")
    assert response.status_code == 409
    assert "This case is closed" in html(response).select_one("#problem").get_text()
    assert outbox(session) == []
    assert [e for e in events(session, allowed.case_id) if e.action == "case.message"] == []


def test_only_the_cases_moderators_may_write(
    reporter: Reporter, browser: Browser, world: World, session: Session
) -> None:
    report = reporter("rina@example.com")
    anonymous = post(browser(None), message_url(report), message="Halo")
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    assert post(browser(world.mod_b), message_url(report), message="Halo").status_code == 404
    assert post(browser(world.plain), message_url(report), message="Halo").status_code == 403
    assert outbox(session) == []


def test_closing_the_case_still_erases_the_contact(
    reporter: Reporter, access: Access, world: World, session: Session
) -> None:
    report = reporter("rina@example.com")
    case = fresh(session).get(HoaxCase, report.case_id)
    assert case is not None
    moderation.claim(session, access=access(world.mod_a), case_id=report.case_id)
    moderation.decide(
        session,
        access=access(world.mod_a),
        case_id=report.case_id,
        form=moderation.DecisionForm(decision="rejected", reason="Spam."),
    )
    stored = fresh(session).get(HoaxReport, report.id)
    assert stored is not None and stored.contact_encrypted is None
