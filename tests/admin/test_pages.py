"""The /admin pages through HTTP: each route's success, its bad input, and who may use it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pledge import audit
from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.admin import service as admin
from pledge.app import PAGE_ROUTERS
from pledge.campaigns.models import CampaignView
from tests.support.factories import MakeOrg, MakeUser
from tests.support.pages import csrf_token, errors_of, html
from tests.support.people import Person, sign_in

NewClient = Callable[[], TestClient]
MakeCampaign = Callable[..., CampaignView]


# --- helpers ----------------------------------------------------------------------------------


def one(soup: BeautifulSoup | Tag, selector: str) -> Tag:
    found = soup.select_one(selector)
    assert found is not None, f"nothing matches {selector!r}"
    return found


def page(client: TestClient, path: str, status: int = 200) -> BeautifulSoup:
    response = client.get(path)
    assert response.status_code == status, response.text[:500]
    return html(response)


def form_to(soup: BeautifulSoup | Tag, path: str) -> Tag:
    forms = [
        f
        for f in soup.select("form[method=post][action]")
        if urlsplit(str(f["action"])).path == path
    ]
    assert len(forms) == 1, f"{len(forms)} forms post to {path}"
    return forms[0]


def fields_of(form: Tag) -> dict[str, str]:
    """What the browser would post from a form as it is shown."""
    values: dict[str, str] = {}
    for field in form.select("input[name], textarea[name], select[name]"):
        name = str(field["name"])
        if field.name == "select":
            chosen = field.select_one("option[selected]") or field.select_one("option")
            values[name] = str(chosen["value"]) if chosen else ""
        elif field.name == "textarea":
            values[name] = field.get_text()
        else:
            values[name] = str(field.get("value", ""))
    return values


def location(response: Any) -> str:
    assert response.status_code == 303, (response.status_code, response.text[:300])
    return str(response.headers["location"])


def events(session: Session, subject: str, action: str | None = None) -> list[audit.AuditEvent]:
    session.commit()  # end any read snapshot, so what the app's requests wrote is seen
    return audit.list_events(session, subject=subject, action=action)


def fresh_user(session: Session, user_id: int | None) -> User:
    session.commit()
    found = session.get(User, user_id, populate_existing=True)
    assert found is not None
    return found


def fresh_org(session: Session, slug: str) -> Organization:
    session.commit()
    session.expire_all()
    return accounts.get_org_by_slug(session, slug)


def post(client: TestClient, path: str, **data: str) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin"), **data})


# --- who may use the pages ---------------------------------------------------------------------

ROUTES = [
    ("GET", "/admin"),
    ("GET", "/admin/orgs"),
    ("POST", "/admin/orgs"),
    ("POST", "/admin/orgs/{org}/approve"),
    ("POST", "/admin/orgs/{org}/revoke"),
    ("POST", "/admin/orgs/{org}/change/approve"),
    ("POST", "/admin/orgs/{org}/change/reject"),
    ("GET", "/admin/users"),
    ("GET", "/admin/users/{user}"),
    ("POST", "/admin/users/{user}/deactivate"),
    ("POST", "/admin/users/{user}/activate"),
    ("POST", "/admin/users/{user}/site-admin"),
    ("POST", "/admin/users/{user}/memberships"),
    ("POST", "/admin/users/{user}/memberships/{org}/remove"),
    ("GET", "/admin/abuse"),
    ("GET", "/admin/abuse/{slug}"),
    ("GET", "/admin/abuse/{slug}/suspects"),
    ("POST", "/admin/abuse/{slug}/suspects"),
    ("GET", "/admin/abuse/{slug}/invalidate"),
    ("POST", "/admin/abuse/{slug}/invalidate"),
    ("GET", "/admin/abuse/{slug}/invalidations/{run_id}"),
    ("POST", "/admin/abuse/{slug}/invalidations/{run_id}/cancel"),
    ("POST", "/admin/abuse/{slug}/invalidations/{run_id}/resume"),
    ("POST", "/admin/abuse/{slug}/invalidations/{run_id}/restore"),
]
FORM = {
    "slug": "baru",
    "name": "Baru",
    "reason": "because",
    "is_site_admin": "true",
    "org": "mitra",
    "role": "admin",
}


def test_every_admin_route_is_covered_here() -> None:
    served = {
        (method, route.path.replace("{user_id}", "{user}"))
        for router in PAGE_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.name.startswith("admin_")
        for method in route.methods
    }
    assert served == set(ROUTES)


@pytest.fixture
def world(make_org: MakeOrg, make_user: MakeUser, session: Session) -> dict[str, Any]:
    """An organisation with an admin and a moderator, and a person to act on."""
    org = make_org("mitra", name="Mitra")
    target = make_user("target@example.org", org=org, role=Role.MODERATOR)
    return {
        "org": org,
        "target": target,
        "admin": make_user("orgadmin@example.org", org=org, role=Role.ADMIN),
        "moderator": make_user("moderator@example.org", org=org, role=Role.MODERATOR),
    }


def unchanged(session: Session, world: dict[str, Any]) -> None:
    target = fresh_user(session, world["target"].id)
    assert target.is_active and not target.is_site_admin
    assert (
        accounts.role_in(session, user_id=target.id or 0, org_id=world["org"].id) == Role.MODERATOR
    )
    assert session.exec(select(Organization).where(Organization.slug == "baru")).first() is None
    assert fresh_org(session, "mitra").verified is True
    assert audit.list_events(session) == []


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_visitors_are_sent_to_sign_in(
    client: TestClient, session: Session, world: dict[str, Any], method: str, path: str
) -> None:
    url = path.format(org="mitra", user=world["target"].id, slug="kampanye", run_id=1)
    data = {"csrf_token": csrf_token(client, "/login"), **FORM} if method == "POST" else None
    response = client.request(method, url, data=data)

    target = location(response)
    assert urlsplit(target).path == "/login"
    assert parse_qs(urlsplit(target).query)["next"] == [url]
    unchanged(session, world)


@pytest.mark.parametrize("who", ["moderator", "admin"])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_members_of_organisations_are_refused(
    new_client: NewClient,
    session: Session,
    world: dict[str, Any],
    who: str,
    method: str,
    path: str,
) -> None:
    browser = sign_in(new_client(), world[who])
    refused = browser.get("/admin")
    assert refused.status_code == 403
    assert "Only the site's administrators" in one(html(refused), "main").get_text()
    # A valid token from their own session: the refusal is the permission, not the CSRF check.
    token = str(one(html(refused), "input[name=csrf_token]")["value"])

    url = path.format(org="mitra", user=world["target"].id, slug="kampanye", run_id=1)
    data = {"csrf_token": token, **FORM} if method == "POST" else None
    response = browser.request(method, url, data=data)

    assert response.status_code == 403
    unchanged(session, world)


def test_the_header_links_to_site_admin_only_for_site_admins(
    admin_client: TestClient, new_client: NewClient, world: dict[str, Any]
) -> None:
    assert page(admin_client, "/admin").select_one("header a[href='/admin']") is not None
    member = sign_in(new_client(), world["admin"])
    assert html(member.get("/admin")).select_one("header a[href='/admin']") is None


@pytest.mark.parametrize(
    "path",
    [
        "/admin/orgs/mitra/approve",
        "/admin/users/{user}/deactivate",
        "/admin/users/{user}/memberships",
    ],
)
def test_posts_without_the_csrf_token_are_refused(
    admin_client: TestClient, session: Session, world: dict[str, Any], path: str
) -> None:
    response = admin_client.post(path.format(user=world["target"].id), data=FORM)
    assert response.status_code == 403
    assert audit.list_events(session) == []


def test_posts_from_another_site_are_refused(
    admin_client: TestClient, session: Session, world: dict[str, Any]
) -> None:
    response = admin_client.post(
        f"/admin/users/{world['target'].id}/deactivate",
        data={"csrf_token": csrf_token(admin_client, "/admin"), "reason": "x"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert fresh_user(session, world["target"].id).is_active is True


# --- GET /admin ----------------------------------------------------------------------------------


def test_home_shows_the_counts_and_links(
    admin_client: TestClient,
    make_pending_org: MakeOrg,
    make_user: MakeUser,
    make_campaign: MakeCampaign,
) -> None:
    make_pending_org()
    make_pending_org()
    make_pending_org()
    make_user()
    make_campaign(status="live", partners=0)
    make_campaign(status="draft", partners=0)

    soup = page(admin_client, "/admin")

    counts = {str(p["data-count"]): p.get_text(strip=True) for p in soup.select("[data-count]")}
    assert counts["pending_orgs"] == "3"
    assert counts["users"] == "2"
    assert counts["live_campaigns"] == "1"
    links = {str(a["href"]) for a in soup.select("main a[href]")}
    assert {"/admin/orgs?status=pending", "/admin/users"} <= links
    assert soup.select_one("meta[name=robots][content=noindex]") is not None


# --- organisations --------------------------------------------------------------------------------


def test_org_list_filters_and_explains_what_approval_means(
    admin_client: TestClient, make_pending_org: MakeOrg, make_org: MakeOrg
) -> None:
    make_pending_org("tunggu", name="Menunggu")
    make_org("sudah", name="Sudah")

    pending = page(admin_client, "/admin/orgs?status=pending")
    everything = page(admin_client, "/admin/orgs?status=all")

    assert [str(li["data-org"]) for li in pending.select("li.org")] == ["tunggu"]
    assert [str(li["data-org"]) for li in everything.select("li.org")] == ["sudah", "tunggu"]
    card = one(pending, "li.org[data-org=tunggu]")
    assert one(card, "[data-verified]")["data-verified"] == "false"
    form = form_to(card, "/admin/orgs/tunggu/approve")
    assert fields_of(form)["status"] == "pending"
    hint = one(pending, "#approval-hint").get_text()
    assert "Only approved organisations can put a campaign live" in hint
    assert one(pending, "select#status option[selected]")["value"] == "pending"
    approved_card = one(everything, "li.org[data-org=sudah]")
    revoke = form_to(approved_card, "/admin/orgs/sudah/revoke")
    assert one(revoke, "button")["aria-describedby"] == "approval-hint"


def test_an_unknown_org_filter_is_a_message_beside_the_filter(admin_client: TestClient) -> None:
    response = admin_client.get("/admin/orgs?status=everything")
    assert response.status_code == 422
    assert errors_of(response) == {"status": "Choose one of the filters in the list."}


def test_org_list_has_fifty_per_page_and_links_to_the_next(
    admin_client: TestClient, session: Session
) -> None:
    for n in range(admin.PAGE_SIZE + 1):
        session.add(Organization(slug=f"org-{n:03}", name=f"Org {n}"))
    session.commit()

    first = page(admin_client, "/admin/orgs?status=pending")
    assert len(first.select("li.org")) == admin.PAGE_SIZE
    assert first.select_one("a[rel=prev]") is None
    nxt = str(one(first, "a[rel=next]")["href"])
    assert urlsplit(nxt).path == "/admin/orgs"
    assert parse_qs(urlsplit(nxt).query) == {"status": ["pending"], "page": ["2"]}

    second = page(admin_client, nxt)
    assert len(second.select("li.org")) == 1
    assert second.select_one("a[rel=prev]") is not None
    assert second.select_one("a[rel=next]") is None
    # The approve form brings the admin back to the page they were on.
    assert fields_of(one(second, "li.org form"))["page"] == "2"


def test_a_nonsense_page_number_shows_the_first_page(
    admin_client: TestClient, make_org: MakeOrg
) -> None:
    make_org("satu")
    for query in ("page=abc", "page=-3", "page=99999999999999999999"):
        soup = page(admin_client, f"/admin/orgs?{query}")
        assert [str(li["data-org"]) for li in soup.select("li.org")] == ["satu"]


def test_approving_an_org_redirects_back_and_is_audited(
    admin_client: TestClient, session: Session, make_pending_org: MakeOrg, site_admin: Person
) -> None:
    org = make_pending_org("tunggu")
    form = form_to(page(admin_client, "/admin/orgs?status=pending"), "/admin/orgs/tunggu/approve")

    response = admin_client.post("/admin/orgs/tunggu/approve", data=fields_of(form))

    assert location(response) == "/admin/orgs?status=pending"
    assert fresh_org(session, "tunggu").verified is True
    [event] = events(session, f"org:{org.id}", "admin.org.approve")
    assert event.actor_id == site_admin.id
    soup = page(admin_client, "/admin/orgs?status=all")
    assert one(soup, "li.org[data-org=tunggu] [data-verified]")["data-verified"] == "true"


def test_revoking_an_approval_is_audited(
    admin_client: TestClient, session: Session, make_org: MakeOrg
) -> None:
    org = make_org("sudah")
    form = form_to(page(admin_client, "/admin/orgs?status=approved"), "/admin/orgs/sudah/revoke")

    response = admin_client.post("/admin/orgs/sudah/revoke", data=fields_of(form))

    assert location(response) == "/admin/orgs?status=approved"
    assert fresh_org(session, "sudah").verified is False
    assert [e.action for e in events(session, f"org:{org.id}")] == ["admin.org.revoke"]


def test_approving_an_unknown_org_is_404(admin_client: TestClient) -> None:
    assert post(admin_client, "/admin/orgs/tidak-ada/approve").status_code == 404
    assert post(admin_client, "/admin/orgs/tidak-ada/revoke").status_code == 404


def test_a_tampered_return_filter_falls_back_to_all(
    admin_client: TestClient, make_pending_org: MakeOrg
) -> None:
    make_pending_org("tunggu")
    response = post(admin_client, "/admin/orgs/tunggu/approve", status="<x>", page="zz")
    assert location(response) == "/admin/orgs?status=all"


def test_creating_an_org_approves_it_at_once(
    admin_client: TestClient, session: Session, site_admin: Person
) -> None:
    form = form_to(page(admin_client, "/admin/orgs"), "/admin/orgs")
    data = {
        **fields_of(form),
        "slug": "lbh-jakarta",
        "name": "LBH Jakarta",
        "website": "https://bantuanhukum.or.id",
    }

    response = admin_client.post("/admin/orgs", data=data)

    assert location(response) == "/admin/orgs?status=all"
    org = fresh_org(session, "lbh-jakarta")
    assert org.verified is True
    assert org.website == "https://bantuanhukum.or.id"
    [event] = events(session, f"org:{org.id}", "admin.org.create")
    assert event.actor_id == site_admin.id
    assert json.loads(event.data)["name"] == "LBH Jakarta"
    card = one(page(admin_client, "/admin/orgs"), "li.org[data-org=lbh-jakarta]")
    assert one(card, "h2").get_text(strip=True) == "LBH Jakarta"


def test_creating_an_org_with_bad_fields_shows_each_message_and_keeps_what_was_typed(
    admin_client: TestClient, session: Session
) -> None:
    response = post(admin_client, "/admin/orgs", slug="Bukan Slug!", name="", website="lbh.or.id")

    assert response.status_code == 422
    assert errors_of(response) == {
        "slug": "Use lower-case letters, digits and dashes only.",
        "name": "Enter the organisation's name (at most 160 characters).",
        "website": "Enter the full address of the website, like https://contoh.or.id.",
    }
    soup = html(response)
    assert one(soup, "input#slug")["value"] == "Bukan Slug!"
    assert one(soup, "input#website")["value"] == "lbh.or.id"
    assert one(soup, "input#slug")["aria-invalid"] == "true"
    assert "slug-error" in str(one(soup, "input#slug")["aria-describedby"])
    assert session.exec(select(Organization)).all() == []


def test_creating_an_org_with_a_taken_slug_is_refused(
    admin_client: TestClient, make_org: MakeOrg
) -> None:
    make_org("ada")
    response = post(admin_client, "/admin/orgs", slug="ada", name="Lagi", website="")
    assert response.status_code == 422
    assert errors_of(response) == {"slug": "An organisation with this short name already exists."}


# --- users ----------------------------------------------------------------------------------------


def test_user_list_searches_by_email(admin_client: TestClient, make_user: MakeUser) -> None:
    rina = make_user("rina@lbh.or.id", name="Rina")
    make_user("budi@example.org")

    soup = page(admin_client, "/admin/users?q=LBH")

    rows = soup.select("table.users tbody tr")
    assert [str(row["data-user"]) for row in rows] == [str(rina.id)]
    assert one(rows[0], "a")["href"] == f"/admin/users/{rina.id}"
    assert one(soup, "input#q")["value"] == "LBH"
    everyone = page(admin_client, "/admin/users").select("table.users tbody tr")
    assert len(everyone) == 3  # with the signed-in site admin


def test_user_list_marks_site_admins_and_deactivated_accounts(
    admin_client: TestClient, session: Session, make_user: MakeUser, site_admin: Person
) -> None:
    gone = make_user("gone@example.org")
    admin.deactivate_user(session, actor=site_admin.user, user_id=gone.id or 0, reason="left")

    soup = page(admin_client, "/admin/users")

    flags = {
        str(row["data-user"]): {str(b["data-flag"]) for b in row.select("[data-flag]")}
        for row in soup.select("table.users tbody tr")
    }
    assert flags == {str(gone.id): {"inactive"}, str(site_admin.id): {"site-admin"}}


def test_user_list_pages_keep_the_search(admin_client: TestClient, session: Session) -> None:
    for n in range(admin.PAGE_SIZE + 2):
        session.add(User(email=f"relawan{n:03}@example.org"))
    session.commit()

    first = page(admin_client, "/admin/users?q=relawan")
    nxt = str(one(first, "a[rel=next]")["href"])
    assert parse_qs(urlsplit(nxt).query) == {"q": ["relawan"], "page": ["2"]}
    assert len(page(admin_client, nxt).select("table.users tbody tr")) == 2


def test_no_match_says_so(admin_client: TestClient) -> None:
    soup = page(admin_client, "/admin/users?q=nobody-has-this")
    assert soup.select("table.users") == []
    assert one(soup, "p.empty").get_text(strip=True) == "No users match."


def test_user_page_shows_the_facts_and_memberships(
    admin_client: TestClient, make_user: MakeUser, make_org: MakeOrg, make_pending_org: MakeOrg
) -> None:
    mitra = make_org("mitra", name="Mitra")
    target = make_user("rina@example.org", org=mitra, role=Role.MODERATOR, name="Rina")
    tunggu = make_pending_org("tunggu", name="Tunggu")

    soup = page(admin_client, f"/admin/users/{target.id}")

    assert one(soup, "h1").get_text(strip=True) == "rina@example.org"
    facts = {str(dd["data-fact"]): dd.get_text(strip=True) for dd in soup.select("dd[data-fact]")}
    assert facts["name"] == "Rina"
    assert facts["active"] == "Active"
    assert facts["site-admin"] == "No"
    assert facts["last-login"] == "never"
    card = one(soup, "li.membership[data-org=mitra]")
    assert one(card, "[data-role]")["data-role"] == "moderator"
    form_to(card, f"/admin/users/{target.id}/memberships/mitra/remove")
    assert tunggu.slug not in {str(li["data-org"]) for li in soup.select("li.membership")}
    # Every field of every form has a label.
    for field in soup.select("main input:not([type=hidden]), main select, main textarea"):
        assert soup.select_one(f"label[for='{field['id']}']") is not None, field
    form_to(soup, f"/admin/users/{target.id}/deactivate")
    form_to(soup, f"/admin/users/{target.id}/site-admin")


def test_user_page_shows_the_last_sign_in(admin_client: TestClient, site_admin: Person) -> None:
    soup = page(admin_client, f"/admin/users/{site_admin.id}")
    assert one(soup, "dd[data-fact=last-login] time")["datetime"]


def test_unknown_user_is_404_and_a_word_is_not_a_500(admin_client: TestClient) -> None:
    assert admin_client.get("/admin/users/424242").status_code == 404
    assert admin_client.get("/admin/users/99999999999999999999").status_code == 404
    assert admin_client.get("/admin/users/rina").status_code == 422
    assert post(admin_client, "/admin/users/424242/deactivate", reason="x").status_code == 404
    assert post(admin_client, "/admin/users/424242/activate").status_code == 404
    assert (
        post(admin_client, "/admin/users/424242/site-admin", is_site_admin="true").status_code
        == 404
    )
    assert (
        post(admin_client, "/admin/users/424242/memberships", org="x", role="admin").status_code
        == 404
    )


# --- deactivating and activating -------------------------------------------------------------------


def test_deactivating_ends_the_persons_open_sessions(
    admin_client: TestClient,
    new_client: NewClient,
    session: Session,
    make_user: MakeUser,
    make_org: MakeOrg,
    site_admin: Person,
) -> None:
    org = make_org("mitra")
    member = make_user(
        "member@example.org", org=org, role=Role.ADMIN, password="correct horse battery staple"
    )
    colleague = make_user("colleague@example.org", site_admin=True)
    member_browser = sign_in(new_client(), member, password="correct horse battery staple")
    colleague_browser = sign_in(new_client(), colleague)
    assert member_browser.get("/dashboard/mitra").status_code != 303
    assert colleague_browser.get("/admin").status_code == 200

    for target in (member, colleague):
        form = form_to(
            page(admin_client, f"/admin/users/{target.id}"), f"/admin/users/{target.id}/deactivate"
        )
        response = admin_client.post(
            f"/admin/users/{target.id}/deactivate",
            data={**fields_of(form), "reason": "Left the team"},
        )
        assert location(response) == f"/admin/users/{target.id}"

    after = member_browser.get("/dashboard/mitra")
    assert urlsplit(location(after)).path == "/login"
    assert urlsplit(location(colleague_browser.get("/admin"))).path == "/login"
    assert fresh_user(session, member.id).is_active is False
    [event] = events(session, f"user:{member.id}", "admin.user.deactivate")
    assert event.reason == "Left the team"
    assert event.actor_id == site_admin.id
    # And they cannot sign in again.
    retry = new_client()
    token = csrf_token(retry, "/login")
    refused = retry.post(
        "/login",
        data={
            "email": "member@example.org",
            "password": "correct horse battery staple",
            "csrf_token": token,
        },
    )
    assert refused.status_code == 422
    soup = page(admin_client, f"/admin/users/{member.id}")
    assert one(soup, "dd[data-fact=active]").get_text(strip=True) == "Deactivated"
    assert one(soup, "li[data-action='admin.user.deactivate'] q").get_text() == "Left the team"
    form_to(soup, f"/admin/users/{member.id}/activate")


@pytest.mark.parametrize("reason", ["", "   "])
def test_deactivating_without_a_reason_is_refused_beside_the_field(
    admin_client: TestClient, session: Session, make_user: MakeUser, reason: str
) -> None:
    target = make_user()
    response = post(admin_client, f"/admin/users/{target.id}/deactivate", reason=reason)

    assert response.status_code == 422
    assert errors_of(response) == {"reason": "Write a short reason for deactivating this account."}
    assert one(html(response), "textarea#reason")["aria-invalid"] == "true"
    assert fresh_user(session, target.id).is_active is True
    assert events(session, f"user:{target.id}") == []


def test_a_too_long_reason_is_refused_and_kept_for_editing(
    admin_client: TestClient, make_user: MakeUser
) -> None:
    target = make_user()
    response = post(admin_client, f"/admin/users/{target.id}/deactivate", reason="x" * 501)
    assert response.status_code == 422
    assert errors_of(response) == {"reason": "Use at most 500 characters for the reason."}
    assert one(html(response), "textarea#reason").get_text() == "x" * 501


def test_a_site_admin_cannot_deactivate_themselves(
    admin_client: TestClient, session: Session, site_admin: Person
) -> None:
    soup = page(admin_client, f"/admin/users/{site_admin.id}")
    assert soup.select(f"form[action^='/admin/users/{site_admin.id}/deactivate']") == []

    response = post(admin_client, f"/admin/users/{site_admin.id}/deactivate", reason="oops")

    assert response.status_code == 422
    assert errors_of(response) == {
        "deactivate": "You cannot deactivate your own account: ask another site administrator."
    }
    assert fresh_user(session, site_admin.id).is_active is True
    assert page(admin_client, "/admin").select_one("h1") is not None  # still signed in


def test_activating_a_deactivated_account(
    admin_client: TestClient,
    new_client: NewClient,
    session: Session,
    make_user: MakeUser,
    site_admin: Person,
) -> None:
    target = make_user("back@example.org")
    admin.deactivate_user(session, actor=site_admin.user, user_id=target.id or 0, reason="pause")

    response = post(admin_client, f"/admin/users/{target.id}/activate")

    assert location(response) == f"/admin/users/{target.id}"
    assert fresh_user(session, target.id).is_active is True
    assert [e.action for e in events(session, f"user:{target.id}")] == [
        "admin.user.activate",
        "admin.user.deactivate",
    ]
    sign_in(new_client(), target)  # they can sign in again


# --- the site-admin flag -----------------------------------------------------------------------------


def test_granting_and_revoking_the_site_admin_flag(
    admin_client: TestClient, new_client: NewClient, session: Session, make_user: MakeUser
) -> None:
    target = make_user("helper@example.org")
    form = form_to(
        page(admin_client, f"/admin/users/{target.id}"), f"/admin/users/{target.id}/site-admin"
    )
    assert fields_of(form)["is_site_admin"] == "true"

    granted = admin_client.post(f"/admin/users/{target.id}/site-admin", data=fields_of(form))

    assert location(granted) == f"/admin/users/{target.id}"
    assert fresh_user(session, target.id).is_site_admin is True
    helper = sign_in(new_client(), target)
    assert helper.get("/admin").status_code == 200

    soup = page(admin_client, f"/admin/users/{target.id}")
    assert one(soup, "dd[data-fact=site-admin]").get_text(strip=True) == "Yes"
    form = form_to(soup, f"/admin/users/{target.id}/site-admin")
    assert fields_of(form)["is_site_admin"] == "false"
    revoked = admin_client.post(f"/admin/users/{target.id}/site-admin", data=fields_of(form))

    assert location(revoked) == f"/admin/users/{target.id}"
    assert helper.get("/admin").status_code == 403
    assert [e.action for e in events(session, f"user:{target.id}")] == [
        "admin.user.site_admin.revoke",
        "admin.user.site_admin.grant",
    ]


def test_a_site_admin_cannot_revoke_their_own_flag(
    admin_client: TestClient, session: Session, site_admin: Person
) -> None:
    soup = page(admin_client, f"/admin/users/{site_admin.id}")
    assert soup.select(f"form[action^='/admin/users/{site_admin.id}/site-admin']") == []

    response = post(admin_client, f"/admin/users/{site_admin.id}/site-admin", is_site_admin="false")

    assert response.status_code == 422
    assert errors_of(response) == {
        "site_admin": "You cannot remove your own site administrator role: ask another site administrator."
    }
    assert fresh_user(session, site_admin.id).is_site_admin is True
    assert admin_client.get("/admin").status_code == 200


@pytest.mark.parametrize("value", ["", "yes", "1"])
def test_the_flag_takes_only_true_or_false(
    admin_client: TestClient, session: Session, make_user: MakeUser, value: str
) -> None:
    target = make_user()
    response = post(admin_client, f"/admin/users/{target.id}/site-admin", is_site_admin=value)
    assert response.status_code == 422
    assert errors_of(response) == {
        "site_admin": "Choose whether this person is a site administrator."
    }
    assert fresh_user(session, target.id).is_site_admin is False


# --- memberships -------------------------------------------------------------------------------------


def test_adding_and_changing_a_membership(
    admin_client: TestClient,
    session: Session,
    make_user: MakeUser,
    make_org: MakeOrg,
    site_admin: Person,
) -> None:
    org = make_org("mitra", name="Mitra")
    target = make_user()
    path = f"/admin/users/{target.id}/memberships"
    form = [
        f for f in page(admin_client, f"/admin/users/{target.id}").select(f"form[action^='{path}']")
    ]
    assert len(form) == 1  # only the add form while there are no memberships

    added = admin_client.post(
        path, data={**fields_of(form[0]), "org": "mitra", "role": "moderator"}
    )

    assert location(added) == f"/admin/users/{target.id}"
    soup = page(admin_client, f"/admin/users/{target.id}")
    card = one(soup, "li.membership[data-org=mitra]")
    assert one(card, "[data-role]")["data-role"] == "moderator"
    change = card.select_one(f"form[action^='{path}']")
    assert change is not None
    changed = admin_client.post(path, data={**fields_of(change), "role": "admin"})

    assert location(changed) == f"/admin/users/{target.id}"
    assert accounts.role_in(session, user_id=target.id or 0, org_id=org.id or 0) == Role.ADMIN
    changes = events(session, f"user:{target.id}", "admin.membership.set")
    assert [json.loads(e.data)["role"] for e in changes] == ["admin", "moderator"]
    assert {e.actor_id for e in changes} == {site_admin.id}


@pytest.mark.parametrize(
    ("org", "role", "expected"),
    [
        ("tidak-ada", "admin", {"org": "There is no organisation with this short name."}),
        ("", "admin", {"org": "Enter the organisation's short name."}),
        ("mitra", "owner", {"role": "Choose a role: admin or moderator."}),
        ("mitra", "", {"role": "Choose a role: admin or moderator."}),
    ],
)
def test_a_bad_membership_is_refused_beside_its_field(
    admin_client: TestClient,
    session: Session,
    make_user: MakeUser,
    make_org: MakeOrg,
    org: str,
    role: str,
    expected: dict[str, str],
) -> None:
    make_org("mitra")
    target = make_user()

    response = post(admin_client, f"/admin/users/{target.id}/memberships", org=org, role=role)

    assert response.status_code == 422
    assert errors_of(response) == expected
    assert one(html(response), "input#org")["value"] == org
    assert accounts.list_memberships(session, user_id=target.id or 0) == []


def test_removing_a_membership_ends_the_persons_sessions(
    admin_client: TestClient,
    new_client: NewClient,
    session: Session,
    make_user: MakeUser,
    make_org: MakeOrg,
    site_admin: Person,
) -> None:
    org = make_org("mitra", name="Mitra")
    target = make_user("member@example.org", org=org, role=Role.ADMIN)
    browser = sign_in(new_client(), target)
    assert browser.get("/dashboard/mitra").status_code != 303
    remove_path = f"/admin/users/{target.id}/memberships/mitra/remove"
    form = form_to(page(admin_client, f"/admin/users/{target.id}"), remove_path)

    response = admin_client.post(remove_path, data=fields_of(form))

    assert location(response) == f"/admin/users/{target.id}"
    assert accounts.role_in(session, user_id=target.id or 0, org_id=org.id or 0) is None
    assert urlsplit(location(browser.get("/dashboard/mitra"))).path == "/login"
    [event] = events(session, f"user:{target.id}", "admin.membership.remove")
    assert json.loads(event.data)["org"] == "mitra"
    assert event.actor_id == site_admin.id
    soup = page(admin_client, f"/admin/users/{target.id}")
    assert soup.select("li.membership") == []


def test_removing_a_membership_that_does_not_exist_is_404(
    admin_client: TestClient, make_user: MakeUser, make_org: MakeOrg
) -> None:
    make_org("mitra")
    target = make_user()
    assert (
        post(admin_client, f"/admin/users/{target.id}/memberships/mitra/remove").status_code == 404
    )
    assert (
        post(admin_client, f"/admin/users/{target.id}/memberships/nope/remove").status_code == 404
    )
    assert post(admin_client, "/admin/users/424242/memberships/mitra/remove").status_code == 404


# --- the pages in Indonesian --------------------------------------------------------------------------


def test_pages_render_in_the_default_language_too(
    admin_client: TestClient, make_user: MakeUser, make_org: MakeOrg
) -> None:
    target = make_user(org=make_org("mitra"))
    admin_client.cookies.set("lang", "id")
    for path in ("/admin", "/admin/orgs", "/admin/users", f"/admin/users/{target.id}"):
        soup = page(admin_client, path)
        assert soup.html is not None and soup.html["lang"] == "id"


def test_a_user_s_history_names_each_change_and_shows_an_unknown_one_as_stored(
    admin_client: TestClient, session: Session, make_user: MakeUser, site_admin: Person
) -> None:
    member = make_user()
    subject = f"user:{member.id}"
    audit.record(
        session,
        actor_id=site_admin.id,
        action=audit.AuditAction.ADMIN_USER_ACTIVATE,
        subject=subject,
    )
    audit.record(session, actor_id=None, action="admin.user.renamed", subject=subject)  # type: ignore[arg-type]
    session.commit()

    soup = page(admin_client, f"/admin/users/{member.id}")
    assert one(soup, "li[data-action='admin.user.activate']").get_text().split(": ")[1] == (
        "Activated · by root@example.org"
    )
    assert "admin.user.renamed" in one(soup, "li[data-action='admin.user.renamed']").get_text()
    indonesian = page(admin_client, f"/admin/users/{member.id}?lang=id")
    assert "Diaktifkan" in one(indonesian, "li[data-action='admin.user.activate']").get_text()
