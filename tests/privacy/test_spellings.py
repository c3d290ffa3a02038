"""Personal data requests find a person however the contact is written: their signatures by the
digest of its key (and, for supporters from before keys whose contact is not stored, by the old
digest of the contact lower-cased), their hoax reports by comparing keys."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import User
from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.contacts import normalise_contact
from pledge.hoaxes import service as hoaxes
from pledge.privacy import requests as privacy
from pledge.privacy.findings import find
from pledge.privacy.forms import ErasureForm
from pledge.security import contact_digest
from pledge.supporters import service as supporters
from pledge.supporters.models import Supporter
from tests.support.pages import html
from tests.support.people import PASSWORD, sign_in

MakeCampaign = Callable[..., CampaignView]
Sign = Callable[..., Any]

supporter_t = Supporter.__table__  # type: ignore[attr-defined]

# How Budi wrote his address when signing and reporting, and how an admin might type it.
SIGNED_AS = "Budi.Santoso+kampanye@gmail.com"
REPORTED_AS = "budisantoso+lapor@googlemail.com"
TYPED = ("budisantoso@gmail.com", "BUDI.SANTOSO@googlemail.com", "b.udi.santoso+x@gmail.com")


@pytest.fixture
def view(make_campaign: MakeCampaign) -> CampaignView:
    return make_campaign()


@pytest.fixture
def admin_user(session: Session) -> User:
    user = accounts.create(session, email="root@example.org", password=PASSWORD, is_site_admin=True)
    session.commit()
    return user


@pytest.fixture
def admin(client: TestClient, admin_user: User) -> TestClient:
    client.cookies.set("lang", "en")
    return sign_in(client, admin_user)


def report(session: Session, view: CampaignView, contact: str) -> str:
    form = hoaxes.ReportForm(
        url="https://example.org/amplop",
        platform="whatsapp",
        category="money_politics",
        description="Ada yang bagi-bagi amplop.",
        contact=contact,
        consent="on",
    )
    found = hoaxes.submit(session, view=view, form=form)
    assert found is not None
    return found.tracking_code


def search(client: TestClient, contact: str) -> BeautifulSoup:
    page = client.get("/admin/contacts")
    token = html(page).select_one("form[action='/admin/contacts'] input[name=csrf_token]")
    assert token is not None
    response = client.post(
        "/admin/contacts", data={"csrf_token": str(token["value"]), "contact": contact}
    )
    assert response.status_code == 200, response.text[:500]
    return html(response)


@pytest.mark.parametrize("typed", TYPED)
def test_a_supporter_and_a_reporter_are_found_by_another_spelling(
    admin: TestClient, session: Session, view: CampaignView, sign: Sign, typed: str
) -> None:
    sign(view, name="Budi Santoso", contact=SIGNED_AS, updates_org=view.partners[0].slug)
    sign(view, name="Sari", contact="sari@example.com")
    code = report(session, view, REPORTED_AS)

    soup = search(admin, typed)

    rows = soup.select("table.found-supporters tbody tr")
    assert [str(r["data-campaign"]) for r in rows] == [view.slug]
    assert [str(r["data-report"]) for r in soup.select("table.found-reports tbody tr")] == [code]


def test_the_copy_holds_each_contact_as_it_was_given(
    admin_user: User, session: Session, view: CampaignView, sign: Sign
) -> None:
    sign(view, name="Budi Santoso", contact=SIGNED_AS, updates_org=view.partners[0].slug)
    report(session, view, REPORTED_AS)

    copy = privacy.export(session, actor=admin_user, raw="budisantoso@gmail.com")

    document = json.loads(copy.content)
    assert document["contact"] == "budisantoso@gmail.com"
    (signature,) = document["signatures"]
    assert signature["contact_kept_for_updates"] == SIGNED_AS
    (sent,) = document["hoax_reports"]
    assert sent["contact"] == REPORTED_AS


def test_an_erasure_by_another_spelling_withdraws_the_supporter(
    session: Session, view: CampaignView, sign: Sign, admin_user: User
) -> None:
    sign(view, name="Budi Santoso", contact=SIGNED_AS, pledges=["tolak-politik-uang"])
    sign(view, name="Sari", contact="sari@example.com")

    done = privacy.erase(
        session,
        actor=admin_user,
        form=ErasureForm(contact="BudiSantoso@GoogleMail.com", reason="Diminta lewat email"),
    )

    assert done.supporters == 1
    session.commit()
    assert supporters.read_counts(session, campaign_id=view.id).total == 1


def test_a_supporter_from_before_keys_is_found_by_the_address_as_typed_then(
    session: Session, view: CampaignView, sign: Sign
) -> None:
    # Signed before contacts were recognised by their key, without asking for news: the
    # stored digest is of the address lower-cased, and nothing could recompute it.
    signing = sign(view, name="Budi Santoso", contact="Budi.Santoso@gmail.com")
    assert signing.supporter is not None
    old = contact_digest(get_settings().secret_key, "budi.santoso@gmail.com")
    with session.begin():
        session.execute(
            sa.update(supporter_t)
            .where(supporter_t.c.id == signing.supporter.id)
            .values(contact_digest=old)
        )

    findings = find(session, contact=normalise_contact("BUDI.SANTOSO@gmail.com"))

    assert [s.id for s in findings.supporters] == [signing.supporter.id]


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ("counted once however you type it", "Gmail", "+62")),
        ("id", ("dihitung satu kali", "Gmail", "+62")),
    ],
)
def test_the_privacy_notice_says_what_the_fingerprint_sets_aside(
    client: TestClient, lang: str, words: tuple[str, ...]
) -> None:
    client.cookies.set("lang", lang)
    response = client.get("/privacy")

    assert response.status_code == 200
    items = [li.get_text(" ", strip=True) for li in html(response).select("article ul li")]
    (fingerprint,) = [item for item in items if words[0] in item]
    assert all(word in fingerprint for word in words)
