"""Who may see an uploaded screenshot: moderators of a partner before publication, anyone
after; everyone else is told it does not exist."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role
from pledge.campaigns.models import CampaignView
from tests.support.factories import MakeReport, MakeUser, Publish
from tests.support.images import resized_copy, screenshot
from tests.support.people import sign_in

MakeCampaign = Callable[..., CampaignView]


def partner_org(session: Session, view: CampaignView, n: int = 0) -> Organization:
    return accounts.get_org_by_slug(session, view.partners[n].slug)


def test_nobody_outside_sees_an_unpublished_screenshot(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport
) -> None:
    view = make_campaign()
    report = make_report(view, url="", image=screenshot(1))
    response = client.get(f"/media/{report.media_id}")
    assert response.status_code == 404
    assert client.get("/media/999999").status_code == 404


def test_a_partner_moderator_sees_it(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    make_user: MakeUser,
    session: Session,
) -> None:
    view = make_campaign()
    report = make_report(view, url="", image=screenshot(1))
    sign_in(client, make_user(org=partner_org(session, view, 1), role=Role.MODERATOR))
    response = client.get(f"/media/{report.media_id}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert response.headers["cache-control"].startswith("private")
    assert response.content[:2] in (b"\xff\xd8", b"\x89P", b"RI")


def test_a_partner_admin_sees_it_too(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    make_user: MakeUser,
    session: Session,
) -> None:
    view = make_campaign()
    report = make_report(view, url="", image=screenshot(1))
    sign_in(client, make_user(org=partner_org(session, view, 0), role=Role.ADMIN))
    assert client.get(f"/media/{report.media_id}").status_code == 200


def test_a_joined_reports_own_picture_is_visible_to_moderators(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    make_user: MakeUser,
    session: Session,
) -> None:
    view = make_campaign()
    first = make_report(view, url="", image=screenshot(2))
    second = make_report(view, url="", image=resized_copy(2))
    assert second.case_id == first.case_id and second.media_id != first.media_id
    sign_in(client, make_user(org=partner_org(session, view), role=Role.MODERATOR))
    assert client.get(f"/media/{second.media_id}").status_code == 200


def test_a_moderator_of_another_organisation_does_not(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    make_user: MakeUser,
    session: Session,
) -> None:
    view = make_campaign()
    elsewhere = make_campaign()
    report = make_report(view, url="", image=screenshot(1))
    sign_in(client, make_user(org=partner_org(session, elsewhere), role=Role.MODERATOR))
    assert client.get(f"/media/{report.media_id}").status_code == 404


def test_a_signed_in_person_without_a_role_does_not(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    make_user: MakeUser,
) -> None:
    view = make_campaign()
    report = make_report(view, url="", image=screenshot(1))
    sign_in(client, make_user())
    assert client.get(f"/media/{report.media_id}").status_code == 404


def test_anyone_sees_it_once_published(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport, publish: Publish
) -> None:
    view = make_campaign()
    report = make_report(view, url="", image=screenshot(1))
    publish(report.case_id)
    response = client.get(f"/media/{report.media_id}")
    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("public")
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"


def test_a_picture_that_only_joined_a_published_case_stays_private(
    client: TestClient, make_campaign: MakeCampaign, make_report: MakeReport, publish: Publish
) -> None:
    view = make_campaign()
    first = make_report(view, url="", image=screenshot(3))
    publish(first.case_id)
    late = make_report(view, url="", image=resized_copy(3))
    assert late.case_id == first.case_id
    assert client.get(f"/media/{first.media_id}").status_code == 200
    assert client.get(f"/media/{late.media_id}").status_code == 404
