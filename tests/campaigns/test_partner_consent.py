"""A co-partner only with its consent: the lead invites an organisation, which is no partner
(no link that counts, no hoaxes for its moderators, no name on the page) until one of its
admins accepts; it may decline, or leave later (its supporters stay in the total, its name
goes). An approved organisation's new name or website waits for a site administrator."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pledge import audit
from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role
from pledge.audit import AuditAction, AuditEvent
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignPartner, CampaignView, PartnerStatus
from pledge.supporters import service as supporters
from tests.support.factories import make_campaign, make_org, make_supporter
from tests.support.pages import html
from tests.support.people import Person, make_person, sign_in

CSRF = "partner-consent-csrf-token-0123456"
NewClient = Callable[..., TestClient]


@pytest.fixture
def view(session: Session) -> CampaignView:
    return make_campaign(session, "live", partners=0)


@pytest.fixture
def ally(session: Session) -> Organization:
    return make_org(session, "pemuda-peduli", "Pemuda Peduli")


def person(session: Session, org: Organization, role: Role = Role.ADMIN) -> Person:
    return make_person(session, f"{role.value}@{org.slug}.example.org", "Orang", org=org, role=role)


def as_(new_client: NewClient, who: Person) -> TestClient:
    browser = new_client(lang="en")
    sign_in(browser, who, csrf=CSRF)
    return browser


def invite(session: Session, view: CampaignView, org: Organization) -> CampaignPartner:
    campaign = campaigns.get_by_slug(session, view.slug)
    form = campaigns.PartnerForm(kind="existing", org_slug=org.slug)
    added = campaigns.add_co_partner(
        session, campaign=campaign, form=form, invited_by=None, base_url="http://testserver"
    )
    session.commit()
    campaigns.forget_views()
    return added.partner


def partnership(org: Organization, partner: CampaignPartner, what: str) -> str:
    return f"/dashboard/{org.slug}/partnerships/{partner.id}/{what}"


def status_of(session: Session, partner_id: int) -> PartnerStatus | None:
    session.rollback()  # a fresh read: the app wrote in its own transaction
    session.expire_all()
    found = session.get(CampaignPartner, partner_id)
    return found.status if found else None


def public_partners(session: Session, view: CampaignView) -> list[str]:
    campaigns.forget_views()
    return [p.slug for p in campaigns.get_view(session, slug=view.slug).partners]


# --- invited -----------------------------------------------------------------------------


def test_an_invited_organisation_is_no_partner_until_it_accepts(
    session: Session, view: CampaignView, ally: Organization, client: TestClient
) -> None:
    moderator = person(session, ally, Role.MODERATOR)
    partner = invite(session, view, ally)
    assert partner.status is PartnerStatus.INVITED
    assert ally.slug not in public_partners(session, view)
    # Its link credits nobody, and its moderators see none of the campaign's hoaxes.
    signing = make_supporter(session, view, contact="lewat@example.com", ref=partner.referral_code)
    assert signing.supporter is not None
    referrer = session.execute(
        sa.select(sa.column("referrer_id"))
        .select_from(sa.table("supporter"))
        .where(sa.column("id") == signing.supporter.id)
    ).scalar_one()
    assert referrer is None
    assert not campaigns.has_partner(session, campaign_id=view.id, org_ids=[ally.id or 0])
    assert view.id not in [c.id for c in campaigns.list_partnered(session, org_ids=[ally.id or 0])]
    assert moderator.org is ally


def test_the_invited_organisations_admins_see_the_invitation_and_accept_it(
    new_client: NewClient, session: Session, view: CampaignView, ally: Organization
) -> None:
    admin = person(session, ally)
    partner = invite(session, view, ally)
    browser = as_(new_client, admin)
    page = html(browser.get(f"/dashboard/{ally.slug}"))
    card = page.select_one(f"#invitation-{partner.id}")
    assert card is not None and view.campaign.title in card.get_text()
    answer = browser.post(partnership(ally, partner, "accept"), data={"csrf_token": CSRF})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/dashboard/{ally.slug}?done=accepted#done"
    assert status_of(session, partner.id or 0) is PartnerStatus.ACTIVE
    assert ally.slug in public_partners(session, view)
    assert campaigns.has_partner(session, campaign_id=view.id, org_ids=[ally.id or 0])
    page = html(browser.get(answer.headers["location"]))
    assert "now a partner" in page.select_one("#done").get_text()
    assert page.select_one(f"#partner-{view.slug}") is not None  # among its campaigns now
    event = session.exec(
        select(AuditEvent).where(AuditEvent.action == AuditAction.PARTNER_ACCEPT)
    ).one()
    assert event.actor_id == admin.id


def test_declining_removes_the_invitation(
    new_client: NewClient, session: Session, view: CampaignView, ally: Organization
) -> None:
    partner = invite(session, view, ally)
    browser = as_(new_client, person(session, ally))
    answer = browser.post(partnership(ally, partner, "decline"), data={"csrf_token": CSRF})
    assert answer.status_code == 303
    assert status_of(session, partner.id or 0) is None
    assert html(browser.get(f"/dashboard/{ally.slug}")).select_one(".invitations") is None


def test_an_invitation_answered_twice_is_refused_with_a_message(
    new_client: NewClient, session: Session, view: CampaignView, ally: Organization
) -> None:
    partner = invite(session, view, ally)
    browser = as_(new_client, person(session, ally))
    assert (
        browser.post(partnership(ally, partner, "accept"), data={"csrf_token": CSRF}).status_code
        == 303
    )
    again = browser.post(partnership(ally, partner, "decline"), data={"csrf_token": CSRF})
    assert again.status_code == 409
    assert "already answered" in html(again).select_one("#partnership-error").get_text()
    assert status_of(session, partner.id or 0) is PartnerStatus.ACTIVE


@pytest.mark.parametrize("what", ["accept", "decline", "leave"])
def test_only_the_organisations_own_admins_answer(
    new_client: NewClient, session: Session, view: CampaignView, ally: Organization, what: str
) -> None:
    partner = invite(session, view, ally)
    moderator = as_(new_client, person(session, ally, Role.MODERATOR))
    assert (
        moderator.post(partnership(ally, partner, what), data={"csrf_token": CSRF}).status_code
        == 403
    )
    # The admin of another organisation, through its own dashboard's address: not theirs.
    other = make_org(session, "lain", "Lain")
    stranger = as_(new_client, person(session, other))
    assert (
        stranger.post(partnership(other, partner, what), data={"csrf_token": CSRF}).status_code
        == 404
    )
    # Without the form's token.
    admin = as_(new_client, person(session, ally))
    assert admin.post(partnership(ally, partner, what), data={}).status_code == 403
    assert status_of(session, partner.id or 0) is PartnerStatus.INVITED


# --- leaving -----------------------------------------------------------------------------


def test_a_partner_leaves_its_supporters_stay_counted_and_its_name_goes(
    new_client: NewClient, session: Session, view: CampaignView, ally: Organization
) -> None:
    admin = person(session, ally)
    partner = invite(session, view, ally)
    campaigns.answer_invitation(
        session, org=ally, partner_id=partner.id or 0, accept=True, actor=admin.user
    )
    campaigns.forget_views()
    for n in range(3):
        make_supporter(session, campaigns.get_view(session, slug=view.slug),
                       contact=f"lewat{n}@example.com", ref=partner.referral_code)  # fmt: skip
    total = supporters.get_counts(session, campaign_id=view.id).total
    assert total == 3
    browser = as_(new_client, admin)
    answer = browser.post(partnership(ally, partner, "leave"), data={"csrf_token": CSRF})
    assert answer.status_code == 303, answer.text[:300]
    assert answer.headers["location"] == f"/dashboard/{ally.slug}?done=left#done"
    assert status_of(session, partner.id or 0) is PartnerStatus.LEFT
    assert ally.slug not in public_partners(session, view)
    session.rollback()
    assert supporters.get_counts(session, campaign_id=view.id).total == 3
    assert not campaigns.has_partner(session, campaign_id=view.id, org_ids=[ally.id or 0])
    # Asked back, it is invited again, with the link it had.
    again = invite(session, view, ally)
    assert (again.id, again.status) == (partner.id, PartnerStatus.INVITED)


def test_the_lead_cannot_leave_its_own_campaign(
    new_client: NewClient, session: Session, view: CampaignView
) -> None:
    lead = accounts.get_org_by_slug(session, view.partners[0].slug)
    answer = as_(new_client, person(session, lead)).post(
        partnership(lead, session.get(CampaignPartner, view.partners[0].id), "leave"),  # type: ignore[arg-type]
        data={"csrf_token": CSRF},
    )
    assert answer.status_code == 403
    assert (
        "cannot leave its own campaign" in html(answer).select_one("#partnership-error").get_text()
    )


# --- an approved organisation's new name ---------------------------------------------------


def rename(session: Session, org: Organization, name: str, website: str = "") -> None:
    form = accounts.OrgProfileForm(name=name, website=website)
    actor = accounts.get_by_email(session, f"admin@{org.slug}.example.org")
    if actor is None:
        actor = person(session, org).user
    accounts.update_org(session, org=org, form=form, actor=actor)
    session.commit()


def test_an_approved_organisations_new_name_waits_for_a_site_admin(
    session: Session, ally: Organization
) -> None:
    rename(session, ally, "Komisi Pemilihan Umum RI (resmi)", "https://kpu.go.id")
    session.refresh(ally)
    assert ally.name == "Pemuda Peduli"  # the approved name stays public
    assert (ally.pending_name, ally.pending_website) == (
        "Komisi Pemilihan Umum RI (resmi)",
        "https://kpu.go.id",
    )
    assert ally.change_requested_at is not None


def test_a_site_admin_approves_or_refuses_the_new_name(
    new_client: NewClient, session: Session, ally: Organization
) -> None:
    root = make_person(session, "root@example.org", "Root", site_admin=True)
    browser = as_(new_client, root)
    rename(session, ally, "Pemuda Peduli Indonesia")
    page = html(browser.get("/admin/orgs?status=all"))
    waiting = page.select_one(f"#change-{ally.slug}")
    assert waiting is not None and "Pemuda Peduli Indonesia" in waiting.get_text()
    answer = browser.post(f"/admin/orgs/{ally.slug}/change/approve", data={"csrf_token": CSRF})
    assert answer.status_code == 303
    session.refresh(ally)
    assert (ally.name, ally.change_requested_at) == ("Pemuda Peduli Indonesia", None)

    rename(session, ally, "KPU RI")
    answer = browser.post(f"/admin/orgs/{ally.slug}/change/reject", data={"csrf_token": CSRF})
    assert answer.status_code == 303
    session.refresh(ally)
    assert (ally.name, ally.pending_name) == ("Pemuda Peduli Indonesia", None)
    actions = session.exec(
        select(audit.AuditEvent.action).where(audit.AuditEvent.subject == f"org:{ally.id}")
    ).all()
    assert AuditAction.ADMIN_ORG_CHANGE_APPROVE in actions
    assert AuditAction.ADMIN_ORG_CHANGE_REJECT in actions
    # Nothing waits now: another refusal finds nothing.
    assert (
        browser.post(
            f"/admin/orgs/{ally.slug}/change/reject", data={"csrf_token": CSRF}
        ).status_code
        == 404
    )


def test_only_site_admins_review_a_new_name(
    new_client: NewClient, session: Session, ally: Organization
) -> None:
    own_admin = as_(new_client, person(session, ally))
    rename(session, ally, "Nama Baru")
    answer = own_admin.post(f"/admin/orgs/{ally.slug}/change/approve", data={"csrf_token": CSRF})
    assert answer.status_code == 403
    session.refresh(ally)
    assert ally.name == "Pemuda Peduli"


def test_an_unapproved_organisation_renames_itself_at_once(session: Session) -> None:
    fresh = make_org(session, "baru", "Baru", verified=False)
    rename(session, fresh, "Baru Sekali")
    session.refresh(fresh)
    assert (fresh.name, fresh.change_requested_at) == ("Baru Sekali", None)
