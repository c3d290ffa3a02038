"""Campaigns, partners and pledges as the other domains read them, and the campaign's part of
a statement that reads another domain's rows in the same round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from pledge.accounts.models import Organization
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import (
    PUBLIC_STATUSES,
    Campaign,
    CampaignStatus,
    CampaignView,
    campaign_table,
)
from pledge.db import utcnow
from pledge.hoaxes.models import HoaxCase, hoax_case_table
from pledge.supporters.models import signature_table
from tests.support.factories import MakeCampaign, MakeCase, MakeOrg, Sign, make_partner

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def set_dates(
    session: Session, view: CampaignView, *, closed_at: datetime | None, ends_at: datetime | None
) -> None:
    session.execute(
        sa.update(campaign_table)
        .where(campaign_table.c.id == view.id)
        .values(closed_at=closed_at, ends_at=ends_at)
    )
    session.commit()


def join(session: Session, view: CampaignView, org: Organization) -> None:
    campaign = session.get(Campaign, view.id)
    assert campaign is not None
    make_partner(session, campaign, org)
    session.commit()


# --- campaigns ---------------------------------------------------------------------------


def test_a_campaign_is_found_by_id_or_is_none(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign(status="draft", slug="suara-muda")
    found = campaigns.get_or_none(session, view.id)
    assert found is not None and found.slug == "suara-muda"
    assert campaigns.get_or_none(session, view.id + 100) is None


def test_campaigns_are_counted_by_status(session: Session, make_campaign: MakeCampaign) -> None:
    make_campaign(status="live")
    make_campaign(status="live")
    make_campaign(status="draft")
    make_campaign(status="closed")
    assert campaigns.count_campaigns(session, status=CampaignStatus.LIVE) == 2
    assert campaigns.count_campaigns(session, status=CampaignStatus.DRAFT) == 1
    assert campaigns.count_campaigns(session, status=CampaignStatus.CLOSED) == 1


def test_every_campaign_has_its_address_and_title_by_id(
    session: Session, make_campaign: MakeCampaign
) -> None:
    live = make_campaign(slug="suara-muda", title="Suara Muda")
    draft = make_campaign(status="draft", slug="pilih-cerdas", title="Pilih Cerdas")
    titles = campaigns.list_titles(session)
    assert titles == {
        live.id: campaigns.CampaignTitle("suara-muda", "Suara Muda"),
        draft.id: campaigns.CampaignTitle("pilih-cerdas", "Pilih Cerdas"),
    }
    assert titles[live.id].title == "Suara Muda"


def test_campaigns_closed_by_hand_or_ended_before_the_cutoff_are_listed(
    session: Session, make_campaign: MakeCampaign
) -> None:
    closed_long_ago = make_campaign(status="closed", slug="lama")
    ended_long_ago = make_campaign(slug="berakhir")
    closed_at_cutoff = make_campaign(status="closed", slug="tepat")
    closed_recently = make_campaign(status="closed", slug="baru")
    make_campaign(slug="berjalan")
    set_dates(session, closed_long_ago, closed_at=NOW - timedelta(days=400), ends_at=None)
    set_dates(session, ended_long_ago, closed_at=None, ends_at=NOW - timedelta(days=300))
    set_dates(session, closed_at_cutoff, closed_at=NOW - timedelta(days=180), ends_at=None)
    set_dates(session, closed_recently, closed_at=NOW - timedelta(days=10), ends_at=NOW)

    due = campaigns.list_closed_before(session, cutoff=NOW - timedelta(days=180))
    assert due == [
        (closed_long_ago.id, "lama"),
        (ended_long_ago.id, "berakhir"),
        (closed_at_cutoff.id, "tepat"),
    ]


def test_an_organisations_campaigns_are_those_it_leads_and_those_it_joined(
    session: Session, make_campaign: MakeCampaign, make_org: MakeOrg
) -> None:
    org = make_org()
    second = make_campaign(lead=org, slug="kedua", title="Kedua")
    first = make_campaign(lead=org, slug="pertama", title="Pertama")
    session.execute(
        sa.update(campaign_table)
        .where(campaign_table.c.id == first.id)
        .values(created_at=utcnow() - timedelta(days=2))
    )
    session.commit()
    joined = make_campaign(slug="bergabung", title="Bergabung")
    make_campaign(slug="lain", title="Lain")
    join(session, joined, org)

    assert [c.slug for c in campaigns.list_led(session, org_id=org.id or 0)] == [
        second.slug,
        first.slug,
    ]
    assert [c.slug for c in campaigns.list_joined(session, org_id=org.id or 0)] == ["bergabung"]
    # By title, whether led or joined: the campaigns a moderator of any of them sees.
    partnered = campaigns.list_partnered(session, org_ids=[org.id or 0])
    assert [c.slug for c in partnered] == ["bergabung", "kedua", "pertama"]
    assert campaigns.list_partnered(session, org_ids=[]) == []


# --- partners ----------------------------------------------------------------------------


def test_whether_one_of_some_organisations_partners_in_a_campaign(
    session: Session, make_campaign: MakeCampaign, make_org: MakeOrg
) -> None:
    org, stranger = make_org(), make_org()
    view = make_campaign(lead=org, partners=0)
    assert campaigns.has_partner(
        session, campaign_id=view.id, org_ids=[stranger.id or 0, org.id or 0]
    )
    assert not campaigns.has_partner(session, campaign_id=view.id, org_ids=[stranger.id or 0])
    assert not campaigns.has_partner(session, campaign_id=view.id, org_ids=[])


def test_partners_are_named_by_their_organisation(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign(partners=2)
    lead, co_partner, _other = view.partners
    names = campaigns.get_partner_names(session, partner_ids={lead.id, co_partner.id, 999})
    assert names == {lead.id: lead.name, co_partner.id: co_partner.name}
    assert campaigns.get_partner_names(session, partner_ids=set()) == {}


# --- the campaign's part of another domain's statement -----------------------------------


def test_another_domains_rows_are_kept_to_the_campaigns_some_organisations_partner_in(
    session: Session, make_campaign: MakeCampaign, make_org: MakeOrg, make_case: MakeCase
) -> None:
    org = make_org()
    mine, theirs = make_campaign(lead=org), make_campaign()
    seen = make_case(mine)
    make_case(theirs)
    case_ids = session.execute(
        sa.select(hoax_case_table.c.id).where(
            hoax_case_table.c.campaign_id.in_(
                campaigns.select_partnered_campaign_ids([org.id or 0])
            )
        )
    ).scalars()
    assert list(case_ids) == [seen.id]


def test_another_domains_rows_are_kept_to_the_campaigns_in_some_statuses(
    session: Session, make_campaign: MakeCampaign, make_case: MakeCase
) -> None:
    live, draft = make_campaign(status="live"), make_campaign(status="draft")
    public = make_case(live)
    make_case(draft)
    case_ids = session.execute(
        sa.select(hoax_case_table.c.id).where(
            hoax_case_table.c.campaign_id.in_(
                campaigns.select_campaign_ids(statuses=PUBLIC_STATUSES)
            )
        )
    ).scalars()
    assert list(case_ids) == [public.id]


def test_another_domains_rows_come_with_their_campaign_when_it_is_in_some_statuses(
    session: Session, make_campaign: MakeCampaign, make_case: MakeCase
) -> None:
    live, closed, draft = (
        make_campaign(status="live"),
        make_campaign(status="closed"),
        make_campaign(status="draft"),
    )
    wanted = make_case(live, status="published")
    make_case(live)  # new: not what the caller asks for
    shown_closed = make_case(closed, status="published")
    make_case(draft, status="published")
    rows = session.exec(
        campaigns.select_with_campaign(
            HoaxCase,
            col(HoaxCase.status) == "published",
            campaign_id=HoaxCase.campaign_id,
            statuses=PUBLIC_STATUSES,
        ).order_by(col(HoaxCase.id))
    ).all()
    assert [(case.id, campaign.slug) for case, campaign in rows] == [
        (wanted.id, live.slug),
        (shown_closed.id, closed.slug),
    ]
    assert all(isinstance(campaign, Campaign) for _case, campaign in rows)


def test_signatures_come_with_their_pledge_text_in_the_campaigns_order(
    session: Session, make_campaign: MakeCampaign, sign: Sign
) -> None:
    view = make_campaign()
    signing = sign(view, pledges=["lawan-hoaks", "tolak-politik-uang"])
    assert signing.supporter is not None
    statement = campaigns.select_with_pledge_text(
        signature_table.c.supporter_id, pledge_id=signature_table.c.pledge_id
    ).where(signature_table.c.supporter_id == signing.supporter.id)
    texts = [text for _supporter, text in session.execute(statement)]
    assert texts == ["Janji tolak-politik-uang", "Janji lawan-hoaks"]
