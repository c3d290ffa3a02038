"""The audit log read back: one event by its id; and the kinds of event, each named in the
reader's language, one the site does not know shown as it is stored."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from pledge import audit, i18n
from pledge.audit import AuditAction


def test_an_audit_event_is_read_back_by_its_id(session: Session) -> None:
    event = audit.record(
        session, actor_id=None, action="privacy.erase", subject="contact:abc", data={"n": 1}
    )
    session.commit()
    found = audit.get_event(session, event.id or 0)
    assert found is not None
    assert (found.action, found.subject, found.data) == ("privacy.erase", "contact:abc", '{"n": 1}')
    assert audit.get_event(session, (event.id or 0) + 1) is None


def test_an_action_is_stored_by_its_name(session: Session) -> None:
    audit.record(session, actor_id=None, action=AuditAction.CASE_CLAIM, subject="case:1")
    session.commit()
    [event] = audit.list_events(session, action="case.claim")
    assert event.action == "case.claim" == AuditAction.CASE_CLAIM
    assert event.label == "Claimed"


@pytest.mark.parametrize(
    ("action", "english", "indonesian"),
    [
        (AuditAction.CASE_CLAIM, "Claimed", "Mengklaim"),
        (AuditAction.ADMIN_USER_DEACTIVATE, "Deactivated", "Dinonaktifkan"),
        (AuditAction.MEMBER_INVITE, "Invited a member", "Mengundang anggota"),
        (AuditAction.PRIVACY_ERASE, "Erased a person's data", "Menghapus data seseorang"),
    ],
)
def test_an_action_is_named_in_the_reader_s_language(
    action: AuditAction, english: str, indonesian: str
) -> None:
    assert action.label == english
    i18n.set_locale("id")
    assert action.label == indonesian


def test_every_action_has_a_name_of_its_own_in_both_languages() -> None:
    english = {action: action.label for action in AuditAction}
    i18n.set_locale("id")
    indonesian = {action: action.label for action in AuditAction}
    assert all(name and name != action.value for action, name in english.items())
    assert all(indonesian[action] != english[action] for action in AuditAction)


def test_an_action_the_site_does_not_know_is_shown_as_stored() -> None:
    """Written by a newer version of the site, or by one since retired."""
    assert audit.action_label("case.forecast") == "case.forecast"
    assert audit.action_label("admin.user.deactivate") == "Deactivated"
    event = audit.AuditEvent(action="case.forecast", subject="case:1")
    assert event.label == "case.forecast"
