"""Campaign rules: visibility, slugs, pledges, partners and referral codes, status moves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from pledge.accounts.models import Organization
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import Campaign, CampaignPartner, CampaignStatus, CampaignView
from pledge.db import utcnow
from pledge.errors import Conflict, Invalid, NotFound
from tests.support.factories import refresh

MakeCampaign = Callable[..., CampaignView]
MakeOrg = Callable[..., Organization]


def _campaign(session: Session, view: CampaignView) -> Campaign:
    campaign = session.get(Campaign, view.id)
    assert campaign is not None
    return campaign


# --- visibility ----------------------------------------------------------------------


def test_get_view_hides_a_draft_from_the_public(make_campaign: MakeCampaign, session: Session):
    draft = make_campaign(status="draft")
    with pytest.raises(NotFound):
        campaigns.get_view(session, slug=draft.slug)
    with pytest.raises(NotFound):
        campaigns.get_view(session, slug=draft.slug, public=True)


def test_get_view_shows_a_draft_to_its_organisers(make_campaign: MakeCampaign, session: Session):
    draft = make_campaign(status="draft")
    view = campaigns.get_view(session, slug=draft.slug, public=False)
    assert view.id == draft.id
    assert view.campaign.status == CampaignStatus.DRAFT
    assert [p.slug for p in view.pledges] == [
        "tolak-politik-uang",
        "gunakan-hak-pilih",
        "lawan-hoaks",
    ]


@pytest.mark.parametrize("status", ["live", "closed"])
def test_get_view_shows_live_and_closed_campaigns(
    make_campaign: MakeCampaign, session: Session, status: str
):
    made = make_campaign(status=status)
    view = campaigns.get_view(session, slug=made.slug)
    assert view.campaign.status == status


def test_get_view_of_an_unknown_slug_is_not_found(session: Session):
    with pytest.raises(NotFound):
        campaigns.get_view(session, slug="tidak-ada", public=False)


def test_list_views_shows_only_public_campaigns(make_campaign: MakeCampaign, session: Session):
    live = make_campaign(status="live")
    closed = make_campaign(status="closed")
    make_campaign(status="draft")
    slugs = {view.slug for view in campaigns.list_views(session)}
    assert slugs == {live.slug, closed.slug}


def test_view_lists_the_lead_first_and_knows_it(make_campaign: MakeCampaign):
    view = make_campaign(partners=3)
    assert len(view.partners) == 4  # the lead organisation is a partner too
    assert view.partners[0].is_lead
    assert sum(p.is_lead for p in view.partners) == 1
    assert view.lead is view.partners[0]
    assert view.lead.id != view.partners[1].id


# --- creating ------------------------------------------------------------------------


BAD_SLUGS = [
    "",
    "Kampanye",
    "kampanye baru",
    "kampanye_baru",
    "-kampanye",
    "kampanye-",
    "a--b",
    "kampañye",
    "kampanye\n",
    "a" * 65,
]


@pytest.mark.parametrize("slug", BAD_SLUGS)
def test_create_refuses_a_bad_slug(make_org: MakeOrg, session: Session, slug: str):
    with pytest.raises(Invalid) as caught:
        campaigns.create(session, slug=slug, title="Judul", lead_org=make_org())
    assert set(caught.value.errors) == {"slug"}
    assert caught.value.errors["slug"]
    session.rollback()
    assert session.exec(select(Campaign)).all() == []


def test_create_accepts_a_slug_of_64_characters(make_org: MakeOrg, session: Session):
    campaign = campaigns.create(session, slug="a" * 64, title="Judul", lead_org=make_org())
    assert campaign.id is not None
    assert campaign.status == CampaignStatus.DRAFT


def test_create_refuses_a_duplicate_slug(make_org: MakeOrg, session: Session):
    campaigns.create(session, slug="pemilu-damai", title="Satu", lead_org=make_org())
    session.commit()
    with pytest.raises(Conflict):
        campaigns.create(session, slug="pemilu-damai", title="Dua", lead_org=make_org())
    session.rollback()
    assert [c.title for c in session.exec(select(Campaign))] == ["Satu"]


def test_create_makes_the_lead_organisation_a_partner(make_org: MakeOrg, session: Session):
    lead = make_org()
    campaign = campaigns.create(session, slug="pemilu-damai", title="Satu", lead_org=lead)
    session.commit()
    view = campaigns.get_view(session, slug=campaign.slug, public=False)
    assert [(p.slug, p.is_lead) for p in view.partners] == [(lead.slug, True)]


# --- pledges -------------------------------------------------------------------------


def test_add_pledge_numbers_positions_in_order(make_campaign: MakeCampaign, session: Session):
    view = make_campaign(status="draft", pledges=())
    campaign = _campaign(session, view)
    first = campaigns.add_pledge(session, campaign=campaign, slug="satu", text="Satu")
    second = campaigns.add_pledge(session, campaign=campaign, slug="dua", text="Dua")
    third = campaigns.add_pledge(session, campaign=campaign, slug="tiga", text="Tiga")
    session.commit()
    assert (first.position, second.position, third.position) == (0, 1, 2)
    assert [p.slug for p in refresh(session, view).pledges] == ["satu", "dua", "tiga"]


def test_add_pledge_refuses_a_duplicate_slug(make_campaign: MakeCampaign, session: Session):
    view = make_campaign(status="draft")
    with pytest.raises(Conflict):
        campaigns.add_pledge(
            session, campaign=_campaign(session, view), slug="lawan-hoaks", text="Lagi"
        )
    session.rollback()
    assert len(refresh(session, view).pledges) == 3


def test_add_pledge_refuses_a_bad_slug(make_campaign: MakeCampaign, session: Session):
    view = make_campaign(status="draft", pledges=())
    with pytest.raises(Invalid) as caught:
        campaigns.add_pledge(session, campaign=_campaign(session, view), slug="Tolak!", text="X")
    assert set(caught.value.errors) == {"slug"}


def test_the_same_pledge_slug_may_be_used_by_two_campaigns(
    make_campaign: MakeCampaign, session: Session
):
    one = make_campaign()
    other = make_campaign()
    assert one.pledge_by_slug("lawan-hoaks") is not None
    assert other.pledge_by_slug("lawan-hoaks") is not None
    assert one.pledge_by_slug("lawan-hoaks").id != other.pledge_by_slug("lawan-hoaks").id  # type: ignore[union-attr]


# --- partners and referral codes -----------------------------------------------------


def test_add_partner_is_idempotent(
    make_campaign: MakeCampaign, make_org: MakeOrg, session: Session
):
    view = make_campaign(partners=0)
    campaign = _campaign(session, view)
    org = make_org()
    first = campaigns.add_partner(session, campaign=campaign, org=org)
    again = campaigns.add_partner(session, campaign=campaign, org=org)
    also = campaigns.add_partner(session, campaign=campaign, org=org, referral_code="lainnya")
    session.commit()
    assert first.id == again.id == also.id
    assert first.referral_code == again.referral_code == also.referral_code
    rows = session.exec(
        select(CampaignPartner).where(
            CampaignPartner.campaign_id == view.id, CampaignPartner.org_id == org.id
        )
    ).all()
    assert len(rows) == 1
    assert len(refresh(session, view).partners) == 2  # the lead and this one


def test_add_partner_keeps_a_given_referral_code(
    make_campaign: MakeCampaign, make_org: MakeOrg, session: Session
):
    view = make_campaign(partners=0)
    partner = campaigns.add_partner(
        session, campaign=_campaign(session, view), org=make_org(), referral_code="kawan29"
    )
    session.commit()
    assert partner.referral_code == "kawan29"
    assert refresh(session, view).partner_by_code(" kawan29 ") is not None


def test_referral_codes_are_unique_and_unambiguous(make_campaign: MakeCampaign):
    views = [make_campaign(partners=8) for _ in range(3)]
    codes = [p.referral_code for view in views for p in view.partners]
    assert len(codes) == 27
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert len(code) == 8
        assert set(code) <= set(campaigns.REFERRAL_ALPHABET), code
        assert not set(code) & set("0O1lIo"), code


def test_the_referral_alphabet_has_no_look_alikes():
    assert not set(campaigns.REFERRAL_ALPHABET) & set("0O1lIo")
    assert len(set(campaigns.REFERRAL_ALPHABET)) == len(campaigns.REFERRAL_ALPHABET)
    assert all(
        set(campaigns.new_referral_code()) <= set(campaigns.REFERRAL_ALPHABET) for _ in range(200)
    )


def test_partner_lookups(make_campaign: MakeCampaign):
    view = make_campaign(partners=2)
    partner = view.partners[1]
    assert view.partner_by_code(partner.referral_code) == partner
    assert view.partner_by_slug(partner.slug) == partner
    assert view.partner_by_code("tidakada") is None
    assert view.partner_by_slug("tidak-ada") is None


# --- status --------------------------------------------------------------------------


def test_draft_goes_live_with_a_pledge(make_campaign: MakeCampaign, session: Session):
    view = make_campaign(status="draft")
    before = utcnow()
    campaign = campaigns.set_status(
        session, campaign=_campaign(session, view), status=CampaignStatus.LIVE
    )
    session.commit()
    assert campaign.status == CampaignStatus.LIVE
    assert campaign.starts_at is not None
    assert before <= campaign.starts_at <= utcnow()
    assert refresh(session, view).campaign.status == CampaignStatus.LIVE


def test_draft_without_a_pledge_cannot_go_live(make_campaign: MakeCampaign, session: Session):
    view = make_campaign(status="draft", pledges=())
    with pytest.raises(Invalid) as caught:
        campaigns.set_status(session, campaign=_campaign(session, view), status=CampaignStatus.LIVE)
    assert set(caught.value.errors) == {"status"}
    session.rollback()
    assert refresh(session, view).campaign.status == CampaignStatus.DRAFT


def test_going_live_keeps_a_planned_start(make_campaign: MakeCampaign, session: Session):
    start = utcnow() + timedelta(days=3)
    view = make_campaign(status="live", starts_at=start)
    assert refresh(session, view).campaign.starts_at == start


def test_closing_a_live_campaign_sets_its_end(make_campaign: MakeCampaign, session: Session):
    view = make_campaign(status="live")
    assert view.campaign.ends_at is None
    before = utcnow()
    campaigns.set_status(session, campaign=_campaign(session, view), status=CampaignStatus.CLOSED)
    session.commit()
    campaign = refresh(session, view).campaign
    assert campaign.status == CampaignStatus.CLOSED
    assert campaign.ends_at is not None
    assert before <= campaign.ends_at <= utcnow()


def test_closing_early_brings_a_planned_end_forward(make_campaign: MakeCampaign, session: Session):
    planned = utcnow() + timedelta(days=30)
    view = make_campaign(status="live", ends_at=planned)
    campaigns.set_status(session, campaign=_campaign(session, view), status=CampaignStatus.CLOSED)
    session.commit()
    ends_at = refresh(session, view).campaign.ends_at
    assert ends_at is not None
    assert ends_at <= utcnow() < planned


def test_a_draft_cannot_be_closed(make_campaign: MakeCampaign, session: Session):
    view = make_campaign(status="draft")
    with pytest.raises(Invalid) as caught:
        campaigns.set_status(
            session, campaign=_campaign(session, view), status=CampaignStatus.CLOSED
        )
    assert set(caught.value.errors) == {"status"}
    session.rollback()
    campaign = refresh(session, view).campaign
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.ends_at is None


@pytest.mark.parametrize("status", ["live", "closed"])
def test_a_public_campaign_cannot_go_back_to_draft(
    make_campaign: MakeCampaign, session: Session, status: str
):
    view = make_campaign(status=status)
    with pytest.raises(Invalid):
        campaigns.set_status(
            session, campaign=_campaign(session, view), status=CampaignStatus.DRAFT
        )
    session.rollback()
    assert refresh(session, view).campaign.status == status


def test_setting_the_same_status_changes_nothing(make_campaign: MakeCampaign, session: Session):
    view = make_campaign(status="live")
    campaign = _campaign(session, view)
    updated_at = campaign.updated_at
    assert campaigns.set_status(session, campaign=campaign, status=CampaignStatus.LIVE) is campaign
    assert campaign.updated_at == updated_at
    assert campaign.ends_at is None


# --- signable ------------------------------------------------------------------------


def test_a_live_campaign_is_signable(make_campaign: MakeCampaign, session: Session):
    view = make_campaign(status="live")
    assert campaigns.is_signable(view.campaign)
    assert campaigns.is_signable(refresh(session, view).campaign)


@pytest.mark.parametrize("status", ["draft", "closed"])
def test_draft_and_closed_campaigns_are_not_signable(
    make_campaign: MakeCampaign, session: Session, status: str
):
    view = make_campaign(status=status)
    assert not campaigns.is_signable(view.campaign)
    assert not campaigns.is_signable(refresh(session, view).campaign)


@pytest.mark.parametrize(
    ("starts_in", "ends_in", "signable"),
    [
        pytest.param(None, None, True, id="open-ended"),
        pytest.param(timedelta(days=-1), None, True, id="started"),
        pytest.param(timedelta(hours=1), None, False, id="starts-later"),
        pytest.param(None, timedelta(days=1), True, id="ends-later"),
        pytest.param(None, timedelta(minutes=-1), False, id="ended"),
        pytest.param(timedelta(days=-2), timedelta(days=2), True, id="within"),
        pytest.param(timedelta(days=-2), timedelta(days=-1), False, id="after"),
        pytest.param(timedelta(days=1), timedelta(days=2), False, id="before"),
    ],
)
def test_a_live_campaign_is_signable_only_between_its_dates(
    make_campaign: MakeCampaign,
    session: Session,
    starts_in: timedelta | None,
    ends_in: timedelta | None,
    signable: bool,
):
    now = utcnow()
    view = make_campaign(
        status="live",
        starts_at=now + starts_in if starts_in is not None else None,
        ends_at=now + ends_in if ends_in is not None else None,
    )
    # Read back from the database, so that stored datetimes are compared, not ours.
    campaign = refresh(session, view).campaign
    assert campaign.status == CampaignStatus.LIVE
    assert campaigns.is_signable(campaign) is signable


def test_is_signable_at_a_given_moment(make_campaign: MakeCampaign, session: Session):
    now = utcnow()
    view = make_campaign(
        status="live", starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2)
    )
    campaign = refresh(session, view).campaign
    assert not campaigns.is_signable(campaign, now)
    assert campaigns.is_signable(campaign, now + timedelta(days=1))
    assert campaigns.is_signable(campaign, now + timedelta(days=1, hours=23))
    assert not campaigns.is_signable(campaign, now + timedelta(days=2))
