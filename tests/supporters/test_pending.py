"""Signatures waiting for their confirmation, over the days: reminders by email, at most two
and two days apart, and the deletion of those never confirmed, counts kept exact."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.campaigns.models import CampaignView
from pledge.cli import main as cli
from pledge.db import utcnow
from pledge.privacy import retention
from pledge.supporters import service as supporters
from pledge.supporters.models import PENDING, TOTAL, confirmation_table, supporter_table
from tests.support.forms import sign_form
from tests.support.pages import csrf_token
from tests.support.signing import confirm_signing, emails_to

MakeCampaign = Callable[..., CampaignView]
RINA = "rina@example.com"
DAY = timedelta(days=1)


def links(slug: str) -> supporters.SignerLinks:
    return supporters.SignerLinks(
        confirm=f"http://testserver/c/{slug}/confirm/",
        private=f"http://testserver/c/{slug}/thanks/",
    )


def sign_pending(session: Session, view: CampaignView, contact: str = RINA) -> None:
    supporters.sign(session, view=view, form=sign_form(contact=contact), links=links(view.slug))


def counts(session: Session, view: CampaignView) -> dict[str, int]:
    session.rollback()
    return supporters.read_counts(session, campaign_id=view.id).by_key


def test_a_pending_email_signer_is_reminded_twice_two_days_apart_then_never_again(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    sign_pending(session, view)
    start = utcnow()

    sent = [
        supporters.remind(session, links_for=links, now=start + offset)
        for offset in (
            DAY,
            2 * DAY + timedelta(minutes=1),
            3 * DAY,
            4 * DAY + timedelta(minutes=2),
            6 * DAY + timedelta(minutes=3),
        )
    ]

    assert sent == [0, 1, 0, 1, 0]
    messages = emails_to(session, RINA)
    assert len(messages) == 3
    assert all("Reminder" in m.subject or "Pengingat" in m.subject for m in messages[1:])
    assert len({m.code for m in messages}) == 3  # a new code each time


def test_the_reminders_code_and_the_first_messages_link_both_still_confirm(
    client: TestClient, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    sign_pending(session, view)
    supporters.remind(session, links_for=links, now=utcnow() + 2 * DAY + timedelta(minutes=1))
    first, reminder = emails_to(session, RINA)

    path = reminder.confirm_path
    done = client.post(path, data={"csrf_token": csrf_token(client, path)})

    assert done.status_code == 303
    assert counts(session, view)[TOTAL] == 1
    assert client.get(first.confirm_path).status_code == 200  # already confirmed, still valid


def test_confirmed_and_whatsapp_signers_get_no_reminder(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    signing = supporters.sign(session, view=view, form=sign_form(), links=links(view.slug))
    confirm_signing(session, signing)
    supporters.sign(session, view=view, form=sign_form(contact="0812 3456 7890"))

    assert supporters.remind(session, links_for=links, now=utcnow() + 3 * DAY) == 0


def test_a_pending_signature_is_deleted_after_the_pending_days_with_its_data_and_count(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    sign_pending(session, view, "lama@example.com")
    kept = supporters.sign(session, view=view, form=sign_form(contact="tetap@example.com"))
    confirm_signing(session, kept)
    sign_pending(session, view, "baru@example.com")
    session.execute(
        sa.update(supporter_table)
        .where(supporter_table.c.confirmed_at.is_(None))
        .where(
            supporter_table.c.id == sa.select(sa.func.min(supporter_table.c.id)).scalar_subquery()
        )
        .values(created_at=utcnow() - 8 * DAY)
    )
    session.commit()

    deleted = supporters.delete_expired(session)

    assert deleted == 1
    assert counts(session, view)[PENDING] == 1
    assert counts(session, view)[TOTAL] == 1
    left = session.execute(sa.select(sa.func.count()).select_from(supporter_table)).scalar_one()
    assert left == 2
    truth = supporters.true_counts(session, campaign_id=view.id)
    assert truth[PENDING] == 1 and truth[TOTAL] == 1


def test_retention_reminds_and_deletes_and_says_so(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    sign_pending(session, view)

    report = retention.run(session, utcnow() + 2 * DAY + timedelta(minutes=1), links_for=links)
    later = retention.run(session, utcnow() + 8 * DAY, links_for=links)

    assert (report.reminded, report.pending_deleted) == (1, 0)
    assert (later.reminded, later.pending_deleted) == (0, 1)
    assert "1 unconfirmed signature(s) deleted." in str(later)
    assert (
        session.execute(sa.select(sa.func.count()).select_from(confirmation_table)).scalar_one()
        == 0
    )


def test_the_retention_command_sends_reminders_with_links_to_the_public_address(
    session: Session,
    make_campaign: MakeCampaign,
    use_settings: Callable[..., object],
    capsys: object,
) -> None:
    view = make_campaign()
    sign_pending(session, view)
    session.execute(sa.update(confirmation_table).values(last_message_at=utcnow() - 3 * DAY))
    session.commit()
    use_settings(public_url="https://suara.example.id")

    assert cli(["retention", "run"]) == 0

    reminder = emails_to(session, RINA)[-1]
    assert f"https://suara.example.id/c/{view.slug}/confirm/" in reminder.body
