"""A campaign's supporters counted for its partners' statistics page, and read in batches for a
partner's export of the supporters who asked it for news."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session

from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.security import FieldCipher
from pledge.supporters import service as supporters
from pledge.supporters.models import supporter_table
from tests.support.factories import MakeCampaign, Sign


def signed(sign: Sign, view: CampaignView, **fields: object) -> int:
    """Sign the campaign; the new supporter's id."""
    signing = sign(view, **fields)
    assert signing.supporter is not None
    return int(signing.supporter.id)


def set_signed_at(session: Session, supporter_id: int, moment: datetime) -> None:
    session.execute(
        sa.update(supporter_table)
        .where(supporter_table.c.id == supporter_id)
        .values(created_at=moment)
    )
    session.commit()


# --- the statistics page -----------------------------------------------------------------


def test_supporters_are_counted_by_province_and_age_band_per_campaign(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view, other = make_campaign(), make_campaign()
    for i in range(3):
        sign(view, contact=f"jakarta{i}@example.com", province="ID-JK", age_band="20-24")
    sign(view, contact="bandung@example.com", province="ID-JB", age_band="17-19")
    sign(view, contact="diam@example.com", province="ID-JB", age_band="")
    sign(other, contact="bali@example.com", province="ID-BA", age_band="40+")

    assert supporters.count_by_province(session, campaign_id=view.id) == {"ID-JK": 3, "ID-JB": 2}
    assert supporters.count_by_age_band(session, campaign_id=view.id) == {
        "20-24": 3,
        "17-19": 1,
        None: 1,
    }
    assert supporters.count_by_province(session, campaign_id=other.id) == {"ID-BA": 1}


def test_new_supporters_are_counted_per_utc_hour_from_a_moment_on(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign()
    times = [
        datetime(2026, 3, 9, 23, 59, tzinfo=UTC),  # before `since`
        datetime(2026, 3, 10, 1, 5, tzinfo=UTC),
        datetime(2026, 3, 10, 1, 55, tzinfo=UTC),
        datetime(2026, 3, 10, 4, 0, tzinfo=UTC),
    ]
    for i, moment in enumerate(times):
        set_signed_at(session, signed(sign, view, contact=f"jam{i}@example.com"), moment)

    counts = supporters.count_by_hour(
        session, campaign_id=view.id, since=datetime(2026, 3, 10, tzinfo=UTC)
    )
    assert counts == {
        datetime(2026, 3, 10, 1, tzinfo=UTC): 2,
        datetime(2026, 3, 10, 4, tzinfo=UTC): 1,
    }
    assert all(hour.tzinfo == UTC for hour in counts)


def test_supporters_who_asked_a_partner_for_news_are_counted_until_anonymised(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign(partners=1)
    lead, partner = view.partners
    first = signed(sign, view, contact="satu@example.com", updates_org=partner.slug)
    signed(sign, view, contact="dua@example.com", updates_org=partner.slug)
    signed(sign, view, contact="tiga@example.com", updates_org=lead.slug)
    signed(sign, view, contact="empat@example.com")

    assert supporters.count_opted_in(session, partner_id=partner.id) == 2
    assert supporters.count_opted_in(session, partner_id=lead.id) == 1
    session.execute(
        sa.update(supporter_table)
        .where(supporter_table.c.id == first)
        .values(anonymised_at=datetime(2026, 3, 10, tzinfo=UTC), contact_encrypted=None)
    )
    session.commit()
    assert supporters.count_opted_in(session, partner_id=partner.id) == 1


# --- the export --------------------------------------------------------------------------


def test_the_export_reads_opted_in_supporters_in_batches_up_to_the_last_one_counted(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign(partners=1)
    lead, partner = view.partners
    ids = [
        signed(
            sign, view, name=f"Orang {i}", contact=f"orang{i}@example.com", updates_org=partner.slug
        )
        for i in range(5)
    ]
    signed(sign, view, contact="lain@example.com", updates_org=lead.slug)

    opted_in = supporters.get_opted_in(session, campaign_id=view.id, partner_id=partner.id)
    assert opted_in == supporters.OptedIn(count=5, last_id=ids[-1])
    # Someone asking for news after the count is not in this export.
    signed(sign, view, contact="telat@example.com", updates_org=partner.slug)

    read: list[int] = []
    after = 0
    while True:
        batch = supporters.list_opted_in(
            session,
            campaign_id=view.id,
            partner_id=partner.id,
            after=after,
            last_id=opted_in.last_id,
            limit=2,
        )
        if not batch:
            break
        assert len(batch) <= 2
        read += [row.id for row in batch]
        after = batch[-1].id
    assert read == ids

    first = supporters.list_opted_in(
        session, campaign_id=view.id, partner_id=partner.id, after=0, last_id=ids[0], limit=10
    )
    assert [(row.display_name, row.province) for row in first] == [("Orang 0", "ID-JK")]
    cipher = FieldCipher(get_settings().secret_key)
    assert cipher.decrypt(first[0].contact_encrypted) == "orang0@example.com"


def test_nobody_has_asked_a_partner_with_no_opted_in_supporter(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign(partners=1)
    signed(sign, view, contact="satu@example.com")
    partner = view.partners[1]
    assert supporters.get_opted_in(
        session, campaign_id=view.id, partner_id=partner.id
    ) == supporters.OptedIn(count=0, last_id=0)


def test_the_pledges_each_supporter_signed_are_given_by_supporter(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign()
    pledge_ids = {p.slug: p.id for p in view.pledges}
    both = signed(
        sign, view, contact="dua@example.com", pledges=["tolak-politik-uang", "lawan-hoaks"]
    )
    one = signed(sign, view, contact="satu@example.com", pledges=["gunakan-hak-pilih"])
    signed(sign, view, contact="lain@example.com")

    signed_pledges = supporters.list_signed_pledge_ids(session, supporter_ids=[both, one])
    assert {k: sorted(v) for k, v in signed_pledges.items()} == {
        both: sorted([pledge_ids["tolak-politik-uang"], pledge_ids["lawan-hoaks"]]),
        one: [pledge_ids["gunakan-hak-pilih"]],
    }
