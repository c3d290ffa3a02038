"""Reporters' contacts: the reports a contact sent, found for a personal data request, and the
contacts removed on request or, by retention, from closed cases.

A reporter's contact is kept (encrypted) while their case is open, and, once its verdict is
published, for CORRECTION_WINDOW after publication, to tell them of a correction; moderation
removes it when it closes the case in any other status (see
pledge.moderation.service.cases.forget_contacts), and retention once the window has passed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from pledge.contacts import dedup_key
from pledge.db import utcnow, writing
from pledge.hoaxes.models import CLOSED_STATUSES, hoax_case_table, hoax_report_table
from pledge.hoaxes.service.notify import CORRECTION_WINDOW
from pledge.hoaxes.states import CaseStatus
from pledge.security import FieldCipher

BATCH = 1000


def _ids_with_contact(session: Session, *, contact: str, cipher: FieldCipher) -> list[int]:
    """The reports whose stored contact is this one, however either was written (compared
    by their deduplication keys, as supporters are recognised)."""
    # Reporters' contacts are encrypted with a random IV, so they cannot be looked up: every
    # stored one is decrypted and compared. Only open cases and verdicts published in the last
    # CORRECTION_WINDOW keep contacts, so there are few.
    report_t = hoax_report_table
    wanted = dedup_key(contact)
    matched: list[int] = []
    after = 0
    while True:
        batch = session.execute(
            sa.select(report_t.c.id, report_t.c.contact_encrypted)
            .where(report_t.c.contact_encrypted.is_not(None), report_t.c.id > after)
            .order_by(report_t.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            break
        matched += [
            row.id
            for row in batch
            if dedup_key(cipher.decrypt(row.contact_encrypted) or "") == wanted
        ]
        after = batch[-1].id
    return matched


def list_reports_by_contact(
    session: Session, *, contact: str, cipher: FieldCipher
) -> Sequence[sa.Row[Any]]:
    """The reports sent with this (normalised) contact, in the order they came, each with
    every column of its row and its case's status as ``case_status``."""
    matched = _ids_with_contact(session, contact=contact, cipher=cipher)
    if not matched:
        return []
    report_t, case_t = hoax_report_table, hoax_case_table
    return session.execute(
        sa.select(report_t, case_t.c.status.label("case_status"))
        .join(case_t, case_t.c.id == report_t.c.case_id)
        .where(report_t.c.id.in_(matched))
        .order_by(report_t.c.id)
    ).all()


def clear_contacts(session: Session, *, report_ids: Collection[int]) -> int:
    """Remove the stored contact from these reports; how many still had one. Runs inside the
    caller's write transaction."""
    if not report_ids:
        return 0
    report_t = hoax_report_table
    cleared = session.execute(
        sa.update(report_t)
        .where(report_t.c.id.in_(report_ids), report_t.c.contact_encrypted.is_not(None))
        .values(contact_encrypted=None)
    ).rowcount  # type: ignore[attr-defined]
    return int(cleared)


def _forgettable(now: datetime) -> sa.ColumnElement[bool]:
    """The cases whose reporters' contacts are kept no longer: closed in any status but
    published, or published more than CORRECTION_WINDOW ago."""
    case_t = hoax_case_table
    others = sorted(status.value for status in CLOSED_STATUSES if status != CaseStatus.PUBLISHED)
    return sa.or_(
        case_t.c.status.in_(others),
        sa.and_(
            case_t.c.status == CaseStatus.PUBLISHED.value,
            sa.or_(
                case_t.c.published_at.is_(None),
                case_t.c.published_at <= now - CORRECTION_WINDOW,
            ),
        ),
    )


def forget_closed_contacts(
    session: Session, *, now: datetime | None = None, batch: int = BATCH
) -> int:
    """Remove the reporters' contacts that closed cases keep no longer, a batch per write
    transaction; how many were removed: those of verdicts published more than
    CORRECTION_WINDOW ago (kept until then to tell of a correction), and any left on a case
    closed otherwise (closing it removes them: this catches a case closed before that rule)."""
    now = now or utcnow()
    report_t, case_t = hoax_report_table, hoax_case_table
    done = 0
    while True:
        with writing(session):
            ids = list(
                session.execute(
                    sa.select(report_t.c.id)
                    .join(case_t, case_t.c.id == report_t.c.case_id)
                    .where(report_t.c.contact_encrypted.is_not(None), _forgettable(now))
                    .order_by(report_t.c.id)
                    .limit(batch)
                ).scalars()
            )
            if not ids:
                break
            result = session.execute(
                sa.update(report_t)
                .where(report_t.c.id.in_(ids), report_t.c.contact_encrypted.is_not(None))
                .values(contact_encrypted=None)
            )
            done += int(result.rowcount)  # type: ignore[attr-defined]
    return done
