"""Invalidations: signatures taken off a campaign's count by an administrator, a batch per
transaction, and put back by a restore.

A run is recorded (`Invalidation`) before its first batch, and moves on after the answer to
the administrator, in the background of the process that took it: each batch is one short
write transaction that moves its supporters to INVALIDATED, remembers the state each had,
and moves the counters with them, so that the counts equal a recount after every batch. The
run reads its cancel flag in the database before each batch, so any process can cancel it.
A run whose process died (a restart) stops sending its heartbeat; it can be resumed where
it stopped. A restore moves the same way, a batch at a time, each supporter back to where it
stood (a pending one confirmed meanwhile enters the count with the next place).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from pledge import audit
from pledge.audit import AuditAction
from pledge.campaigns.models import CampaignView, PartnerView
from pledge.config import get_settings
from pledge.db import utcnow, writing
from pledge.errors import Conflict, NotFound
from pledge.i18n import gettext as _
from pledge.security import random_token
from pledge.supporters.models import (
    MOVING_INVALIDATIONS,
    OUTSIDE_KEYS,
    SHOWN_INVALIDATIONS,
    TOTAL,
    Invalidation,
    InvalidationStatus,
    SupporterState,
    invalidated_supporter_table,
    invalidation_table,
    partner_key,
    pledge_key,
    signature_table,
    supporter_table,
)
from pledge.supporters.service.known import lock_campaign
from pledge.supporters.service.matching import Filter, conditions, describe, network_of, preview
from pledge.supporters.service.tallies import add_to_tallies, invalidate_counts

log = logging.getLogger(__name__)

# A moving run that has not finished a batch for this long lost its process: it can be
# resumed.
STALLED_AFTER = timedelta(minutes=2)

# How the audit log names what was done to signatures.
INVALIDATE = AuditAction.SUPPORTERS_INVALIDATE
INVALIDATE_CANCEL = AuditAction.SUPPORTERS_INVALIDATE_CANCEL
INVALIDATE_RESUME = AuditAction.SUPPORTERS_INVALIDATE_RESUME
INVALIDATE_RESTORE = AuditAction.SUPPORTERS_INVALIDATE_RESTORE


def subject(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


# --- starting, cancelling, resuming, restoring -----------------------------------------------


def start(
    session: Session, *, view: CampaignView, found: Filter, reason: str, actor_id: int | None
) -> Invalidation:
    """Record an invalidation and its audit event; `advance` then moves it. It takes the
    supporters the filter matches among those who had signed by now."""
    with writing(session):
        matched = preview(session, campaign_id=view.id, found=found)
        last_id = session.execute(
            sa.select(sa.func.coalesce(sa.func.max(supporter_table.c.id), 0)).where(
                supporter_table.c.campaign_id == view.id
            )
        ).scalar_one()
        run = Invalidation(
            campaign_id=view.id,
            actor_id=actor_id,
            reason=reason,
            network=str(found.network) if found.network is not None else None,
            email_domain=found.email_domain,
            partner_id=found.partner.id if found.partner else None,
            partner_slug=found.partner.slug if found.partner else None,
            since=found.since,
            until=found.until,
            name_pattern=found.name_pattern,
            supporter_ids=",".join(str(i) for i in found.supporter_ids) or None,
            suspects_only=found.suspects_only,
            matched=matched.matched,
            matched_counted=matched.counted,
            last_id=int(last_id),
            runner=random_token(12),
        )
        session.add(run)
        session.flush()
        audit.record(
            session,
            actor_id=actor_id,
            action=INVALIDATE,
            subject=subject(view.id),
            reason=reason,
            data={
                "invalidation": run.id,
                "filter": describe(found),
                "matched": matched.matched,
                "counted": matched.counted,
            },
        )
    return run


def get(session: Session, *, campaign_id: int, run_id: int) -> Invalidation:
    """One invalidation of the campaign; NotFound for any other."""
    session.expire_all()
    run = session.get(Invalidation, run_id)
    if run is None or run.campaign_id != campaign_id:
        raise NotFound(_("We could not find that invalidation."))
    return run


def list_runs(session: Session, *, campaign_id: int, limit: int = 50) -> list[Invalidation]:
    """The campaign's invalidations, newest first."""
    return list(
        session.exec(
            select(Invalidation)
            .where(Invalidation.campaign_id == campaign_id)
            .order_by(col(Invalidation.id).desc())
            .limit(limit)
        )
    )


def stalled(run: Invalidation, *, now: datetime | None = None) -> bool:
    """Whether a moving run has lost the process that moved it."""
    now = now or utcnow()
    return run.status in MOVING_INVALIDATIONS and now - run.heartbeat_at > STALLED_AFTER


def cancel(
    session: Session, *, campaign_id: int, run_id: int, reason: str, actor_id: int | None
) -> Invalidation:
    """Ask a running invalidation to stop before its next batch; what it has done stays
    done (a restore puts it back)."""
    with writing(session):
        run = get(session, campaign_id=campaign_id, run_id=run_id)
        if run.status != InvalidationStatus.RUNNING:
            raise Conflict(_("This invalidation is not running: there is nothing to cancel."))
        values: dict[str, Any] = {"cancel_requested": True}
        if stalled(run):
            # Nobody is moving it: it stops here.
            values.update(status=InvalidationStatus.CANCELLED, finished_at=utcnow())
        _update(session, run.id or 0, **values)
        _record(session, run, INVALIDATE_CANCEL, reason, actor_id)
    return get(session, campaign_id=campaign_id, run_id=run_id)


def resume(
    session: Session, *, campaign_id: int, run_id: int, reason: str, actor_id: int | None
) -> Invalidation:
    """Take over a run (or restore) whose process died, where it stopped."""
    with writing(session):
        run = get(session, campaign_id=campaign_id, run_id=run_id)
        if not stalled(run):
            raise Conflict(_("This invalidation is moving on already: there is nothing to resume."))
        _update(session, run.id or 0, runner=random_token(12), heartbeat_at=utcnow())
        _record(session, run, INVALIDATE_RESUME, reason, actor_id)
    return get(session, campaign_id=campaign_id, run_id=run_id)


def restore(
    session: Session, *, campaign_id: int, run_id: int, reason: str, actor_id: int | None
) -> Invalidation:
    """Start putting an invalidation's supporters back where they stood; `advance` moves it."""
    with writing(session):
        run = get(session, campaign_id=campaign_id, run_id=run_id)
        if run.status not in (InvalidationStatus.DONE, InvalidationStatus.CANCELLED):
            raise Conflict(_("Only a finished or cancelled invalidation can be restored."))
        _update(
            session,
            run.id or 0,
            status=InvalidationStatus.RESTORING,
            cursor=0,
            runner=random_token(12),
            heartbeat_at=utcnow(),
            restored_by_id=actor_id,
            restore_reason=reason,
        )
        _record(session, run, INVALIDATE_RESTORE, reason, actor_id)
    # The campaign page's note goes with the first batch's new counts; in this process, now.
    invalidate_counts(campaign_id)
    return get(session, campaign_id=campaign_id, run_id=run_id)


def _record(
    session: Session, run: Invalidation, action: AuditAction, reason: str, actor_id: int | None
) -> None:
    audit.record(
        session,
        actor_id=actor_id,
        action=action,
        subject=subject(run.campaign_id),
        reason=reason,
        data={"invalidation": run.id, "invalidated": run.invalidated},
    )


def _update(session: Session, run_id: int, **values: Any) -> None:
    """Change some columns of a run, and only those: the runner and a cancel may write the
    same row at once."""
    session.execute(
        sa.update(invalidation_table).where(invalidation_table.c.id == run_id).values(**values)
    )


# --- moving a batch at a time ------------------------------------------------------------------


@dataclass(slots=True)
class _Progress:
    """What one batch did, for the run's row."""

    moved: int = 0
    counted: int = 0
    cursor: int = 0


def advance(
    session: Session,
    *,
    run_id: int,
    runner: str,
    batch: int | None = None,
    between: Callable[[Invalidation], None] | None = None,
) -> None:
    """Move a run (or its restore), a batch per transaction, until it is done, cancelled, or
    taken over by another runner. `between` is called after each batch."""
    size = batch or get_settings().invalidation_batch
    where: list[Any] | None = None
    while True:
        with writing(session):
            run = _claim(session, run_id=run_id, runner=runner)
            if run is None:
                return
            if run.status == InvalidationStatus.RUNNING:
                if where is None:
                    where = conditions(session, campaign_id=run.campaign_id, found=_filter_of(run))
                more = _invalidate_batch(session, run, where, size)
            else:
                more = _restore_batch(session, run, size)
        invalidate_counts(run.campaign_id)
        if not more:
            return
        if between is not None:
            between(run)


def _claim(session: Session, *, run_id: int, runner: str) -> Invalidation | None:
    """The run, read under its campaign's lock, if this runner still moves it; a cancelled
    one is marked so here, before its next batch."""
    campaign_id = session.execute(
        sa.select(invalidation_table.c.campaign_id).where(invalidation_table.c.id == run_id)
    ).scalar_one_or_none()
    if campaign_id is None:
        return None
    lock_campaign(session.connection(), campaign_id)
    session.expire_all()
    run = session.get(Invalidation, run_id)
    if run is None or run.runner != runner or run.status not in MOVING_INVALIDATIONS:
        return None
    if run.status == InvalidationStatus.RUNNING and run.cancel_requested:
        _update(session, run_id, status=InvalidationStatus.CANCELLED, finished_at=utcnow())
        return None
    return run


def _filter_of(run: Invalidation) -> Filter:
    """The filter a run was started with, as stored on its row."""
    picked = tuple(int(i) for i in (run.supporter_ids or "").split(",") if i)
    partner = None
    if run.partner_id is not None:
        partner = PartnerView(
            id=run.partner_id,
            slug=run.partner_slug or "",
            name="",
            website=None,
            referral_code="",
            is_lead=False,
        )
    return Filter(
        network=network_of(run.network),
        email_domain=run.email_domain,
        partner=partner,
        since=run.since,
        until=run.until,
        name_pattern=run.name_pattern,
        supporter_ids=picked,
        suspects_only=run.suspects_only,
    )


def _invalidate_batch(session: Session, run: Invalidation, where: list[Any], size: int) -> bool:
    """Take the next batch of matching supporters off their counts; whether there may be
    more."""
    conn = session.connection()
    rows = conn.execute(
        sa.select(supporter_table.c.id, supporter_table.c.state, supporter_table.c.referrer_id)
        .where(*where, supporter_table.c.id > run.cursor, supporter_table.c.id <= run.last_id)
        .order_by(supporter_table.c.id)
        .limit(size)
    ).all()
    now = utcnow()
    if not rows:
        _update(
            session, run.id or 0, status=InvalidationStatus.DONE, finished_at=now, heartbeat_at=now
        )
        return False
    ids = [row.id for row in rows]
    conn.execute(
        sa.update(supporter_table)
        .where(supporter_table.c.id.in_(ids))
        .values(state=SupporterState.INVALIDATED)
    )
    conn.execute(
        sa.insert(invalidated_supporter_table),
        [
            {"invalidation_id": run.id, "supporter_id": row.id, "previous_state": row.state}
            for row in rows
        ],
    )
    counted = move_counts(conn, run.campaign_id, rows, delta=-1, now=now)
    done = len(rows) < size
    _update(
        session,
        run.id or 0,
        cursor=ids[-1],
        invalidated=invalidation_table.c.invalidated + len(rows),
        invalidated_counted=invalidation_table.c.invalidated_counted + counted,
        heartbeat_at=now,
        **({"status": InvalidationStatus.DONE, "finished_at": now} if done else {}),
    )
    return not done


def move_counts(
    conn: sa.Connection, campaign_id: int, rows: Sequence[Any], *, delta: int, now: datetime
) -> int:
    """Move the counters of supporters leaving (-1) or entering (+1) the states in `rows`
    (id, state, referrer_id): the counted ones' total, pledges and partner, the others'
    counter of their state. How many of them were counted."""
    counted_ids = [row.id for row in rows if row.state == SupporterState.COUNTED]
    deltas: dict[tuple[str, int | None, int | None], int] = {}

    def add(key: str, pledge_id: int | None = None, partner_id: int | None = None) -> None:
        deltas[(key, pledge_id, partner_id)] = deltas.get((key, pledge_id, partner_id), 0) + delta

    for row in rows:
        if row.state == SupporterState.COUNTED:
            add(TOTAL)
            if row.referrer_id is not None:
                add(partner_key(row.referrer_id), partner_id=row.referrer_id)
        elif row.state in OUTSIDE_KEYS:
            add(OUTSIDE_KEYS[SupporterState(row.state)])
    if counted_ids:
        for pledge_id, n in conn.execute(
            sa.select(signature_table.c.pledge_id, sa.func.count())
            .where(signature_table.c.supporter_id.in_(counted_ids))
            .group_by(signature_table.c.pledge_id)
        ):
            deltas[(pledge_key(pledge_id), pledge_id, None)] = delta * int(n)
    add_to_tallies(
        conn,
        [
            (campaign_id, key, pledge_id, partner_id, value)
            for (key, pledge_id, partner_id), value in sorted(deltas.items())
            if value
        ],
        now=now,
    )
    return len(counted_ids)


def _restore_batch(session: Session, run: Invalidation, size: int) -> bool:
    """Put the next batch of a run's supporters back where they stood; whether there may be
    more. One who left the invalidated state since (withdrawn, deleted) is left alone."""
    conn = session.connection()
    items = invalidated_supporter_table.c
    rows = conn.execute(
        sa.select(
            items.supporter_id.label("id"),
            items.previous_state,
            supporter_table.c.state,
            supporter_table.c.confirmed_at,
            supporter_table.c.referrer_id,
        )
        .join(supporter_table, supporter_table.c.id == items.supporter_id)
        .where(items.invalidation_id == run.id, items.supporter_id > run.cursor)
        .order_by(items.supporter_id)
        .limit(size)
    ).all()
    now = utcnow()
    back = [row for row in rows if row.state == SupporterState.INVALIDATED]
    entering = _put_back(conn, run.campaign_id, back)
    move_counts(conn, run.campaign_id, entering, delta=1, now=now)
    done = len(rows) < size
    values: dict[str, Any] = {
        "heartbeat_at": now,
        "restored": invalidation_table.c.restored + len(back),
    }
    if rows:
        values["cursor"] = rows[-1].id
    if done:
        values.update(status=InvalidationStatus.RESTORED, restored_at=now)
    _update(session, run.id or 0, **values)
    return not done


@dataclass(frozen=True, slots=True)
class _Back:
    id: int
    state: SupporterState
    referrer_id: int | None


def _put_back(conn: sa.Connection, campaign_id: int, rows: list[Any]) -> list[_Back]:
    """Give each supporter their state before the invalidation: a pending one that was
    confirmed meanwhile is counted, with the next place in the campaign."""
    entering: list[_Back] = []
    by_state: dict[SupporterState, list[int]] = {}
    placed: list[dict[str, Any]] = []
    for row in rows:
        state = SupporterState(row.previous_state)
        if state == SupporterState.PENDING and row.confirmed_at is not None:
            state = SupporterState.COUNTED
            placed.append({"supporter_id": row.id})
        else:
            by_state.setdefault(state, []).append(row.id)
        entering.append(_Back(row.id, state, row.referrer_id))
    for state, ids in sorted(by_state.items()):
        conn.execute(
            sa.update(supporter_table).where(supporter_table.c.id.in_(ids)).values(state=state)
        )
    if placed:
        last = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(supporter_table.c.number), 0)).where(
                supporter_table.c.campaign_id == campaign_id
            )
        ).scalar_one()
        for place, values in enumerate(placed, start=int(last) + 1):
            values["place"] = place
        conn.execute(
            sa.update(supporter_table)
            .where(supporter_table.c.id == sa.bindparam("supporter_id"))
            .values(state=SupporterState.COUNTED, number=sa.bindparam("place")),
            placed,
        )
    return entering


# --- what the public is told -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Note:
    """An invalidation as the campaign page tells it: when, how many, and why."""

    at: datetime
    invalidated: int
    reason: str


def public_notes(session: Session, *, campaign_id: int) -> list[Note]:
    """The campaign's invalidations that took signatures off and were not restored, newest
    first."""
    rows = session.execute(
        sa.select(
            invalidation_table.c.created_at,
            invalidation_table.c.invalidated,
            invalidation_table.c.reason,
        )
        .where(
            invalidation_table.c.campaign_id == campaign_id,
            invalidation_table.c.status.in_(SHOWN_INVALIDATIONS),
            invalidation_table.c.invalidated > 0,
        )
        .order_by(invalidation_table.c.id.desc())
        .limit(20)
    ).all()
    return [Note(at=at, invalidated=int(n), reason=reason) for at, n, reason in rows]


def count_moving(session: Session, *, campaign_ids: list[int]) -> dict[int, int]:
    """How many invalidations (or restores) of each campaign are moving."""
    if not campaign_ids:
        return {}
    rows = session.execute(
        sa.select(invalidation_table.c.campaign_id, sa.func.count())
        .where(
            invalidation_table.c.campaign_id.in_(campaign_ids),
            invalidation_table.c.status.in_(MOVING_INVALIDATIONS),
        )
        .group_by(invalidation_table.c.campaign_id)
    ).all()
    return {int(campaign_id): int(n) for campaign_id, n in rows}


def advance_in_background(engine: sa.Engine, *, run_id: int, runner: str) -> None:
    """advance() in a session of its own, after the answer to the administrator. An error
    is logged and leaves the run where it stopped: its heartbeat stops, and it can be
    resumed."""
    try:
        with Session(engine, expire_on_commit=False) as session:
            advance(session, run_id=run_id, runner=runner)
    except Exception:
        log.exception("invalidation %s stopped", run_id)
