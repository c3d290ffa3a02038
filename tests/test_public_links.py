"""Links are never built from what a request says about itself: production starts only with
PLEDGE_PUBLIC_URL, every link in an email comes from it, and the language links of a page
stay on this site whatever path was asked for."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session

from pledge.campaigns.models import CampaignView
from pledge.config import Settings
from tests.support.db import outbox
from tests.support.factories import MakeCampaign, MakeUser
from tests.support.forms import form_data
from tests.support.pages import csrf_token, html
from tests.support.settings import UseSettings
from tests.support.signing import last_email_to

SECRET_KEY = "k" * 40
PUBLIC_URL = "https://suara.example.org"
FORGED = {"host": "evil.example"}


# --- the setting ---------------------------------------------------------------------------


def test_production_refuses_to_start_without_a_public_url() -> None:
    with pytest.raises(ValidationError, match="PLEDGE_PUBLIC_URL must be set in production"):
        Settings(env="production", secret_key=SECRET_KEY)
    with pytest.raises(ValidationError, match="PLEDGE_PUBLIC_URL must be set in production"):
        Settings(env="production", secret_key=SECRET_KEY, public_url="  ")


def test_outside_production_the_public_url_may_be_left_unset() -> None:
    assert Settings(env="development").public_url is None
    assert Settings(env="test", public_url="").public_url is None


@pytest.mark.parametrize(
    "url",
    [
        "suara.example.org",
        "ftp://suara.example.org",
        "https://",
        "https://suara.example.org/kampanye",
        "https://suara.example.org/?a=1",
        "https://suara.example.org/#top",
        "https://admin:rahasia@suara.example.org",
        "javascript:alert(1)",
    ],
)
def test_a_public_url_that_is_not_an_origin_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="PLEDGE_PUBLIC_URL must be the site's origin"):
        Settings(env="production", secret_key=SECRET_KEY, public_url=url)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://suara.example.org", "https://suara.example.org"),
        ("https://Suara.Example.org/", "https://suara.example.org"),
        (" HTTP://127.0.0.1:8000 ", "http://127.0.0.1:8000"),
    ],
)
def test_the_public_url_is_kept_as_an_origin(given: str, kept: str) -> None:
    assert Settings(env="production", secret_key=SECRET_KEY, public_url=given).public_url == kept


# --- links in emails -----------------------------------------------------------------------


def test_a_signers_email_links_to_the_public_url_whatever_the_host_header(
    client: TestClient, session: Session, make_campaign: MakeCampaign, use_settings: UseSettings
) -> None:
    view: CampaignView = make_campaign()
    token = csrf_token(client, f"/c/{view.slug}")
    # After the page: production's session cookie is Secure, which this http client keeps.
    use_settings(env="production", public_url=PUBLIC_URL)

    posted = client.post(
        f"/c/{view.slug}/sign",
        data={**form_data(contact="rina@example.org"), "csrf_token": token},
        headers=FORGED,
    )

    assert posted.status_code == 303, posted.text[:800]
    body = last_email_to(session, "rina@example.org").body
    assert f"{PUBLIC_URL}/c/{view.slug}/confirm/" in body
    assert "evil.example" not in body


def test_a_password_reset_links_to_the_public_url_whatever_the_host_header(
    client: TestClient, session: Session, make_user: MakeUser, use_settings: UseSettings
) -> None:
    make_user("rina@example.org")
    token = csrf_token(client, "/password/forgot")
    use_settings(env="production", public_url=PUBLIC_URL)

    posted = client.post(
        "/password/forgot",
        data={"email": "rina@example.org", "csrf_token": token},
        headers=FORGED,
    )

    assert posted.status_code == 303
    [message] = outbox(session)
    body = message.body
    assert f"{PUBLIC_URL}/password/reset/" in body
    assert "evil.example" not in body


# --- language links ------------------------------------------------------------------------


def language_link(response: object, code: str = "en") -> str:
    link = html(response).select_one(f"nav.lang a[hreflang={code}]")
    assert link is not None
    return str(link["href"])


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("//evil.example/x", "/evil.example/x?lang=en"),
        ("///evil.example", "/evil.example?lang=en"),
        ("/%5Cevil.example/x", "/evil.example/x?lang=en"),
        ("/%5C%5Cevil.example", "/evil.example?lang=en"),
        ("/tidak-ada/%3Fa", "/tidak-ada/%3Fa?lang=en"),
        ("/tidak-ada?page=2&lang=id", "/tidak-ada?page=2&lang=en"),
    ],
)
def test_the_404_pages_language_link_stays_on_this_site(
    client: TestClient, path: str, expected: str
) -> None:
    response = client.get(f"http://testserver{path}")

    assert response.status_code == 404
    assert language_link(response) == expected


def test_a_pages_language_link_is_its_own_route(
    client: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()

    response = client.get(f"/c/{view.slug}?ref=abc")

    assert response.status_code == 200
    assert language_link(response) == f"/c/{view.slug}?ref=abc&lang=en"
    english = client.get(language_link(response))
    assert language_link(english, "id") == f"/c/{view.slug}?ref=abc&lang=id"


def test_the_language_link_of_a_forged_host_stays_a_path(client: TestClient) -> None:
    response = client.get("/privacy", headers=FORGED)

    assert response.status_code == 200
    assert language_link(response) == "/privacy?lang=en"
