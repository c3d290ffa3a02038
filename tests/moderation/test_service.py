"""The rules of moderation, called directly: transitions, the claim race, merging, the
two-person rule and who sees which case."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from pledge.accounts import service as accounts
from pledge.accounts.models import Role, User
from pledge.db import utcnow, writing
from pledge.deps import moderator_access
from pledge.errors import Conflict, Forbidden, Invalid, NotFound
from pledge.hoaxes.models import (
    IN_QUEUE_STATUSES,
    TRANSITIONS,
    CaseStatus,
    HoaxCase,
    HoaxReport,
)
from pledge.moderation import service as moderation
from pledge.moderation.service import Decision, DecisionForm
from tests.support.db import actions, events, fresh, reload
from tests.support.factories import MakeCase
from tests.support.moderation import HOAX_FIELDS, Access, World

REFUSED = [(s, t) for s in CaseStatus for t in CaseStatus if t not in TRANSITIONS[s]]
ALLOWED = [(s, t) for s in CaseStatus for t in sorted(TRANSITIONS[s])]


def _held(session: Session, case: HoaxCase, user: User, minutes: int = 10) -> HoaxCase:
    """Give the case to a moderator directly, as a claim would."""
    case.claimed_by_id = user.id
    case.claim_expires_at = utcnow() + timedelta(minutes=minutes)
    session.add(case)
    session.commit()
    return case


# --- transitions ---------------------------------------------------------------------


def test_the_refused_moves_are_the_complement_of_transitions() -> None:
    assert len(REFUSED) + len(ALLOWED) == len(CaseStatus) ** 2
    assert (CaseStatus.NEW, CaseStatus.PUBLISHED) in REFUSED  # no verdict without approval
    assert (CaseStatus.PUBLISHED, CaseStatus.NEW) in REFUSED


@pytest.mark.parametrize(("current", "wanted"), REFUSED, ids=lambda s: str(s))
def test_every_move_not_in_transitions_is_refused(
    session: Session, world: World, make_case: MakeCase, current: CaseStatus, wanted: CaseStatus
) -> None:
    case = make_case(world.a, status=current)
    with pytest.raises(Conflict), writing(session):
        moderation.transition(
            session, case=case, to=wanted, actor_id=world.mod_a.id, reason="Mencoba."
        )
    assert reload(session, case).status == current
    assert actions(session, case) == []


@pytest.mark.parametrize(("current", "wanted"), ALLOWED, ids=lambda s: str(s))
def test_every_move_in_transitions_is_made_and_recorded(
    session: Session, world: World, make_case: MakeCase, current: CaseStatus, wanted: CaseStatus
) -> None:
    case = _held(session, make_case(world.a, status=current), world.mod_a)
    with writing(session):
        moderation.transition(
            session, case=case, to=wanted, actor_id=world.mod_a.id, reason="Sudah dicek."
        )
    stored = reload(session, case)
    assert stored.status == wanted
    assert stored.claimed_by_id is None and stored.claim_expires_at is None  # decided: released
    [event] = events(session, case)
    assert (event.action, event.reason, event.actor_id) == (
        "case.decide",
        "Sudah dicek.",
        world.mod_a.id,
    )
    assert f'"from": "{current.value}"' in event.data and f'"to": "{wanted.value}"' in event.data


def test_decisions_offered_follow_transitions() -> None:
    assert moderation.decisions_for(CaseStatus.NEW) == [
        Decision.HOAX,
        Decision.NOT_HOAX,
        Decision.NEEDS_INFO,
        Decision.REJECTED,
        Decision.DUPLICATE,
    ]
    assert Decision.NEEDS_INFO not in moderation.decisions_for(CaseStatus.NEEDS_INFO)
    assert Decision.REOPEN in moderation.decisions_for(CaseStatus.NEEDS_INFO)
    assert moderation.decisions_for(CaseStatus.AWAITING_APPROVAL) == []  # approve or send back
    assert moderation.decisions_for(CaseStatus.NOT_HOAX) == [Decision.REOPEN]
    assert moderation.decisions_for(CaseStatus.REJECTED) == [Decision.REOPEN]
    assert moderation.decisions_for(CaseStatus.PUBLISHED) == []
    assert moderation.decisions_for(CaseStatus.DUPLICATE) == []


def test_closing_a_case_forgets_the_reporters_contacts(
    session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    case = _held(session, make_case(world.a, reports=2, contact="ENCRYPTED"), world.mod_a)
    moderation.decide(
        session,
        access=access(world.mod_a),
        case_id=case.id or 0,
        form=DecisionForm(
            decision="needs_info", reason="Butuh tautan asli.", question="Tautan aslinya?"
        ),
    )
    kept = (
        fresh(session)
        .exec(select(HoaxReport.contact_encrypted).where(HoaxReport.case_id == case.id))
        .all()
    )
    assert kept == ["ENCRYPTED", "ENCRYPTED"]  # still open: the reporter may be asked
    _held(session, reload(session, case), world.mod_a)
    moderation.decide(
        session,
        access=access(world.mod_a),
        case_id=case.id or 0,
        form=DecisionForm(decision="rejected", reason="Spam."),
    )
    gone = (
        fresh(session)
        .exec(select(HoaxReport.contact_encrypted).where(HoaxReport.case_id == case.id))
        .all()
    )
    assert gone == [None, None]


# --- who sees which case -------------------------------------------------------------


def test_a_moderator_sees_the_cases_of_partnered_campaigns_only(
    session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    mine = make_case(world.a)
    theirs = make_case(world.b)
    for user in (world.mod_a, world.mod_a2, world.admin_a):
        page = moderation.queue(session, access=access(user), filters=moderation.QueueFilters())
        assert [row.case.id for row in page.rows] == [mine.id]
        assert moderation.case_page(session, access=access(user), case_id=mine.id or 0)
        with pytest.raises(NotFound):
            moderation.case_page(session, access=access(user), case_id=theirs.id or 0)
    page = moderation.queue(session, access=access(world.mod_b), filters=moderation.QueueFilters())
    assert [row.case.id for row in page.rows] == [theirs.id]


def test_every_action_on_an_invisible_case_is_not_found(
    session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    theirs = _held(session, make_case(world.b), world.mod_a)  # even "held" by the outsider
    outsider = access(world.mod_a)
    case_id = theirs.id or 0
    calls = [
        lambda: moderation.claim(session, access=outsider, case_id=case_id),
        lambda: moderation.release(session, access=outsider, case_id=case_id),
        lambda: moderation.break_claim(
            session, access=access(world.admin_a), case_id=case_id, reason="x"
        ),
        lambda: moderation.decide(
            session,
            access=outsider,
            case_id=case_id,
            form=DecisionForm(decision="rejected", reason="x"),
        ),
        lambda: moderation.approve(session, access=outsider, case_id=case_id, reason="x"),
        lambda: moderation.send_back(session, access=outsider, case_id=case_id, reason="x"),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    assert reload(session, theirs).status == CaseStatus.NEW
    assert actions(session, theirs) == []


def test_people_who_moderate_nowhere_are_refused(session: Session, world: World) -> None:
    from pledge.errors import Forbidden as Refused

    for user in (world.plain, world.site_admin):
        with pytest.raises(Refused):
            moderator_access(user, session)


# --- claims --------------------------------------------------------------------------


def test_claim_renew_and_release(
    session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    case = make_case(world.a)
    now = utcnow()
    first = moderation.claim(session, access=access(world.mod_a), case_id=case.id or 0, now=now)
    assert not first.renewed and first.expires_at == now + timedelta(minutes=15)
    later = now + timedelta(minutes=10)
    again = moderation.claim(session, access=access(world.mod_a), case_id=case.id or 0, now=later)
    assert again.renewed and again.expires_at == later + timedelta(minutes=15)
    assert reload(session, case).claim_expires_at == later + timedelta(minutes=15)
    with pytest.raises(Conflict, match="Ayu is working on this case"):
        moderation.claim(session, access=access(world.mod_a2), case_id=case.id or 0, now=later)
    with pytest.raises(Conflict):
        moderation.release(session, access=access(world.mod_a2), case_id=case.id or 0)
    moderation.release(session, access=access(world.mod_a), case_id=case.id or 0)
    assert reload(session, case).claimed_by_id is None
    assert actions(session, case) == ["case.claim", "case.claim", "case.release"]


def test_an_expired_claim_can_be_taken(
    session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    case = make_case(world.a)
    now = utcnow()
    moderation.claim(session, access=access(world.mod_a), case_id=case.id or 0, now=now)
    after = now + timedelta(minutes=15, seconds=1)
    taken = moderation.claim(session, access=access(world.mod_a2), case_id=case.id or 0, now=after)
    assert not taken.renewed
    assert reload(session, case).claimed_by_id == world.mod_a2.id


def test_closed_for_good_cases_cannot_be_claimed(
    session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    for status in (CaseStatus.PUBLISHED, CaseStatus.DUPLICATE):
        case = make_case(world.a, status=status)
        with pytest.raises(Conflict):
            moderation.claim(session, access=access(world.mod_a), case_id=case.id or 0)
        assert reload(session, case).claimed_by_id is None


def test_only_an_admin_of_a_partner_org_breaks_a_claim(
    session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    case = _held(session, make_case(world.a), world.mod_a)
    with pytest.raises(Forbidden):
        moderation.break_claim(
            session, access=access(world.mod_a2), case_id=case.id or 0, reason="x"
        )
    with pytest.raises(NotFound):  # an admin elsewhere does not even see the case
        moderation.break_claim(
            session, access=access(world.admin_b), case_id=case.id or 0, reason="x"
        )
    with pytest.raises(Invalid) as refused:
        moderation.break_claim(
            session, access=access(world.admin_a), case_id=case.id or 0, reason=" "
        )
    assert set(refused.value.errors) == {"reason"}
    assert reload(session, case).claimed_by_id == world.mod_a.id
    moderation.break_claim(
        session, access=access(world.admin_a), case_id=case.id or 0, reason="Ayu sedang cuti."
    )
    assert reload(session, case).claimed_by_id is None
    [event] = events(session, case)
    assert (event.action, event.reason, event.actor_id) == (
        "case.break_claim",
        "Ayu sedang cuti.",
        world.admin_a.id,
    )
    with pytest.raises(Conflict):  # nothing left to break
        moderation.break_claim(
            session, access=access(world.admin_a), case_id=case.id or 0, reason="x"
        )


def _claim_in_own_session(engine: sa.Engine, user_id: int, case_id: int) -> str:
    with Session(engine, expire_on_commit=False) as own:
        user = own.get(User, user_id)
        assert user is not None
        who = moderator_access(user, own)
        try:
            moderation.claim(own, access=who, case_id=case_id)
        except Conflict:
            return "lost"
    return "won"


def test_the_claim_race_has_exactly_one_winner(
    engine: sa.Engine, session: Session, world: World, make_case: MakeCase
) -> None:
    """Three moderators press "claim" at the same moment, five times over; each time one gets
    the case and the others are told who has it. Each in its own thread and connection, on
    a file database or PostgreSQL."""
    racers = [world.mod_a.id or 0, world.mod_a2.id or 0, world.admin_a.id or 0]
    for _round in range(5):
        case = make_case(world.a)
        barrier = threading.Barrier(len(racers))
        results: dict[int, str] = {}

        def race(
            user_id: int,
            case_id: int = case.id or 0,
            barrier: threading.Barrier = barrier,
            results: dict[int, str] = results,
        ) -> None:
            barrier.wait()
            try:
                results[user_id] = _claim_in_own_session(engine, user_id, case_id)
            except Exception as error:  # reported below, not lost in the thread
                results[user_id] = repr(error)

        threads = [threading.Thread(target=race, args=(user_id,)) for user_id in racers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(results.values()) == ["lost", "lost", "won"], results
        winner = next(user_id for user_id, result in results.items() if result == "won")
        assert reload(session, case).claimed_by_id == winner
        assert [e.actor_id for e in events(session, case)] == [winner]


def _waiting_on_a_lock(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).scalar()
        )


def test_a_claim_that_waited_for_another_finds_it_taken(
    engine: sa.Engine, session: Session, world: World, make_case: MakeCase, dialect: str
) -> None:
    """The interleaving that matters, made certain: the first claim is written but not yet
    committed when the second starts. The second waits (for the row lock on PostgreSQL, for
    the write lock on SQLite), then changes nothing."""
    case = make_case(world.a)
    now = utcnow()
    until = now + timedelta(minutes=15)
    second: dict[str, object] = {}

    def claim_second() -> None:
        with Session(engine) as other, writing(other):
            second["won"] = moderation.take_claim(
                other, case_id=case.id or 0, user_id=world.mod_a2.id or 0, now=now, until=until
            )

    with Session(engine) as first:
        with writing(first):
            assert moderation.take_claim(
                first, case_id=case.id or 0, user_id=world.mod_a.id or 0, now=now, until=until
            )
            thread = threading.Thread(target=claim_second)
            thread.start()
            if dialect == "postgresql":
                deadline = time.monotonic() + 60
                while not _waiting_on_a_lock(engine) and time.monotonic() < deadline:
                    thread.join(timeout=0.01)
                assert _waiting_on_a_lock(engine), "the second claim did not wait for the first"
            assert "won" not in second  # still waiting while the first is uncommitted
        thread.join(timeout=60)
    assert second == {"won": False}
    assert reload(session, case).claimed_by_id == world.mod_a.id


# --- decisions -----------------------------------------------------------------------


def test_deciding_needs_the_claim(
    session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    case = make_case(world.a)
    form = DecisionForm(decision="not_hoax", reason="Benar adanya.")
    with pytest.raises(Conflict, match="Claim the case first"):
        moderation.decide(session, access=access(world.mod_a), case_id=case.id or 0, form=form)
    _held(session, case, world.mod_a2)
    with pytest.raises(Conflict, match="Budi is working on this case"):
        moderation.decide(session, access=access(world.mod_a), case_id=case.id or 0, form=form)
    expired = reload(session, case)
    expired.claimed_by_id, expired.claim_expires_at = (
        world.mod_a.id,
        utcnow() - timedelta(seconds=1),
    )
    session.add(expired)
    session.commit()
    with pytest.raises(Conflict, match="Claim the case first"):
        moderation.decide(session, access=access(world.mod_a), case_id=case.id or 0, form=form)
    assert reload(session, case).status == CaseStatus.NEW


def test_the_two_person_rule(
    session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    case = _held(session, make_case(world.a), world.mod_a)
    moderation.decide(
        session, access=access(world.mod_a), case_id=case.id or 0, form=DecisionForm(**HOAX_FIELDS)
    )
    proposed = reload(session, case)
    assert proposed.status == CaseStatus.AWAITING_APPROVAL
    assert proposed.proposed_by_id == world.mod_a.id and proposed.claimed_by_id is None
    assert proposed.label == "SALAH" and proposed.public_title == HOAX_FIELDS["public_title"]

    _held(session, proposed, world.mod_a)
    with pytest.raises(Forbidden, match="another moderator has to approve it"):
        moderation.approve(
            session, access=access(world.mod_a), case_id=case.id or 0, reason="Setuju."
        )
    assert reload(session, case).status == CaseStatus.AWAITING_APPROVAL
    assert reload(session, case).published_at is None

    _held(session, reload(session, case), world.mod_a2)
    before = utcnow()
    moderation.approve(
        session, access=access(world.mod_a2), case_id=case.id or 0, reason="Sumber KPU kuat."
    )
    published = reload(session, case)
    assert published.status == CaseStatus.PUBLISHED
    assert published.approved_by_id == world.mod_a2.id
    assert published.published_at is not None and published.published_at >= before
    assert actions(session, case)[-1] == "case.approve"


def test_send_back_clears_the_proposal_and_keeps_it_in_the_log(
    session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    case = _held(session, make_case(world.a), world.mod_a)
    fields = {**HOAX_FIELDS, "claim_author": "Akun TikTok @kabarpemilu", "claim_date": "2024-01-05"}
    moderation.decide(
        session, access=access(world.mod_a), case_id=case.id or 0, form=DecisionForm(**fields)
    )
    _held(session, reload(session, case), world.mod_a2)
    moderation.send_back(
        session, access=access(world.mod_a2), case_id=case.id or 0, reason="Sumber kurang."
    )
    back = reload(session, case)
    assert back.status == CaseStatus.NEW
    assert (back.label, back.public_title, back.public_explanation, back.fact_check_url, back.proposed_by_id) == (
        None, "", "", None, None,
    )  # fmt: skip
    assert (back.correction, back.claim_author, back.claim_date) == ("", "", None)
    event = events(session, case)[-1]
    assert event.action == "case.send_back" and event.reason == "Sumber kurang."
    kept = json.loads(event.data)["proposal"]
    assert kept["public_explanation"] == HOAX_FIELDS["public_explanation"]
    assert kept["public_title"] == HOAX_FIELDS["public_title"]
    assert kept["correction"] == HOAX_FIELDS["correction"]
    assert kept["claim_author"] == "Akun TikTok @kabarpemilu"
    assert kept["claim_date"] == "2024-01-05"


def test_merging_moves_reports_and_adds_counts(
    session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    target = make_case(world.a, reports=3)
    earlier = make_case(world.a, reports=1)
    source = make_case(world.a, reports=2, media=True, canonical_url="https://x.com/a/status/1")
    # A case merged into the source before now follows it to the target.
    earlier = reload(session, earlier)
    earlier.status, earlier.merged_into_id, earlier.report_count = (
        CaseStatus.DUPLICATE,
        source.id,
        0,
    )
    session.add(earlier)
    session.commit()
    _held(session, reload(session, source), world.mod_a)
    moderation.decide(
        session,
        access=access(world.mod_a),
        case_id=source.id or 0,
        form=DecisionForm(
            decision="duplicate", target_case_id=str(target.id), reason="Sama persis."
        ),
    )
    merged, into = reload(session, source), reload(session, target)
    assert merged.status == CaseStatus.DUPLICATE and merged.merged_into_id == target.id
    assert into.report_count == 5 and merged.report_count == 0
    assert into.media_id == merged.media_id and into.canonical_url == merged.canonical_url
    owners = fresh(session).exec(select(HoaxReport.case_id)).all()
    assert sorted(owners) == sorted([target.id] * 5 + [earlier.id])
    assert reload(session, earlier).merged_into_id == target.id
    assert actions(session, source) == ["case.merge"]
    assert actions(session, target) == ["case.merge"]


def test_merge_targets_are_checked(
    session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    source = _held(session, make_case(world.a), world.mod_a)
    elsewhere = make_case(world.b)
    merged = make_case(world.a, status="duplicate")
    cases = {
        "": "Enter the number of the case",
        "abc": "another case of the same campaign",
        "999999": "another case of the same campaign",
        str(elsewhere.id): "another case of the same campaign",
        str(source.id): "cannot be merged into itself",
        str(merged.id): "is itself merged into",
    }
    for raw, message in cases.items():
        with pytest.raises(Invalid) as refused:
            moderation.decide(
                session,
                access=access(world.mod_a),
                case_id=source.id or 0,
                form=DecisionForm(decision="duplicate", target_case_id=raw, reason="Sama."),
            )
        assert message in refused.value.errors["target_case_id"]
    assert reload(session, source).status == CaseStatus.NEW


def test_bulk_reject_takes_only_open_visible_unheld_cases(
    session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    free = make_case(world.a)
    needs_info = make_case(world.a, status="needs_info")
    mine = _held(session, make_case(world.a), world.mod_a)
    held = _held(session, make_case(world.a), world.mod_a2)
    waiting = make_case(world.a, status="awaiting_approval")
    closed = make_case(world.a, status="not_hoax")
    theirs = make_case(world.b)
    picked = [free, needs_info, mine, held, waiting, closed, theirs]
    result = moderation.bulk_reject(
        session,
        access=access(world.mod_a),
        form=moderation.BulkRejectForm(
            case_ids=(*(str(c.id) for c in picked), "nonsense"), reason="Spam promosi."
        ),
    )
    assert (result.rejected, result.skipped) == (3, 5)
    statuses = {c.id: reload(session, c).status for c in picked}
    assert [c.id for c in picked if statuses[c.id] == CaseStatus.REJECTED] == [
        free.id,
        needs_info.id,
        mine.id,
    ]
    assert statuses[held.id] == CaseStatus.NEW and statuses[theirs.id] == CaseStatus.NEW
    assert (
        statuses[waiting.id] == CaseStatus.AWAITING_APPROVAL
        and statuses[closed.id] == CaseStatus.NOT_HOAX
    )
    [event] = events(session, free)
    assert (event.action, event.reason) == ("case.bulk_reject", "Spam promosi.")
    assert actions(session, theirs) == []


# --- the queue -----------------------------------------------------------------------


def test_queue_pages_by_key_visit_every_case_once_in_order(
    session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    start = utcnow() - timedelta(days=3)
    made = [
        make_case(
            world.a,
            reports=0,
            report_count=(n * 7) % 5 + 1,
            created_at=start + timedelta(minutes=n),
        )
        for n in range(60)
    ]
    expected = [c.id for c in sorted(made, key=lambda c: (-c.report_count, c.id or 0))]
    seen: list[int | None] = []
    after = ""
    pages = 0
    while True:
        page = moderation.queue(
            session, access=access(world.mod_a), filters=moderation.QueueFilters(after=after)
        )
        assert not page.errors
        assert len(page.rows) <= moderation.PAGE_SIZE
        seen.extend(row.case.id for row in page.rows)
        pages += 1
        if page.next_after is None:
            break
        after = page.next_after
    assert pages == 3
    assert seen == expected


def test_queue_keeps_its_place_when_cases_change_between_pages(
    session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    """A key is a place in the order, not a row number: a case closed meanwhile does not
    make the next page skip one."""
    made = [make_case(world.a, reports=0, report_count=1) for _ in range(30)]
    who = access(world.mod_a)
    first = moderation.queue(session, access=who, filters=moderation.QueueFilters())
    assert [row.case.id for row in first.rows] == [c.id for c in made[:25]]
    closed = reload(session, made[0])
    closed.status = CaseStatus.REJECTED
    session.add(closed)
    session.commit()
    second = moderation.queue(
        session, access=who, filters=moderation.QueueFilters(after=first.next_after or "")
    )
    assert [row.case.id for row in second.rows] == [c.id for c in made[25:]]


def test_queue_asks_for_a_key_range_not_an_offset(
    engine: sa.Engine, session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    for _ in range(3):
        make_case(world.a)
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        page = moderation.queue(
            session,
            access=access(world.mod_a),
            filters=moderation.QueueFilters(after="1.1"),
            limit=1,
        )
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert [row.case.id for row in page.rows] == [2]
    queries = [s for s in statements if "FROM hoax_case" in s and "ORDER BY" in s]
    # One range of the queue index per status the queue shows, each starting where the key
    # says (SQLite spells out a zero OFFSET with every LIMIT).
    assert len(queries) == len(IN_QUEUE_STATUSES)
    for query in queries:
        assert "report_count <" in query and "hoax_case.id >" in query
        assert "status =" in query and "campaign_id =" in query


def test_queue_pages_merge_statuses_and_campaigns_in_queue_order(
    session: Session, world: World, make_case: MakeCase, access: Access
) -> None:
    """Cases of several campaigns and statuses, read range by range, come out as one queue:
    most reported first, oldest first among equals, page after page with no case twice."""
    # Ayu moderates for both organisations: both campaigns are in her queue.
    accounts.add_member(session, user=world.mod_a, org=world.org_b, role=Role.MODERATOR)
    made = [
        make_case(
            world.a if n % 2 else world.b,
            status="needs_info" if n % 3 == 0 else "new",
            report_count=count,
        )
        for n, count in enumerate([3, 7, 7, 1, 7, 3, 12, 1])
    ]
    make_case(world.a, status="not_hoax", report_count=50)  # closed: not in the open queue
    session.commit()
    expected = [c.id for c in sorted(made, key=lambda c: (-c.report_count, c.id))]

    seen: list[int | None] = []
    after = ""
    for _page in range(10):
        page = moderation.queue(
            session,
            access=access(world.mod_a),
            filters=moderation.QueueFilters(status="open", after=after),
            limit=3,
        )
        seen += [row.case.id for row in page.rows]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == expected
