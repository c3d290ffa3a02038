"""No browser, proxy or back button keeps a copy of a page with personal data or a secret
link: every staff route (signed in with a role that may use it), every page of a supporter's
own, and every page a signed-in user sees answers ``Cache-Control: no-store``; the public
pages a visitor sees stay as cacheable as they were."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Role, User
from pledge.hoaxes.models import HoaxReport
from pledge.urls import PAGE_ROUTERS
from tests.support.factories import MakeCampaign, MakeReport
from tests.support.images import screenshot
from tests.support.people import sign_in
from tests.support.signing import (
    confirm_in_browser,
    last_email_to,
    post_sign,
    type_code,
)
from tests.test_permissions import ALLOWED, CSRF, EXPECTED, World, concrete, make_world


@pytest.fixture
def world(session: Session, make_org: Any, make_campaign: Any) -> World:
    """The permission matrix's world: every staff route has something to open."""
    return make_world(session, make_org, make_campaign)


# Who opens each staff route: the first of these that may use it.
OPENERS = ("admin", "site_admin", "moderator", "other_admin")


def opener(method: str, path: str) -> str:
    return next(p for p in OPENERS if EXPECTED[(method, path)][p] == ALLOWED)


def no_store(response: Any) -> bool:
    directives = {d.strip() for d in response.headers.get("cache-control", "").split(",")}
    return "no-store" in directives


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_every_staff_route_is_never_stored(
    client: TestClient, world: World, method: str, path: str
) -> None:
    sign_in(client, world.users[opener(method, path)], csrf=CSRF)
    url = concrete(path, world)
    if method == "GET":
        response = client.get(url)
        # Every staff page opens for its role; /dashboard sends one to their organisation.
        assert response.status_code in (200, 303), (url, response.status_code)
    else:
        data = {"csrf_token": CSRF, "invitation_id": str(world.ids["invitation_id"])}
        response = client.post(url, data=data)
        assert response.status_code < 500, response.text[:500]
    if response.status_code != 303:
        assert no_store(response), (method, url, response.headers.get("cache-control"))


def test_the_staff_pages_named_by_the_review_are_walked() -> None:
    walked = {path for method, path in EXPECTED if method == "GET"}
    assert {
        "/admin/users",
        "/admin/users/{user_id}",
        "/dashboard/{org}",
        "/dashboard/{org}/campaigns/{slug}/statistics",
        "/dashboard/{org}/campaigns/{slug}/export.csv",
        "/mod",
        "/mod/cases/{case_id}",
        "/account",
    } <= walked


SUPPORTER_PAGES = {
    "/c/{slug}/confirm",
    "/c/{slug}/confirm/{secret}",
    "/c/{slug}/thanks",
    "/c/{slug}/thanks/{token}",
    "/c/{slug}/withdraw/{token}",
    "/reports/{code}",
}


def test_the_private_supporter_pages_are_routes() -> None:
    routes = {route.path for router in PAGE_ROUTERS for route in router.routes}  # type: ignore[attr-defined]
    assert routes >= SUPPORTER_PAGES


def test_a_supporters_own_pages_are_never_stored(
    client: TestClient, session: Session, make_campaign: MakeCampaign, make_report: MakeReport
) -> None:
    view = make_campaign()
    contact = "sari@example.org"
    assert post_sign(client, view, contact=contact).status_code == 303
    seen: dict[str, Any] = {}
    seen["/c/{slug}/confirm"] = client.get(f"/c/{view.slug}/confirm")
    seen["/c/{slug}/thanks"] = client.get(f"/c/{view.slug}/thanks")
    wrong = type_code(client, view.slug, "000000")
    assert wrong.status_code == 422
    email = last_email_to(session, contact)
    seen["/c/{slug}/confirm/{secret}"] = client.get(email.confirm_path)
    landing = confirm_in_browser(client, session, view, contact)
    assert landing.status_code == 303
    own = landing.headers["location"]
    seen["/c/{slug}/thanks/{token}"] = client.get(own)
    token = own.split("?")[0].rsplit("/", 1)[-1]
    seen["/c/{slug}/withdraw/{token}"] = client.get(f"/c/{view.slug}/withdraw/{token}")
    report: HoaxReport = make_report(view, url="", image=screenshot(1))
    seen["/reports/{code}"] = client.get(f"/reports/{report.tracking_code}")
    assert set(seen) == SUPPORTER_PAGES
    for path, response in [*seen.items(), ("code typed wrong", wrong)]:
        assert response.status_code in (200, 422), (path, response.status_code)
        assert no_store(response), (path, response.headers.get("cache-control"))


def test_pages_opened_by_a_one_time_link_are_never_stored(
    client: TestClient, session: Session, make_org: Any, make_user: Any
) -> None:
    org = make_org()
    user: User = make_user(org=org, role=Role.ADMIN)
    accounts.request_password_reset(session, email=user.email, base_url="http://testserver")
    session.commit()
    reset = re.search(r"(/password/reset/[A-Za-z0-9_-]+)", last_email_to(session, user.email).body)
    secret = accounts.invite(
        session,
        org=org,
        email="baru@example.org",
        role=Role.MODERATOR,
        invited_by=user,
        base_url="http://testserver",
    )
    session.commit()
    assert reset is not None
    for path in (reset.group(1), f"/invite/{secret}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert no_store(response), path


def public_pages(client: TestClient, make_campaign: MakeCampaign) -> dict[str, Any]:
    view = make_campaign(slug="kampanye-umum")
    paths = ["/", "/privacy", "/hoaxes", f"/c/{view.slug}", f"/c/{view.slug}/report", "/login"]
    # The campaign page twice: drawn, then from the process's store of drawn pages.
    return {f"{path} ({n})": client.get(path) for n in (1, 2) for path in paths}


def test_public_pages_stay_cacheable_for_a_visitor(
    client: TestClient, make_campaign: MakeCampaign
) -> None:
    for path, response in public_pages(client, make_campaign).items():
        assert response.status_code == 200, path
        assert not no_store(response), path


def test_a_signed_in_users_browser_stores_no_page(
    client: TestClient, make_campaign: MakeCampaign, make_user: Any
) -> None:
    user: User = make_user()
    sign_in(client, user, csrf=CSRF)
    for path, response in public_pages(client, make_campaign).items():
        assert response.status_code in (200, 303), path
        if response.status_code == 200:
            assert no_store(response), path


def test_a_reporters_unpublished_picture_is_never_stored(
    client: TestClient,
    session: Session,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    make_user: Any,
) -> None:
    view = make_campaign()
    report = make_report(view, url="", image=screenshot(2))
    org = accounts.get_org_by_slug(session, view.partners[0].slug)
    sign_in(client, make_user(org=org, role=Role.MODERATOR), csrf=CSRF)
    response = client.get(f"/media/{report.media_id}")
    assert response.status_code == 200
    assert no_store(response)
