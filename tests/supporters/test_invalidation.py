"""Invalidations and reviews: what a filter matches, taken off the count a batch per
transaction (cancellable between batches, resumable, restorable), held signatures counted
after all; the counts equal a recount after every one of them, also with signers at work."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from pledge import audit
from pledge.campaigns.models import CampaignView
from pledge.db import utcnow, writing
from pledge.errors import Conflict, Invalid
from pledge.forms import Checks
from pledge.supporters import service as supporters
from pledge.supporters.models import (
    PENDING,
    SUSPECT,
    TOTAL,
    Invalidation,
    InvalidationStatus,
    SupporterState,
    invalidation_table,
    supporter_table,
)
from tests.support.forms import sign_form

MakeCampaign = Callable[..., CampaignView]
P1, P2 = "tolak-politik-uang", "gunakan-hak-pilih"
REASON = "Ratusan tanda tangan dari satu jaringan dalam dua menit"


def counts(session: Session, view: CampaignView) -> dict[str, int]:
    session.rollback()
    return {
        k: v for k, v in supporters.read_counts(session, campaign_id=view.id).by_key.items() if v
    }


def exact(session: Session, view: CampaignView) -> dict[str, int]:
    """The tallies, asserted equal to a recount from the rows."""
    stored = counts(session, view)
    truth = supporters.true_counts(session, campaign_id=view.id)
    assert stored == {k: v for k, v in truth.items() if v}
    return stored


def states(session: Session, view: CampaignView) -> dict[str, SupporterState]:
    session.rollback()
    return {
        row.display_name: SupporterState(row.state)
        for row in session.execute(
            sa.select(supporter_table.c.display_name, supporter_table.c.state).where(
                supporter_table.c.campaign_id == view.id
            )
        )
    }


def signer(
    session: Session,
    view: CampaignView,
    name: str,
    *,
    network: str | None = None,
    contact: str | None = None,
    confirmed: bool = True,
    suspect: bool = False,
    **fields: Any,
) -> Any:
    signing = supporters.sign(
        session,
        view=view,
        form=sign_form(name=name, contact=contact or _contact_of(name), **fields),
        network=network,
        suspect=suspect,
    )
    if confirmed:
        assert signing.ticket is not None
        supporters.confirm(session, link_digest=signing.ticket.link_digest)
    return signing


def _contact_of(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") + "@example.com"


def run_to_end(
    session: Session, view: CampaignView, found: supporters.Filter, **options: Any
) -> Invalidation:
    run = supporters.start(session, view=view, found=found, reason=REASON, actor_id=None)
    supporters.advance(session, run_id=run.id or 0, runner=run.runner, **options)
    return supporters.get_invalidation(session, campaign_id=view.id, run_id=run.id or 0)


def restore_to_end(session: Session, view: CampaignView, run: Invalidation) -> Invalidation:
    started = supporters.restore(
        session, campaign_id=view.id, run_id=run.id or 0, reason="Salah sasaran", actor_id=None
    )
    supporters.advance(session, run_id=run.id or 0, runner=started.runner)
    return supporters.get_invalidation(session, campaign_id=view.id, run_id=run.id or 0)


@pytest.fixture
def view(make_campaign: MakeCampaign) -> CampaignView:
    return make_campaign(partners=2)


# --- the filter ------------------------------------------------------------------------------


def check(view: CampaignView, **fields: str) -> supporters.Filter:
    checks = Checks()
    found = supporters.FilterForm(**fields).check(view, checks)
    supporters.check_narrows(found, checks)
    checks.done()
    return found


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"network": "203.0.113"},
            "network",
            "Write a network like 203.0.113.0/24 or 2001:db8::/48, or one address.",
        ),
        (
            {"network": "2001:db8::/200"},
            "network",
            "Write a network like 203.0.113.0/24 or 2001:db8::/48, or one address.",
        ),
        (
            {"network": "::ffff:1.2.3.0/120"},
            "network",
            "Write a network like 203.0.113.0/24 or 2001:db8::/48, or one address.",
        ),
        (
            {"network": "203.0.113.0/28"},
            "network",
            "Signatures are recorded by their /24 (IPv4) or /64 (IPv6) network: give a prefix of /24 or shorter.",
        ),
        (
            {"network": "2001:db8::/96"},
            "network",
            "Signatures are recorded by their /24 (IPv4) or /64 (IPv6) network: give a prefix of /64 or shorter.",
        ),
        (
            {"email_domain": "rina@example.com"},
            "email_domain",
            "Write an email domain like contoh.id, without the part before the @.",
        ),
        (
            {"email_domain": "bukan domain"},
            "email_domain",
            "Write an email domain like contoh.id, without the part before the @.",
        ),
        (
            {"email_domain": "x" * 300},
            "email_domain",
            "Write an email domain like contoh.id, without the part before the @.",
        ),
        ({"partner": "tidak-ada"}, "partner", "This campaign has no partner with that short name."),
        (
            {"since": "kemarin"},
            "since",
            "Write a time like 2026-03-10 14:00 (WIB) or 2026-03-10T07:00:00Z.",
        ),
        (
            {"until": "2026-13-40 10:00"},
            "until",
            "Write a time like 2026-03-10 14:00 (WIB) or 2026-03-10T07:00:00Z.",
        ),
        (
            {"since": "2026-03-10 15:00", "until": "2026-03-10 14:00"},
            "until",
            "The end of the time range must come after its start.",
        ),
        (
            {"since": "2026-03-10 14:00", "until": "2026-03-10 14:00"},
            "until",
            "The end of the time range must come after its start.",
        ),
        ({"name": "* *"}, "name", "A name pattern needs at least one letter or digit besides *."),
        ({"name": "a" * 81}, "name", "Use at most 80 characters for the name pattern."),
        (
            {},
            "filter",
            "Choose at least one filter (network, email domain, partner, time or name): without one, every signature of the campaign would be invalidated.",
        ),
    ],
)
def test_a_bad_filter_is_refused_with_a_message_beside_its_field(
    view: CampaignView, fields: dict[str, str], field: str, message: str
) -> None:
    with pytest.raises(Invalid) as refused:
        check(view, **fields)

    assert refused.value.errors == {field: message}


def test_a_filter_is_read_as_people_write_it(view: CampaignView) -> None:
    partner = view.partners[1]
    found = check(
        view,
        network=" 203.0.113.77/16 ",
        email_domain="Bücher.Example.",
        partner=partner.slug.upper(),
        since="2026-03-10 14:00",
        until="2026-03-10T08:00:00Z",
        name="  Budi   *  ",
    )

    assert str(found.network) == "203.0.0.0/16"
    assert found.email_domain == "xn--bcher-kva.example"
    assert found.partner == partner
    assert found.since is not None and found.since.isoformat() == "2026-03-10T07:00:00+00:00"
    assert found.until is not None and found.until.isoformat() == "2026-03-10T08:00:00+00:00"
    assert found.name_pattern == "budi *"
    assert str(check(view, network="2001:db8:1:2:3::4").network) == "2001:db8:1:2::/64"


# --- what it matches ---------------------------------------------------------------------------


def test_the_preview_counts_what_matches_by_state(session: Session, view: CampaignView) -> None:
    signer(session, view, "Satu", network="203.0.113.0/24")
    signer(session, view, "Dua", network="203.0.113.0/24", confirmed=False)
    signer(session, view, "Tiga", network="203.0.113.0/24", suspect=True)
    signer(session, view, "Empat", network="198.51.100.0/24")

    shown = supporters.preview(
        session, campaign_id=view.id, found=check(view, network="203.0.113.0/24")
    )

    assert (shown.matched, shown.counted, shown.pending, shown.suspect) == (3, 1, 1, 1)


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        ("10.1.0.0/16", {"Satu", "Dua"}),  # 256 networks: written out
        ("10.0.0.0/8", {"Satu", "Dua", "Tiga"}),  # 65,536: matched against the campaign's own
        ("10.1.2.9", {"Satu"}),  # one address: its /24
        ("2001:db8:5::/48", {"Empat"}),
        ("2001:db8:5:1::/64", {"Empat"}),
    ],
)
def test_a_network_matches_the_recorded_networks_within_it(
    session: Session, view: CampaignView, network: str, expected: set[str]
) -> None:
    signer(session, view, "Satu", network="10.1.2.0/24")
    signer(session, view, "Dua", network="10.1.200.0/24")
    signer(session, view, "Tiga", network="10.9.0.0/24")
    signer(session, view, "Empat", network="2001:db8:5:1::/64")
    signer(session, view, "Lima", network="2001:db8:6:1::/64")

    run = run_to_end(session, view, check(view, network=network))

    taken = {
        name for name, state in states(session, view).items() if state == SupporterState.INVALIDATED
    }
    assert taken == expected
    assert run.invalidated == len(expected)


def test_a_name_pattern_matches_without_case_and_takes_its_own_percent_literally(
    session: Session, view: CampaignView
) -> None:
    signer(session, view, "Budi Santoso")
    signer(session, view, "budiman")
    signer(session, view, "Ani Budi")
    signer(session, view, "Budi_1", contact="b1@example.com")
    signer(session, view, "BudiX1", contact="bx@example.com")

    run_to_end(session, view, check(view, name="budi*"))
    assert {n for n, s in states(session, view).items() if s == SupporterState.INVALIDATED} == {
        "Budi Santoso",
        "budiman",
        "Budi_1",
        "BudiX1",
    }
    found = supporters.preview(session, campaign_id=view.id, found=check(view, name="budi_1"))
    assert found.matched == 0  # Budi_1 is invalidated already; "_" did not match BudiX1 either


def test_an_exact_name_matches_that_name_only(session: Session, view: CampaignView) -> None:
    signer(session, view, "Budi")
    signer(session, view, "Budiman")

    run_to_end(session, view, check(view, name="BUDI"))

    assert states(session, view) == {
        "Budi": SupporterState.INVALIDATED,
        "Budiman": SupporterState.COUNTED,
    }


def test_a_time_range_includes_its_start_and_leaves_out_its_end(
    session: Session, view: CampaignView
) -> None:
    for name in ("Pagi", "Siang", "Malam"):
        signer(session, view, name)
    moments = {"Pagi": 6, "Siang": 7, "Malam": 8}  # UTC: 13:00, 14:00 and 15:00 WIB
    with writing(session):
        for name, hour in moments.items():
            session.execute(
                sa.update(supporter_table)
                .where(supporter_table.c.display_name == name)
                .values(created_at=datetime(2026, 3, 10, hour, tzinfo=UTC))
            )

    run_to_end(session, view, check(view, since="2026-03-10 14:00", until="2026-03-10 15:00"))

    assert states(session, view)["Siang"] == SupporterState.INVALIDATED
    assert states(session, view)["Pagi"] == states(session, view)["Malam"] == SupporterState.COUNTED


# --- a run, its counts and its record ------------------------------------------------------------


def test_an_invalidation_takes_signatures_off_every_count_and_is_audited(
    session: Session, view: CampaignView
) -> None:
    partner = view.partners[1]
    for n in range(4):
        signer(
            session,
            view,
            f"Bot {n}",
            network="203.0.113.0/24",
            ref=partner.referral_code,
            pledges=(P1, P2),
        )
    signer(session, view, "Bot tunggu", network="203.0.113.0/24", confirmed=False)
    signer(session, view, "Bot tahan", network="203.0.113.0/24", suspect=True)
    signer(session, view, "Nyata", network="198.51.100.0/24", ref=partner.referral_code)
    before = exact(session, view)
    assert before[f"partner:{partner.id}"] == 5

    run = run_to_end(session, view, check(view, network="203.0.113.0/24"), batch=2)

    assert run.status == InvalidationStatus.DONE
    assert (run.matched, run.matched_counted, run.invalidated, run.invalidated_counted) == (
        6,
        4,
        6,
        4,
    )
    after = exact(session, view)
    assert after[TOTAL] == 1
    assert after[f"partner:{partner.id}"] == 1
    assert after.get(f"pledge:{view.pledges[1].id}", 0) == 0
    assert PENDING not in after and SUSPECT not in after
    (event,) = audit.list_events(session, action=supporters.INVALIDATE)
    assert event.reason == REASON
    assert event.subject == f"campaign:{view.id}"
    assert json.loads(event.data)["filter"] == {"network": "203.0.113.0/24"}
    assert json.loads(event.data)["matched"] == 6


def test_signatures_that_arrive_after_the_start_are_left_alone(
    session: Session, view: CampaignView
) -> None:
    signer(session, view, "Lama", network="203.0.113.0/24")
    run = supporters.start(
        session,
        view=view,
        found=check(view, network="203.0.113.0/24"),
        reason=REASON,
        actor_id=None,
    )
    signer(session, view, "Baru", network="203.0.113.0/24")

    supporters.advance(session, run_id=run.id or 0, runner=run.runner)

    assert states(session, view) == {
        "Lama": SupporterState.INVALIDATED,
        "Baru": SupporterState.COUNTED,
    }


def test_cancelling_stops_the_run_between_two_batches(session: Session, view: CampaignView) -> None:
    for n in range(7):
        signer(session, view, f"Bot {n}", network="203.0.113.0/24")
    run = supporters.start(
        session,
        view=view,
        found=check(view, network="203.0.113.0/24"),
        reason=REASON,
        actor_id=None,
    )
    batches: list[int] = []

    def cancel_after_the_first(moving: Invalidation) -> None:
        batches.append(1)
        supporters.cancel(
            session, campaign_id=view.id, run_id=run.id or 0, reason="Cukup", actor_id=None
        )

    supporters.advance(
        session, run_id=run.id or 0, runner=run.runner, batch=3, between=cancel_after_the_first
    )

    done = supporters.get_invalidation(session, campaign_id=view.id, run_id=run.id or 0)
    assert batches == [1]
    assert done.status == InvalidationStatus.CANCELLED
    assert done.invalidated == 3
    assert list(states(session, view).values()).count(SupporterState.INVALIDATED) == 3
    assert exact(session, view)[TOTAL] == 4
    (event,) = audit.list_events(session, action=supporters.INVALIDATE_CANCEL)
    assert event.reason == "Cukup"


def test_only_a_running_invalidation_can_be_cancelled_and_only_a_finished_one_restored(
    session: Session, view: CampaignView
) -> None:
    signer(session, view, "Bot", network="203.0.113.0/24")
    run = supporters.start(
        session,
        view=view,
        found=check(view, network="203.0.113.0/24"),
        reason=REASON,
        actor_id=None,
    )
    with pytest.raises(Conflict, match="Only a finished or cancelled invalidation can be restored"):
        supporters.restore(
            session, campaign_id=view.id, run_id=run.id or 0, reason="x", actor_id=None
        )
    supporters.advance(session, run_id=run.id or 0, runner=run.runner)

    with pytest.raises(Conflict, match="This invalidation is not running"):
        supporters.cancel(
            session, campaign_id=view.id, run_id=run.id or 0, reason="x", actor_id=None
        )
    with pytest.raises(Conflict, match="moving on already"):
        supporters.resume(
            session, campaign_id=view.id, run_id=run.id or 0, reason="x", actor_id=None
        )


def test_a_run_whose_process_died_is_resumed_where_it_stopped(
    session: Session, view: CampaignView
) -> None:
    for n in range(5):
        signer(session, view, f"Bot {n}", network="203.0.113.0/24")
    run = supporters.start(
        session,
        view=view,
        found=check(view, network="203.0.113.0/24"),
        reason=REASON,
        actor_id=None,
    )

    old_runner = run.runner

    def die(moving: Invalidation) -> None:
        raise SystemExit  # the process goes away after its first batch

    with pytest.raises(SystemExit):
        supporters.advance(session, run_id=run.id or 0, runner=old_runner, batch=2, between=die)
    with writing(session):
        session.execute(
            sa.update(invalidation_table).values(heartbeat_at=utcnow() - timedelta(minutes=5))
        )
    stopped = supporters.get_invalidation(session, campaign_id=view.id, run_id=run.id or 0)
    assert supporters.stalled(stopped)
    assert stopped.invalidated == 2

    taken = supporters.resume(
        session, campaign_id=view.id, run_id=run.id or 0, reason="Server mulai ulang", actor_id=None
    )
    supporters.advance(session, run_id=run.id or 0, runner=old_runner)  # the old runner is out
    assert (
        supporters.get_invalidation(session, campaign_id=view.id, run_id=run.id or 0).invalidated
        == 2
    )
    supporters.advance(session, run_id=run.id or 0, runner=taken.runner)

    done = supporters.get_invalidation(session, campaign_id=view.id, run_id=run.id or 0)
    assert (done.status, done.invalidated) == (InvalidationStatus.DONE, 5)
    assert exact(session, view).get(TOTAL, 0) == 0


def test_a_restore_puts_every_supporter_back_where_they_stood(
    session: Session, view: CampaignView
) -> None:
    partner = view.partners[1]
    signer(
        session,
        view,
        "Dihitung",
        network="203.0.113.0/24",
        ref=partner.referral_code,
        pledges=(P1, P2),
    )
    waiting = signer(session, view, "Menunggu", network="203.0.113.0/24", confirmed=False)
    late = signer(session, view, "Terlambat", network="203.0.113.0/24", confirmed=False)
    signer(session, view, "Ditahan", network="203.0.113.0/24", suspect=True)
    leaving = signer(session, view, "Pergi", network="203.0.113.0/24")
    signer(session, view, "Lain", network="198.51.100.0/24")
    before = exact(session, view)
    numbers = {row.display_name: row.number for row in session.execute(sa.select(supporter_table))}

    run = run_to_end(session, view, check(view, network="203.0.113.0/24"))
    # While invalidated: one confirms (and stays out of the count), one withdraws.
    supporters.confirm(session, link_digest=late.ticket.link_digest)
    supporters.withdraw(session, campaign=view.campaign, token=leaving.supporter.token)
    exact(session, view)
    restored = restore_to_end(session, view, run)

    assert restored.status == InvalidationStatus.RESTORED
    assert restored.restored == 4
    assert states(session, view) == {
        "Dihitung": SupporterState.COUNTED,
        "Menunggu": SupporterState.PENDING,
        "Terlambat": SupporterState.COUNTED,
        "Ditahan": SupporterState.SUSPECT,
        "Lain": SupporterState.COUNTED,
    }
    after = exact(session, view)
    assert after[TOTAL] == before[TOTAL] - 1 + 1  # Pergi left, Terlambat came in
    assert after[f"partner:{partner.id}"] == before[f"partner:{partner.id}"]
    placed = {row.display_name: row.number for row in session.execute(sa.select(supporter_table))}
    assert placed["Dihitung"] == numbers["Dihitung"]  # the place it had
    assert placed["Terlambat"] == max(numbers.values()) + 1
    assert waiting.supporter is not None
    (event,) = audit.list_events(session, action=supporters.INVALIDATE_RESTORE)
    assert event.reason == "Salah sasaran"


def test_a_restored_run_cannot_be_restored_again(session: Session, view: CampaignView) -> None:
    signer(session, view, "Bot", network="203.0.113.0/24")
    run = restore_to_end(
        session, view, run_to_end(session, view, check(view, network="203.0.113.0/24"))
    )

    with pytest.raises(Conflict):
        supporters.restore(
            session, campaign_id=view.id, run_id=run.id or 0, reason="lagi", actor_id=None
        )
    assert exact(session, view)[TOTAL] == 1


def test_the_public_notes_show_runs_that_took_signatures_off_until_restored(
    session: Session, view: CampaignView
) -> None:
    signer(session, view, "Bot", network="203.0.113.0/24")
    nothing = run_to_end(session, view, check(view, network="198.51.100.0/24"))
    run = run_to_end(session, view, check(view, network="203.0.113.0/24"))

    (note,) = supporters.public_notes(session, campaign_id=view.id)
    assert (note.invalidated, note.reason) == (1, REASON)
    assert nothing.invalidated == 0

    restore_to_end(session, view, run)
    assert supporters.public_notes(session, campaign_id=view.id) == []


def test_an_invalidation_of_another_campaign_is_not_found(
    session: Session, view: CampaignView, make_campaign: MakeCampaign
) -> None:
    other = make_campaign()
    signer(session, view, "Bot", network="203.0.113.0/24")
    run = run_to_end(session, view, check(view, network="203.0.113.0/24"))

    with pytest.raises(Exception, match="We could not find that invalidation"):
        supporters.get_invalidation(session, campaign_id=other.id, run_id=run.id or 0)


# --- held signatures counted after all --------------------------------------------------------------


def test_counting_held_signatures_sends_unconfirmed_ones_back_to_waiting_and_counts_confirmed_ones(
    session: Session, view: CampaignView
) -> None:
    partner = view.partners[1]
    signer(session, view, "Dulu", network="198.51.100.0/24")
    signer(
        session, view, "Yakin", network="203.0.113.0/24", suspect=True, ref=partner.referral_code
    )
    unsure = signer(session, view, "Ragu", network="203.0.113.0/24", suspect=True, confirmed=False)
    signer(session, view, "Tetap", network="203.0.113.0/24", suspect=True, confirmed=False)
    ids = {row.display_name: row.id for row in session.execute(sa.select(supporter_table))}

    released = supporters.release(
        session,
        view=view,
        found=supporters.Filter(supporter_ids=(ids["Yakin"], ids["Ragu"], ids["Dulu"])),
        reason="Satu sekolah, satu wifi",
        actor_id=None,
    )

    assert released == 2  # Dulu was never held
    assert states(session, view) == {
        "Dulu": SupporterState.COUNTED,
        "Yakin": SupporterState.COUNTED,
        "Ragu": SupporterState.PENDING,
        "Tetap": SupporterState.SUSPECT,
    }
    after = exact(session, view)
    assert (after[TOTAL], after[PENDING], after[SUSPECT]) == (2, 1, 1)
    assert after[f"partner:{partner.id}"] == 1
    placed = dict(
        session.execute(sa.select(supporter_table.c.display_name, supporter_table.c.number)).all()
    )
    assert placed["Yakin"] == placed["Dulu"] + 1
    supporters.confirm(session, link_digest=unsure.ticket.link_digest)
    assert exact(session, view)[TOTAL] == 3
    (event,) = audit.list_events(session, action=supporters.RELEASE)
    assert event.reason == "Satu sekolah, satu wifi"
    described = json.loads(event.data)["filter"]
    assert described["suspects_only"] is True
    assert sorted(described["supporters"]) == sorted((ids["Yakin"], ids["Ragu"], ids["Dulu"]))


def test_counting_every_held_signature_of_a_filter_goes_batch_by_batch(
    session: Session, view: CampaignView
) -> None:
    for n in range(5):
        signer(session, view, f"Siswa {n}", network="203.0.113.0/24", suspect=True)
    signer(session, view, "Lain", network="198.51.100.0/24", suspect=True)

    released = supporters.release(
        session,
        view=view,
        found=check(view, network="203.0.113.0/24"),
        reason="Sekolah",
        actor_id=None,
        batch=2,
    )

    assert released == 5
    assert exact(session, view) == {TOTAL: 5, SUSPECT: 1, f"pledge:{view.pledges[0].id}": 5}


def test_held_signatures_are_listed_newest_first_a_page_at_a_time(
    session: Session, view: CampaignView
) -> None:
    for n in range(3):
        signer(
            session, view, f"Siswa {n}", network="203.0.113.0/24", suspect=True, confirmed=n == 0
        )
    signer(session, view, "Bukan", network="203.0.113.0/24")

    listed = supporters.list_suspects(session, campaign_id=view.id, found=supporters.Filter())

    assert listed.total == 3
    assert [s.name for s in listed.items] == ["Siswa 2", "Siswa 1", "Siswa 0"]
    assert [s.confirmed for s in listed.items] == [False, False, True]
    assert listed.items[0].network == "203.0.113.0/24"
    assert listed.items[0].email_domain == "example.com"


# --- at the same time as signers -----------------------------------------------------------------


def test_an_invalidation_running_while_people_sign_and_confirm_keeps_the_counts_exact(
    engine: sa.Engine, session: Session, view: CampaignView
) -> None:
    partner = view.partners[1]
    for n in range(60):
        signer(
            session,
            view,
            f"Bot {n}",
            network="203.0.113.0/24",
            ref=partner.referral_code,
            confirmed=n % 3 != 0,
        )
    run = supporters.start(
        session,
        view=view,
        found=check(view, network="203.0.113.0/24"),
        reason=REASON,
        actor_id=None,
    )
    errors: list[BaseException] = []

    def sign_and_confirm(worker: int) -> None:
        try:
            with Session(engine, expire_on_commit=False) as own:
                for n in range(15):
                    network = "203.0.113.0/24" if n % 2 else "198.51.100.0/24"
                    signer(
                        own, view, f"Orang {worker}-{n}", network=network, ref=partner.referral_code
                    )
        except BaseException as error:
            errors.append(error)

    def invalidate() -> None:
        try:
            with Session(engine, expire_on_commit=False) as own:
                supporters.advance(own, run_id=run.id or 0, runner=run.runner, batch=7)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=sign_and_confirm, args=(w,)) for w in range(3)]
    threads.append(threading.Thread(target=invalidate))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    done = supporters.get_invalidation(session, campaign_id=view.id, run_id=run.id or 0)
    assert (done.status, done.invalidated) == (InvalidationStatus.DONE, 60)
    after = exact(session, view)
    assert after[TOTAL] == 45
    assert after[f"partner:{partner.id}"] == 45
