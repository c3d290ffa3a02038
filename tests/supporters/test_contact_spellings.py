"""One person, one supporter, however they type their contact: signing twice through the form
with two spellings of one email address or mobile number counts once, and the contact kept for
a partner's news is the address as the person gave it."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge.accounts.models import Organization
from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.contacts import dedup_key, normalise_contact, supporter_digest
from pledge.dashboard import service as dashboard
from pledge.security import FieldCipher, contact_digest
from pledge.supporters.models import Signature, Supporter
from tests.support.factories import MakeCampaign, MakeOrg, MakeUser
from tests.support.forms import form_data
from tests.support.pages import csrf_token, errors_of, html
from tests.support.signing import sign_and_confirm

THANKS = re.compile(r"^/c/[a-z0-9-]+/thanks/(?P<token>[A-Za-z0-9_-]+)")
NOT_A_CONTACT = (
    "Enter an email address (like nama@contoh.id) or an Indonesian mobile number "
    "(like 0812 3456 7890)."
)

# Pairs of spellings of one person's contact: the first signing, then the second.
SPELLINGS = [
    pytest.param("budi.santoso@gmail.com", "budisantoso@googlemail.com", id="gmail-dots"),
    pytest.param("Budi.Santoso+kampanye@gmail.com", "budisantoso@gmail.com", id="gmail-tag"),
    pytest.param("budisantoso@googlemail.com", "budi.santoso+x@gmail.com", id="googlemail"),
    pytest.param("rina+berita@example.com", "RINA@Example.com", id="tag-elsewhere"),
    pytest.param("budi@bücher.example", "budi@xn--bcher-kva.example", id="idna-domain"),
    pytest.param("Ana\u0301@example.com", "an\u00e1@example.com", id="nfc-local-part"),
    pytest.param("0812 3456 7890", "\u202a+62 812\u20113456\u20117890\u202c", id="whatsapp-copy"),
    pytest.param("(WA) 0812/3456/7890", "tel:+62-812-3456-7890", id="labels-and-tel"),
    pytest.param(
        "\uff10\uff18\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10",
        "\u0660\u0668\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660",
        id="full-width-and-arabic-indic",
    ),
    pytest.param("009 62 812\u20133456\u20147890", "0812\u200b3456\u200b7890", id="prefix-009"),
]


@pytest.fixture
def english(client: TestClient) -> TestClient:
    client.cookies.set("lang", "en")
    return client


@pytest.fixture
def lead(make_org: MakeOrg) -> Organization:
    return make_org()


@pytest.fixture
def live(make_campaign: MakeCampaign, lead: Organization) -> CampaignView:
    return make_campaign(lead=lead, partners=1)


def post_sign(client: TestClient, view: CampaignView, **fields: Any) -> Any:
    """Open the campaign page as a browser would, then send the form."""
    data = {"csrf_token": csrf_token(client, f"/c/{view.slug}"), **form_data(**fields)}
    return client.post(f"/c/{view.slug}/sign", data=data)


def token_of(response: Any) -> str:
    assert response.status_code == 303, response.text[:500]
    match = THANKS.match(response.headers["location"])
    assert match is not None, response.headers["location"]
    return match["token"]


def supporters_in(engine: sa.Engine, view: CampaignView) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(Supporter.__table__).where(  # type: ignore[attr-defined]
                sa.column("campaign_id") == view.id
            )
        ).mappings()
        return [dict(row) for row in rows]


def signed(engine: sa.Engine, supporter_id: int) -> set[int]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                sa.select(Signature.pledge_id).where(  # type: ignore[arg-type]
                    Signature.supporter_id == supporter_id  # type: ignore[arg-type]
                )
            ).scalars()
        )


def counts(client: TestClient, view: CampaignView) -> tuple[int, dict[str, int]]:
    body = client.get(f"/api/v1/campaigns/{view.slug}").json()
    return body["supporters"], {p["slug"]: p["supporters"] for p in body["pledges"]}


@pytest.mark.parametrize(("first", "again"), SPELLINGS)
def test_signing_twice_with_two_spellings_is_one_supporter(
    english: TestClient,
    live: CampaignView,
    engine: sa.Engine,
    session: Session,
    first: str,
    again: str,
) -> None:
    one = token_of(
        sign_and_confirm(english, session, live, contact=first, pledges=["tolak-politik-uang"])
    )
    two = token_of(
        sign_and_confirm(english, session, live, contact=again, pledges=["lawan-hoaks"], name="B")
    )

    assert two == one  # the same thank-you and withdrawal links
    (row,) = supporters_in(engine, live)
    assert row["display_name"] == "Rina Putri"  # the first signing's
    assert signed(engine, row["id"]) == {
        p.id for p in live.pledges if p.slug in ("tolak-politik-uang", "lawan-hoaks")
    }
    key = dedup_key(normalise_contact(again))
    assert row["contact_digest"] == contact_digest(get_settings().secret_key, key)
    total, per_pledge = counts(english, live)
    assert total == 1
    assert per_pledge["tolak-politik-uang"] == per_pledge["lawan-hoaks"] == 1


def test_different_people_stay_different(
    english: TestClient, live: CampaignView, engine: sa.Engine, session: Session
) -> None:
    for contact in (
        "budi.santoso@gmail.com",
        "budi.santoso@yahoo.co.id",
        "budisantoso@yahoo.co.id",  # dots are part of the name outside Gmail
        "budi.santoso@gmail.co.id",
        "+berita@example.com",
        "+lain@example.com",
        "0812 3456 7890",
        "0812 3456 7891",
    ):
        token_of(sign_and_confirm(english, session, live, contact=contact))
    assert len(supporters_in(engine, live)) == 8
    assert counts(english, live)[0] == 8


@pytest.mark.parametrize(
    "typed",
    [
        "0812-3456-789O",
        "\u202a+62 812\u20113456\u2011789O\u202c",
        "WA 0812 3456 789O",
        "tel:+62-812-3456-7890;ext=1",
    ],
)
def test_a_number_with_a_letter_left_over_is_refused_and_nothing_is_stored(
    english: TestClient, live: CampaignView, engine: sa.Engine, typed: str
) -> None:
    response = post_sign(english, live, contact=typed)

    assert response.status_code == 422
    assert errors_of(response) == {"contact": NOT_A_CONTACT}
    field = html(response).select_one('form input[name="contact"]')
    assert field is not None and field["value"] == typed  # shown back to be corrected
    assert supporters_in(engine, live) == []
    assert counts(english, live)[0] == 0


def test_the_refusal_is_in_indonesian_by_default(client: TestClient, live: CampaignView) -> None:
    response = post_sign(client, live, contact="0812-3456-789O")

    assert response.status_code == 422
    message = errors_of(response)["contact"]
    assert message != NOT_A_CONTACT
    assert "nama@contoh.id" in message and "0812 3456 7890" in message


def read_csv(lines: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(lines).removeprefix("\ufeff"))))


def test_the_partner_writes_to_the_address_as_given_not_the_key(
    english: TestClient,
    live: CampaignView,
    lead: Organization,
    session: Session,
    engine: sa.Engine,
    make_user: MakeUser,
) -> None:
    partner = next(p for p in live.partners if p.slug == lead.slug)
    given = "  Budi.Santoso+Kampanye@GMail.com "
    token_of(
        sign_and_confirm(
            english, session, live, contact=given, updates_org=partner.slug, name="Budi"
        )
    )
    token_of(sign_and_confirm(english, session, live, contact="budisantoso@googlemail.com"))

    (row,) = supporters_in(engine, live)
    kept = FieldCipher(get_settings().secret_key).decrypt(row["contact_encrypted"])
    assert kept == "Budi.Santoso+Kampanye@gmail.com"
    assert row["contact_digest"] == supporter_digest(get_settings().secret_key, kept)

    session.commit()
    export = dashboard.export_supporters(
        session, org=lead, slug=live.slug, actor=make_user(org=lead)
    )
    (_header, budi) = read_csv(export.lines)
    assert budi[:2] == ["Budi", "Budi.Santoso+Kampanye@gmail.com"]
