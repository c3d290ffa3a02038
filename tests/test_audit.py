"""The audit log read back: one event by its id."""

from __future__ import annotations

from sqlmodel import Session

from pledge import audit


def test_an_audit_event_is_read_back_by_its_id(session: Session) -> None:
    event = audit.record(
        session, actor_id=None, action="privacy.erase", subject="contact:abc", data={"n": 1}
    )
    session.commit()
    found = audit.get_event(session, event.id or 0)
    assert found is not None
    assert (found.action, found.subject, found.data) == ("privacy.erase", "contact:abc", '{"n": 1}')
    assert audit.get_event(session, (event.id or 0) + 1) is None
