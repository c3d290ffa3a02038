"""Users and organisations as the other domains and the site's administrators read them:
looked up, counted, listed a page at a time, and joined to another domain's rows."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.campaigns.models import CampaignPartner, campaign_partner_table
from pledge.db import utcnow
from tests.support.factories import MakeCampaign, MakeOrg, MakeUser

# --- users -------------------------------------------------------------------------------


def test_a_user_is_found_by_id_or_is_none(session: Session, make_user: MakeUser) -> None:
    ayu = make_user("ayu@example.org", name="Ayu")
    found = accounts.get_user_or_none(session, ayu.id or 0)
    assert found is not None and found.email == "ayu@example.org"
    assert accounts.get_user_or_none(session, (ayu.id or 0) + 100) is None


def test_users_are_listed_by_id_or_by_email(session: Session, make_user: MakeUser) -> None:
    ayu, budi, _citra = (
        make_user("ayu@example.org"),
        make_user("budi@example.org"),
        make_user("citra@example.org"),
    )
    by_id = accounts.list_users(session, ids=[ayu.id or 0, budi.id or 0, 999])
    assert sorted(user.email for user in by_id) == ["ayu@example.org", "budi@example.org"]
    assert [u.id for u in accounts.list_users(session, email="budi@example.org")] == [budi.id]
    assert accounts.list_users(session, email="nobody@example.org") == []
    assert accounts.list_users(session, ids=[]) == []


def test_emails_are_given_by_user_id(session: Session, make_user: MakeUser) -> None:
    ayu, budi = make_user("ayu@example.org"), make_user("budi@example.org")
    assert accounts.get_emails(session, user_ids={ayu.id or 0, budi.id or 0, 999}) == {
        ayu.id: "ayu@example.org",
        budi.id: "budi@example.org",
    }
    assert accounts.get_emails(session, user_ids=set()) == {}


def test_users_are_counted_by_address_activity_and_role(
    session: Session, make_user: MakeUser
) -> None:
    make_user("ayu@lembaga.example.org")
    make_user("budi@lembaga.example.org", active=False)
    make_user("root@example.org", site_admin=True)
    make_user("dewi_s@example.org")
    make_user("dewi.s@example.org")
    assert accounts.count_users(session) == 5
    assert accounts.count_users(session, active=False) == 1
    assert accounts.count_users(session, active=True) == 4
    assert accounts.count_users(session, site_admin=True) == 1
    assert accounts.count_users(session, email_contains="lembaga") == 2
    # The text is matched as written: "_" and "%" are not wildcards.
    assert accounts.count_users(session, email_contains="dewi_s") == 1
    assert accounts.count_users(session, email_contains="%") == 0


def test_users_are_listed_in_email_order_a_page_at_a_time(
    session: Session, make_user: MakeUser
) -> None:
    for name in ("dewi", "ayu", "citra", "budi", "eko"):
        make_user(f"{name}@lembaga.example.org")
    make_user("root@example.org")
    first = accounts.list_users_by_email(session, email_contains="lembaga", limit=2)
    second = accounts.list_users_by_email(session, email_contains="lembaga", offset=2, limit=2)
    last = accounts.list_users_by_email(session, email_contains="lembaga", offset=4, limit=2)
    assert [u.email.split("@")[0] for u in first + second + last] == [
        "ayu",
        "budi",
        "citra",
        "dewi",
        "eko",
    ]
    assert len(accounts.list_users_by_email(session, limit=50)) == 6


# --- organisations ---------------------------------------------------------------------


def test_an_organisation_is_found_by_id_short_name_or_name(
    session: Session, make_org: MakeOrg
) -> None:
    org = make_org("lembaga-pemilu", "Lembaga Pemilu Bersih")
    by_id = accounts.get_org_or_none(session, org.id or 0)
    assert by_id is not None and by_id.slug == "lembaga-pemilu"
    assert accounts.get_org_or_none(session, (org.id or 0) + 100) is None
    by_slug = accounts.get_org_by_slug_or_none(session, "lembaga-pemilu")
    assert by_slug is not None and by_slug.id == org.id
    assert accounts.get_org_by_slug_or_none(session, "lembaga") is None
    by_name = accounts.get_org_by_name_or_none(session, "LEMBAGA pemilu bersih")
    assert by_name is not None and by_name.id == org.id
    assert accounts.get_org_by_name_or_none(session, "Lembaga Pemilu") is None


def test_taken_short_names_are_listed_by_their_start(session: Session, make_org: MakeOrg) -> None:
    make_org("suara-muda")
    make_org("suara-muda-2")
    make_org("suara-rakyat")
    make_org("muda-suara")
    assert accounts.list_org_slugs(session, starting_with="suara-muda") == {
        "suara-muda",
        "suara-muda-2",
    }
    assert accounts.list_org_slugs(session, starting_with="kpu") == set()


def test_organisations_are_counted_by_approval(session: Session, make_org: MakeOrg) -> None:
    make_org()
    make_org()
    make_org(verified=False)
    assert accounts.count_orgs(session) == 3
    assert accounts.count_orgs(session, verified=True) == 2
    assert accounts.count_orgs(session, verified=False) == 1


def test_organisations_are_listed_newest_first_with_their_member_counts(
    session: Session, make_org: MakeOrg, make_user: MakeUser
) -> None:
    now = utcnow()
    old = make_org("lama", created_at=now - timedelta(days=3))
    middle = make_org("tengah", created_at=now - timedelta(days=2), verified=False)
    new = make_org("baru", created_at=now - timedelta(days=1))
    make_user(org=old)
    make_user(org=old, role=Role.MODERATOR)
    make_user(org=new)

    rows = accounts.list_orgs_with_member_counts(session, limit=10)
    assert [(org.slug, members) for org, members in rows] == [
        ("baru", 1),
        ("tengah", 0),
        ("lama", 2),
    ]
    page_two = accounts.list_orgs_with_member_counts(session, offset=1, limit=1)
    assert [(org.id, members) for org, members in page_two] == [(middle.id, 0)]
    approved = accounts.list_orgs_with_member_counts(session, verified=True, limit=10)
    assert [org.slug for org, _members in approved] == ["baru", "lama"]
    waiting = accounts.list_orgs_with_member_counts(session, verified=False, limit=10)
    assert [org.slug for org, _members in waiting] == ["tengah"]


def test_a_membership_is_deleted_once(
    session: Session, make_org: MakeOrg, make_user: MakeUser
) -> None:
    org, other = make_org(), make_org()
    user = make_user(org=org, role=Role.MODERATOR)
    accounts.add_member(session, user=user, org=other, role=Role.ADMIN)
    session.commit()

    assert accounts.delete_membership(session, user_id=user.id or 0, org_id=org.id or 0) == 1
    session.commit()
    assert accounts.delete_membership(session, user_id=user.id or 0, org_id=org.id or 0) == 0
    assert accounts.role_in(session, user_id=user.id or 0, org_id=org.id or 0) is None
    assert accounts.role_in(session, user_id=user.id or 0, org_id=other.id or 0) == Role.ADMIN


# --- the organisation's part of another domain's statement -------------------------------


def test_rows_of_another_domain_come_with_their_organisation_in_one_statement(
    session: Session, make_campaign: MakeCampaign, engine: sa.Engine
) -> None:
    view = make_campaign(partners=2)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith("SELECT"):
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        rows = session.execute(
            accounts.select_with_org(CampaignPartner, org_id=CampaignPartner.org_id)
            .where(CampaignPartner.campaign_id == view.id)
            .order_by(col(CampaignPartner.id))
        ).all()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)

    assert len(statements) == 1
    assert all(isinstance(org, Organization) for _partner, org in rows)
    by_partner = {partner.id: (org.slug, org.name) for partner, org in rows}
    assert by_partner == {p.id: (p.slug, p.name) for p in view.partners}


def test_a_column_of_another_domain_comes_with_its_organisation_name(
    session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign(partners=1)
    partner = campaign_partner_table
    rows = session.execute(
        accounts.select_with_org_name(partner.c.id, org_id=partner.c.org_id).where(
            partner.c.campaign_id == view.id
        )
    ).all()
    assert dict(rows) == {p.id: p.name for p in view.partners}


def test_users_are_none_for_a_former_member(session: Session, make_user: MakeUser) -> None:
    """A deleted account leaves ids behind (in claims, in the audit log): they find nobody."""
    gone = make_user()
    user = session.get(User, gone.id)
    session.delete(user)
    session.commit()
    assert accounts.get_user_or_none(session, gone.id or 0) is None
    assert accounts.list_users(session, ids=[gone.id or 0]) == []
    assert accounts.get_emails(session, user_ids={gone.id or 0}) == {}
