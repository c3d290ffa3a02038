"""The site admins' forms checked with the shared field checks: the new organisation's website
is refused exactly where the organisation's own profile refuses it."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import Tag
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pledge import audit
from pledge.accounts import service as accounts
from pledge.accounts.models import Organization
from pledge.admin import service as admin
from pledge.errors import Invalid
from pledge.forms import Checks
from tests.support.factories import MakeOrg, MakeUser
from tests.support.pages import csrf_token, errors_of, html

BAD_WEBSITE = "Enter the full address of the website, like https://contoh.or.id."
# What the admin's form let through before it used the profile's check.
REFUSED_WEBSITES = [
    "https://user@contoh.or.id",
    "https://user:rahasia@contoh.or.id/",
    "https://contoh.or.id:99999/",
    "https://contoh.or.id:port/",
    "https://contoh .or.id",
    "https://contoh.or.id/ tentang",
]


def post(client: TestClient, path: str, **data: str) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin"), **data})


def input_named(response: Any, name: str) -> Tag:
    found = html(response).select_one(f"input[name={name}]")
    assert found is not None
    return found


@pytest.mark.parametrize("website", REFUSED_WEBSITES)
def test_a_new_org_with_a_website_the_profile_refuses_is_refused_and_nothing_is_stored(
    admin_client: TestClient, session: Session, website: str
) -> None:
    response = post(admin_client, "/admin/orgs", slug="lbh", name="LBH", website=website)

    assert response.status_code == 422
    assert errors_of(response) == {"website": BAD_WEBSITE}
    field = input_named(response, "website")
    assert field["value"] == website
    assert field["aria-invalid"] == "true"
    assert input_named(response, "slug")["value"] == "lbh"
    session.commit()
    assert session.exec(select(Organization)).all() == []
    assert audit.list_events(session) == []


@pytest.mark.parametrize("website", REFUSED_WEBSITES)
def test_the_admin_and_the_profile_forms_refuse_the_same_websites_with_the_same_words(
    website: str,
) -> None:
    with pytest.raises(Invalid) as profile:
        accounts.OrgProfileForm(name="LBH", website=website).check()
    checks = Checks()
    admin.OrgForm(slug="lbh", name="LBH", website=website).clean(checks)
    assert checks.errors == profile.value.errors == {"website": BAD_WEBSITE}


def test_a_new_org_keeps_a_plain_website(admin_client: TestClient, session: Session) -> None:
    response = post(
        admin_client, "/admin/orgs", slug="lbh", name="LBH", website=" https://lbh.or.id:8443/a "
    )

    assert response.status_code == 303
    session.commit()
    org = accounts.get_org_by_slug(session, "lbh")
    assert org.website == "https://lbh.or.id:8443/a"


def test_a_taken_slug_is_said_beside_the_other_messages(
    admin_client: TestClient, session: Session, make_org: MakeOrg
) -> None:
    make_org("ada")

    response = post(admin_client, "/admin/orgs", slug="ada", name="Lagi", website="https://u@x.id")

    assert response.status_code == 422
    assert errors_of(response) == {
        "slug": "An organisation with this short name already exists.",
        "website": BAD_WEBSITE,
    }
    session.commit()
    assert [org.slug for org in session.exec(select(Organization))] == ["ada"]


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("   ", "Write a short reason for deactivating this account."),
        ("x" * 501, "Use at most 500 characters for the reason."),
    ],
)
def test_a_deactivation_without_a_fit_reason_is_refused_beside_the_reason(
    admin_client: TestClient, session: Session, make_user: MakeUser, reason: str, message: str
) -> None:
    target = make_user()

    response = post(admin_client, f"/admin/users/{target.id}/deactivate", reason=reason)

    assert response.status_code == 422
    assert errors_of(response) == {"reason": message}
    textarea = html(response).select_one("textarea[name=reason]")
    assert textarea is not None
    assert textarea.get_text() == reason
    session.commit()
    session.refresh(target)
    assert target.is_active is True


@pytest.mark.parametrize(
    ("org", "role", "errors"),
    [
        ("", "admin", {"org": "Enter the organisation's short name."}),
        ("tidak-ada", "admin", {"org": "There is no organisation with this short name."}),
        ("mitra", "owner", {"role": "Choose a role: admin or moderator."}),
    ],
)
def test_a_membership_form_refused_keeps_what_was_typed(
    admin_client: TestClient,
    session: Session,
    make_user: MakeUser,
    make_org: MakeOrg,
    org: str,
    role: str,
    errors: dict[str, str],
) -> None:
    make_org("mitra")
    target = make_user()

    response = post(admin_client, f"/admin/users/{target.id}/memberships", org=org, role=role)

    assert response.status_code == 422
    assert errors_of(response) == errors
    assert input_named(response, "org")["value"] == org
    assert accounts.list_memberships(session, user_id=target.id or 0) == []


def test_the_site_admin_flag_takes_only_true_or_false() -> None:
    assert admin.parse_flag("true") is True
    assert admin.parse_flag("false") is False
    for raw in (None, "", "yes", "TRUE"):
        with pytest.raises(Invalid) as raised:
            admin.parse_flag(raw)
        assert raised.value.errors == {
            "site_admin": "Choose whether this person is a site administrator."
        }
