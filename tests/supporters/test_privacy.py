"""Supporters found by their contact for a personal data request (their rows, the pledges they
signed, the friends they brought), and anonymised by retention."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.security import contact_digest
from pledge.supporters import service as supporters
from pledge.supporters.models import supporter_table
from tests.support.factories import MakeCampaign, Sign

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def signed(sign: Sign, view: CampaignView, **fields: object) -> int:
    signing = sign(view, **fields)
    assert signing.supporter is not None
    return int(signing.supporter.id)


def digest(contact: str) -> str:
    return contact_digest(get_settings().secret_key, contact)


def row(session: Session, supporter_id: int) -> dict[str, Any]:
    session.commit()
    found = session.execute(
        sa.select(supporter_table).where(supporter_table.c.id == supporter_id)
    ).one()
    return dict(found._mapping)


def test_a_contacts_supporters_are_found_in_the_campaigns_named_oldest_first(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    first, second, third = make_campaign(), make_campaign(), make_campaign()
    in_second = signed(sign, second, name="Rina P.", contact="Rina.Putri@Example.com")
    in_first = signed(sign, first, name="Rina Putri", contact="rina.putri@example.com")
    signed(sign, third, contact="rina.putri@example.com")
    signed(sign, first, contact="sari@example.com")
    session.execute(
        sa.update(supporter_table)
        .where(supporter_table.c.id == in_first)
        .values(created_at=datetime(2026, 1, 1, tzinfo=UTC))
    )
    session.commit()

    rows = supporters.list_by_digest(
        session, digest=digest("rina.putri@example.com"), campaign_ids=[first.id, second.id]
    )
    assert [(r.id, r.campaign_id, r.display_name) for r in rows] == [
        (in_first, first.id, "Rina Putri"),
        (in_second, second.id, "Rina P."),
    ]
    assert (
        supporters.list_by_digest(session, digest=digest("x@example.com"), campaign_ids=[first.id])
        == []
    )
    assert supporters.list_by_digest(session, digest=rows[0].contact_digest, campaign_ids=[]) == []


def test_the_pledges_each_supporter_signed_are_given_by_text_in_the_campaigns_order(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign()
    both = signed(
        sign, view, contact="dua@example.com", pledges=["lawan-hoaks", "tolak-politik-uang"]
    )
    one = signed(sign, view, contact="satu@example.com", pledges=["gunakan-hak-pilih"])
    signed(sign, view, contact="lain@example.com")
    assert supporters.list_signed_pledge_texts(session, supporter_ids=[both, one]) == {
        both: ["Janji tolak-politik-uang", "Janji lawan-hoaks"],
        one: ["Janji gunakan-hak-pilih"],
    }


def test_the_friends_each_supporter_brought_are_counted(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign()
    rina, budi, sari = (
        signed(sign, view, contact=f"{name}@example.com") for name in ("rina", "budi", "sari")
    )
    friends = [signed(sign, view, contact=f"teman{i}@example.com") for i in range(3)]
    for friend, inviter in zip(friends, (rina, rina, budi), strict=True):
        session.execute(
            sa.update(supporter_table)
            .where(supporter_table.c.id == friend)
            .values(invited_by_id=inviter)
        )
    session.commit()
    assert supporters.count_invited(session, supporter_ids=[rina, budi, sari]) == {rina: 2, budi: 1}


def test_a_campaigns_supporters_are_anonymised_in_batches_and_once(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view, other = make_campaign(partners=1), make_campaign()
    partner = view.partners[1]
    ids = [
        signed(
            sign,
            view,
            name=f"Orang {i}",
            contact=f"orang{i}@example.com",
            province="ID-JB",
            age_band="20-24",
            show_name="on",
            updates_org=partner.slug,
        )
        for i in range(5)
    ]
    kept = signed(sign, other, name="Sari", contact="sari@example.com")
    counts_before = supporters.read_counts(session, campaign_id=view.id).by_key

    assert supporters.anonymise(session, campaign_id=view.id, now=NOW, batch=2) == 5
    for supporter_id in ids:
        after = row(session, supporter_id)
        assert after["display_name"] == ""
        assert after["contact_encrypted"] is None
        assert after["contact_digest"].startswith("anon:")
        assert after["show_name"] is False
        assert after["anonymised_at"] == NOW
        # What the statistics read stays.
        assert (after["province"], after["age_band"]) == ("ID-JB", "20-24")
    assert len({row(session, i)["contact_digest"] for i in ids}) == 5
    assert row(session, kept)["display_name"] == "Sari"
    assert supporters.read_counts(session, campaign_id=view.id).by_key == counts_before
    # A second pass finds nothing left to do.
    assert supporters.anonymise(session, campaign_id=view.id, now=NOW) == 0
