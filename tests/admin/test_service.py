"""The site administrators' rules, called directly: every change, every refusal, the audit log."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from sqlmodel import Session, select

from pledge import audit, i18n
from pledge.accounts import service as accounts
from pledge.accounts.models import Membership, Organization, Role, User
from pledge.admin import service as admin
from pledge.campaigns.models import CampaignView
from pledge.errors import Invalid, NotFound
from tests.support.factories import MakeOrg, MakeUser

MakeCampaign = Callable[..., CampaignView]


def events(session: Session, subject: str, action: str | None = None) -> list[audit.AuditEvent]:
    session.commit()  # end any read snapshot, so what another transaction wrote is seen
    return audit.list_events(session, subject=subject, action=action)


def fresh(session: Session, user: User) -> User:
    session.commit()
    found = session.get(User, user.id, populate_existing=True)
    assert found is not None
    return found


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages in English, as the assertions read them."""
    i18n.set_locale("en")
    yield
    i18n.set_locale(i18n.DEFAULT_LOCALE)


@pytest.fixture
def root(make_user: MakeUser) -> User:
    return make_user("root@example.org", site_admin=True)


# --- overview and lists ---------------------------------------------------------------------


def test_overview_counts_pending_orgs_users_and_live_campaigns(
    session: Session,
    make_pending_org: MakeOrg,
    make_user: MakeUser,
    make_campaign: MakeCampaign,
    root: User,
) -> None:
    make_pending_org()
    make_pending_org()
    make_campaign(status="live", partners=0)
    make_campaign(status="draft", partners=0)
    make_campaign(status="closed", partners=0)
    gone = make_user()
    admin.deactivate_user(session, actor=root, user_id=gone.id or 0, reason="left")

    seen = admin.overview(session)

    assert seen.pending_orgs == 2
    assert seen.orgs == 5  # two pending and the lead organisation of each campaign
    assert seen.users == 2
    assert seen.inactive_users == 1
    assert seen.site_admins == 1
    assert seen.live_campaigns == 1


def test_org_list_filters_by_approval_newest_first(
    session: Session, make_pending_org: MakeOrg, make_org: MakeOrg
) -> None:
    first = make_pending_org("pertama")
    approved = make_org("disetujui")
    last = make_pending_org("terakhir")

    pending = admin.list_orgs(session, status=admin.OrgFilter.PENDING)
    everything = admin.list_orgs(session, status=admin.OrgFilter.ALL)
    only_approved = admin.list_orgs(session, status=admin.OrgFilter.APPROVED)

    assert [row.org.slug for row in pending.items] == [last.slug, first.slug]
    assert [row.org.slug for row in everything.items] == [last.slug, approved.slug, first.slug]
    assert [row.org.slug for row in only_approved.items] == [approved.slug]
    assert pending.total == 2


def test_org_list_counts_members(session: Session, make_org: MakeOrg, make_user: MakeUser) -> None:
    org = make_org("ramai")
    make_user(org=org)
    make_user(org=org, role=Role.MODERATOR)
    make_org("sepi")

    rows = {
        row.org.slug: row.members
        for row in admin.list_orgs(session, status=admin.OrgFilter.ALL).items
    }

    assert rows == {"ramai": 2, "sepi": 0}


def test_org_list_pages_hold_fifty_and_a_page_past_the_end_shows_the_last(
    session: Session,
) -> None:
    for n in range(admin.PAGE_SIZE + 7):
        session.add(Organization(slug=f"org-{n:03}", name=f"Org {n}"))
    session.commit()

    first = admin.list_orgs(session, status=admin.OrgFilter.PENDING, page=1)
    second = admin.list_orgs(session, status=admin.OrgFilter.PENDING, page=2)
    beyond = admin.list_orgs(session, status=admin.OrgFilter.PENDING, page=99)

    assert len(first.items) == admin.PAGE_SIZE and first.pages == 2
    assert first.has_next and not first.has_previous
    assert len(second.items) == 7 and second.has_previous and not second.has_next
    assert beyond.number == 2
    slugs = {row.org.slug for row in first.items} | {row.org.slug for row in second.items}
    assert len(slugs) == admin.PAGE_SIZE + 7  # no organisation on two pages, none left out


def test_unknown_org_filter_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        admin.parse_org_filter("everything")
    assert "status" in caught.value.errors


def test_user_search_matches_part_of_the_email_whatever_its_case(
    session: Session, make_user: MakeUser
) -> None:
    make_user("rina@lbh.or.id")
    make_user("budi@lbh.or.id")
    make_user("sari@example.org")

    found = admin.list_users(session, q="  LBH.or ")
    wildcard = admin.list_users(session, q="%")

    assert [user.email for user in found.items] == ["budi@lbh.or.id", "rina@lbh.or.id"]
    assert found.total == 2
    assert wildcard.total == 0  # a LIKE wildcard is searched for as itself
    assert admin.list_users(session).total == 3


def test_users_are_paginated(session: Session) -> None:
    for n in range(admin.PAGE_SIZE + 1):
        session.add(User(email=f"u{n:03}@example.org"))
    session.commit()

    second = admin.list_users(session, page=2)

    assert [user.email for user in second.items] == [f"u{admin.PAGE_SIZE:03}@example.org"]


@pytest.mark.parametrize("user_id", [0, -1, 999_999, 2**40])
def test_unknown_user_is_not_found(session: Session, user_id: int) -> None:
    with pytest.raises(NotFound):
        admin.user_detail(session, user_id=user_id)


# --- organisations ----------------------------------------------------------------------------


def test_an_org_made_by_a_site_admin_is_approved_and_audited(session: Session, root: User) -> None:
    org = admin.create_org(
        session,
        actor=root,
        form=admin.OrgForm(slug=" LBH-Jakarta ", name=" LBH Jakarta ", website="https://lbh.or.id"),
    )

    stored = accounts.get_org_by_slug(session, "lbh-jakarta")
    assert stored.id == org.id
    assert stored.verified is True
    assert stored.name == "LBH Jakarta"
    assert stored.website == "https://lbh.or.id"
    [event] = events(session, f"org:{org.id}", "admin.org.create")
    assert event.actor_id == root.id
    assert json.loads(event.data)["slug"] == "lbh-jakarta"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"slug": "bad slug!"}, "slug"),
        ({"slug": ""}, "slug"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 161}, "name"),
        ({"website": "lbh.or.id"}, "website"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"website": "https://" + "a" * 300 + ".id"}, "website"),
    ],
)
def test_bad_org_fields_are_refused_and_nothing_is_stored(
    session: Session, root: User, fields: dict[str, str], field: str
) -> None:
    values = {"slug": "baru", "name": "Baru", "website": "", **fields}
    with pytest.raises(Invalid) as caught:
        admin.create_org(session, actor=root, form=admin.OrgForm(**values))
    assert field in caught.value.errors
    session.commit()
    assert session.exec(select(Organization)).all() == []
    assert audit.list_events(session) == []


def test_every_bad_org_field_is_reported_at_once(session: Session, root: User) -> None:
    with pytest.raises(Invalid) as caught:
        admin.create_org(
            session, actor=root, form=admin.OrgForm(slug="Bad Slug", name="", website="ftp://x")
        )
    assert set(caught.value.errors) == {"slug", "name", "website"}


def test_a_taken_slug_is_a_message_beside_the_field(
    session: Session, root: User, make_org: MakeOrg
) -> None:
    make_org("ada")
    with pytest.raises(Invalid) as caught:
        admin.create_org(session, actor=root, form=admin.OrgForm(slug="ada", name="Lagi"))
    assert "already exists" in caught.value.errors["slug"]


def test_approving_and_revoking_set_verified_and_are_audited(
    session: Session, root: User, make_pending_org: MakeOrg
) -> None:
    org = make_pending_org("tunggu")

    admin.set_org_approved(session, actor=root, slug="tunggu", approved=True)
    assert accounts.get_org_by_slug(session, "tunggu").verified is True
    admin.set_org_approved(session, actor=root, slug="tunggu", approved=False)
    session.commit()
    session.expire_all()
    assert accounts.get_org_by_slug(session, "tunggu").verified is False

    actions = [e.action for e in events(session, f"org:{org.id}")]
    assert actions == ["admin.org.revoke", "admin.org.approve"]


def test_approving_an_approved_org_changes_nothing_and_records_nothing(
    session: Session, root: User, make_org: MakeOrg
) -> None:
    org = make_org("sudah")
    admin.set_org_approved(session, actor=root, slug="sudah", approved=True)
    assert events(session, f"org:{org.id}") == []


def test_approving_an_unknown_org_is_not_found(session: Session, root: User) -> None:
    with pytest.raises(NotFound):
        admin.set_org_approved(session, actor=root, slug="tidak-ada", approved=True)


# --- users ------------------------------------------------------------------------------------


def test_deactivating_stops_sign_in_ends_sessions_and_keeps_the_reason(
    session: Session, root: User, make_user: MakeUser
) -> None:
    target = make_user("pergi@example.org", password="correct horse battery staple")
    version = target.session_version

    admin.deactivate_user(session, actor=root, user_id=target.id or 0, reason="  left the org  ")

    stored = fresh(session, target)
    assert stored.is_active is False
    assert stored.session_version == version + 1
    [event] = events(session, f"user:{target.id}", "admin.user.deactivate")
    assert event.reason == "left the org"
    assert event.actor_id == root.id
    with pytest.raises(Invalid):
        accounts.authenticate(
            session, email="pergi@example.org", password="correct horse battery staple", ip="x"
        )


@pytest.mark.parametrize(
    ("reason", "words"), [("", "reason"), ("   ", "reason"), ("x" * 501, "500")]
)
def test_deactivating_needs_a_short_reason(
    session: Session, root: User, make_user: MakeUser, reason: str, words: str
) -> None:
    target = make_user()
    with pytest.raises(Invalid) as caught:
        admin.deactivate_user(session, actor=root, user_id=target.id or 0, reason=reason)
    assert words in caught.value.errors["reason"]
    assert fresh(session, target).is_active is True
    assert events(session, f"user:{target.id}") == []


def test_a_site_admin_cannot_deactivate_themselves(session: Session, root: User) -> None:
    with pytest.raises(Invalid) as caught:
        admin.deactivate_user(session, actor=root, user_id=root.id or 0, reason="testing")
    assert "your own account" in caught.value.errors["deactivate"]
    assert fresh(session, root).is_active is True


def test_activating_lets_the_person_back_in(
    session: Session, root: User, make_user: MakeUser
) -> None:
    target = make_user()
    admin.deactivate_user(session, actor=root, user_id=target.id or 0, reason="pause")
    admin.activate_user(session, actor=root, user_id=target.id or 0)

    assert fresh(session, target).is_active is True
    actions = [e.action for e in events(session, f"user:{target.id}")]
    assert actions == ["admin.user.activate", "admin.user.deactivate"]


def test_activating_an_active_user_records_nothing(
    session: Session, root: User, make_user: MakeUser
) -> None:
    target = make_user()
    admin.activate_user(session, actor=root, user_id=target.id or 0)
    assert events(session, f"user:{target.id}") == []


def test_granting_and_revoking_the_site_admin_flag_is_audited(
    session: Session, root: User, make_user: MakeUser
) -> None:
    target = make_user()

    admin.set_site_admin(session, actor=root, user_id=target.id or 0, grant=True)
    assert fresh(session, target).is_site_admin is True
    admin.set_site_admin(session, actor=root, user_id=target.id or 0, grant=False)
    assert fresh(session, target).is_site_admin is False

    actions = [e.action for e in events(session, f"user:{target.id}")]
    assert actions == ["admin.user.site_admin.revoke", "admin.user.site_admin.grant"]


def test_a_site_admin_cannot_revoke_their_own_flag(session: Session, root: User) -> None:
    with pytest.raises(Invalid) as caught:
        admin.set_site_admin(session, actor=root, user_id=root.id or 0, grant=False)
    assert "your own" in caught.value.errors["site_admin"]
    assert fresh(session, root).is_site_admin is True
    assert events(session, f"user:{root.id}") == []


@pytest.mark.parametrize("raw", ["", "yes", "True", None])
def test_the_flag_must_be_true_or_false(raw: str | None) -> None:
    with pytest.raises(Invalid) as caught:
        admin.parse_flag(raw)
    assert "site_admin" in caught.value.errors


# --- memberships ------------------------------------------------------------------------------


def test_adding_then_changing_a_membership_is_audited_with_the_previous_role(
    session: Session, root: User, make_user: MakeUser, make_org: MakeOrg
) -> None:
    target = make_user()
    org = make_org("mitra")

    admin.set_membership(
        session,
        actor=root,
        user_id=target.id or 0,
        form=admin.MembershipForm(org=" Mitra ", role="moderator"),
    )
    assert accounts.role_in(session, user_id=target.id or 0, org_id=org.id or 0) == Role.MODERATOR
    admin.set_membership(
        session, actor=root, user_id=target.id or 0, form=admin.MembershipForm("mitra", "admin")
    )
    assert accounts.role_in(session, user_id=target.id or 0, org_id=org.id or 0) == Role.ADMIN

    changed, added = events(session, f"user:{target.id}", "admin.membership.set")
    assert json.loads(added.data) == {
        "org": "mitra",
        "org_id": org.id,
        "role": "moderator",
        "previous": None,
    }
    assert json.loads(changed.data)["previous"] == "moderator"
    assert json.loads(changed.data)["role"] == "admin"


def test_saving_the_same_role_records_nothing(
    session: Session, root: User, make_user: MakeUser, make_org: MakeOrg
) -> None:
    org = make_org("mitra")
    target = make_user(org=org, role=Role.ADMIN)
    admin.set_membership(
        session, actor=root, user_id=target.id or 0, form=admin.MembershipForm("mitra", "admin")
    )
    assert events(session, f"user:{target.id}") == []


@pytest.mark.parametrize(
    ("org_slug", "role", "expected"),
    [
        ("tidak-ada", "admin", {"org"}),
        ("", "admin", {"org"}),
        ("mitra", "owner", {"role"}),
        ("mitra", "", {"role"}),
        ("tidak-ada", "boss", {"org", "role"}),
    ],
)
def test_unknown_org_or_bad_role_is_refused(
    session: Session,
    root: User,
    make_user: MakeUser,
    make_org: MakeOrg,
    org_slug: str,
    role: str,
    expected: set[str],
) -> None:
    make_org("mitra")
    target = make_user()
    with pytest.raises(Invalid) as caught:
        admin.set_membership(
            session,
            actor=root,
            user_id=target.id or 0,
            form=admin.MembershipForm(org=org_slug, role=role),
        )
    assert set(caught.value.errors) == expected
    session.commit()
    assert session.exec(select(Membership)).all() == []


def test_membership_of_an_unknown_user_is_not_found(
    session: Session, root: User, make_org: MakeOrg
) -> None:
    make_org("mitra")
    with pytest.raises(NotFound):
        admin.set_membership(
            session, actor=root, user_id=4242, form=admin.MembershipForm("mitra", "admin")
        )


def test_removing_a_membership_ends_sessions_and_is_audited(
    session: Session, root: User, make_user: MakeUser, make_org: MakeOrg
) -> None:
    org = make_org("mitra")
    target = make_user(org=org, role=Role.MODERATOR)
    version = target.session_version

    admin.remove_membership(session, actor=root, user_id=target.id or 0, org_slug="mitra")

    assert accounts.role_in(session, user_id=target.id or 0, org_id=org.id or 0) is None
    assert fresh(session, target).session_version == version + 1
    [event] = events(session, f"user:{target.id}", "admin.membership.remove")
    assert json.loads(event.data) == {"org": "mitra", "org_id": org.id, "role": "moderator"}


def test_removing_a_membership_that_does_not_exist_is_not_found(
    session: Session, root: User, make_user: MakeUser, make_org: MakeOrg
) -> None:
    make_org("mitra")
    target = make_user()
    with pytest.raises(NotFound):
        admin.remove_membership(session, actor=root, user_id=target.id or 0, org_slug="mitra")
    with pytest.raises(NotFound):
        admin.remove_membership(session, actor=root, user_id=target.id or 0, org_slug="tidak-ada")


def test_user_detail_lists_memberships_and_recent_changes_with_who_made_them(
    session: Session, root: User, make_user: MakeUser, make_org: MakeOrg
) -> None:
    org = make_org("mitra", name="Mitra")
    target = make_user(org=org, role=Role.MODERATOR)
    admin.deactivate_user(session, actor=root, user_id=target.id or 0, reason="pause")

    detail = admin.user_detail(session, user_id=target.id or 0)

    assert [(m.org.slug, m.role) for m in detail.memberships] == [("mitra", Role.MODERATOR)]
    [entry] = detail.history
    assert entry.actor_email == "root@example.org"
    assert entry.event.reason == "pause"
