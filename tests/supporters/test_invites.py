"""Personal invite links: each supporter's share link counts the friends who sign through it,
and only that supporter sees the number, on their own thank-you page."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup, Tag
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pledge.campaigns.models import CampaignView
from pledge.supporters.models import Supporter
from pledge.supporters.service import INVITE_CODE
from tests.support.forms import form_data
from tests.support.pages import csrf_token, html
from tests.support.signing import confirm_landing

MakeCampaign = Callable[..., CampaignView]

BASE = "http://testserver"
supporter_t = Supporter.__table__  # type: ignore[attr-defined]


def one(soup: BeautifulSoup | Tag, selector: str) -> Tag:
    found = soup.select_one(selector)
    assert found is not None, f"nothing matches {selector!r}"
    return found


def sign_form(page: BeautifulSoup, view: CampaignView) -> Tag:
    forms = [
        f
        for f in page.select("form[action]")
        if urlsplit(str(f["action"])).path == f"/c/{view.slug}/sign"
    ]
    assert len(forms) == 1
    return forms[0]


def hidden_fields(page: BeautifulSoup, view: CampaignView) -> dict[str, str]:
    form = sign_form(page, view)
    return {str(i["name"]): str(i.get("value", "")) for i in form.select("input[type=hidden]")}


def open_campaign(client: TestClient, view: CampaignView, query: str = "") -> BeautifulSoup:
    response = client.get(f"/c/{view.slug}" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.text[:500]
    return html(response)


@dataclass(frozen=True)
class Signed:
    """Where a signing landed once confirmed: the supporter's own thank-you page; or, left
    unconfirmed, the page that waits for the confirmation."""

    location: str

    @property
    def path(self) -> str:
        return urlsplit(self.location).path

    @property
    def token(self) -> str:
        return self.path.rsplit("/", 1)[1]


def sign_through(
    client: TestClient, view: CampaignView, query: str = "", *, confirm: bool = True, **fields: Any
) -> Signed:
    """Open the campaign page (through a shared link's query) and send its form as it is,
    hidden fields included, as a browser would; then confirm, as the signer does, unless
    ``confirm=False``."""
    page = open_campaign(client, view, query)
    data = {**hidden_fields(page, view), **form_data(**fields)}
    response = client.post(f"/c/{view.slug}/sign", data=data)
    assert response.status_code == 303, response.text[:500]
    assert response.headers["location"] == f"/c/{view.slug}/confirm"
    if not confirm:
        return Signed(response.headers["location"])
    return Signed(confirm_landing(client, view, data["contact"]))


def thanks_page(client: TestClient, signed: Signed) -> BeautifulSoup:
    response = client.get(signed.path)
    assert response.status_code == 200, response.text[:500]
    return html(response)


def share_url(page: BeautifulSoup) -> str:
    return str(one(page, "input#share-url")["value"])


def invite_code(page: BeautifulSoup) -> str:
    codes = parse_qs(urlsplit(share_url(page)).query)["invite"]
    assert len(codes) == 1
    return codes[0]


def friends_line(page: BeautifulSoup) -> str:
    return one(page, "p.invite-note strong.friends").get_text(" ", strip=True)


def invited_by(engine: sa.Engine, name: str) -> str | None:
    """The display name of whoever invited the supporter called `name`, read outside the app."""
    inviter = supporter_t.alias("inviter")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(inviter.c.display_name)
            .select_from(
                supporter_t.outerjoin(inviter, inviter.c.id == supporter_t.c.invited_by_id)
            )
            .where(supporter_t.c.display_name == name)
        ).all()
    assert len(rows) == 1, f"{len(rows)} supporters called {name}"
    return rows[0][0]


def supporters_stored(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(supporter_t)).scalar_one())


@pytest.fixture
def english(client: TestClient) -> TestClient:
    client.cookies.set("lang", "en")
    return client


@pytest.fixture
def friend(app: FastAPI) -> Iterator[TestClient]:
    """A second phone: someone who got the link in a chat."""
    with TestClient(app, base_url=BASE, follow_redirects=False) as other:
        other.cookies.set("lang", "en")
        yield other


@pytest.fixture
def live(make_campaign: MakeCampaign) -> CampaignView:
    return make_campaign(partners=2)


@pytest.fixture
def other(make_campaign: MakeCampaign) -> CampaignView:
    """A second live campaign, with supporters and invite links of its own."""
    return make_campaign(partners=0)


@pytest.fixture
def holder(english: TestClient, live: CampaignView) -> Signed:
    """Rina, who signed and now shares her personal link."""
    return sign_through(english, live, name="Rina Putri", contact="rina@example.com")


# --- the link ------------------------------------------------------------------------


def test_the_share_link_carries_a_personal_invite_code(
    english: TestClient, live: CampaignView, holder: Signed
) -> None:
    page = thanks_page(english, holder)

    code = invite_code(page)
    assert INVITE_CODE.match(code)
    assert share_url(page) == f"{BASE}/c/{live.slug}?invite={code}"
    for link in page.select("ul.share-links a[href]"):
        assert quote(code, safe="") in str(link["href"])
    assert friends_line(page) == "No friend has joined through your link yet."
    note = one(page, "p.invite-note").get_text(" ", strip=True)
    assert "Only you can see this number" in note


def test_the_link_of_a_referred_supporter_keeps_the_partner(
    english: TestClient, live: CampaignView
) -> None:
    partner = next(p for p in live.partners if not p.is_lead)
    signed = sign_through(english, live, f"ref={partner.referral_code}")

    url = share_url(thanks_page(english, signed))

    assert parse_qs(urlsplit(url).query) == {
        "ref": [partner.referral_code],
        "invite": [invite_code(thanks_page(english, signed))],
    }


def test_new_supporters_get_distinct_codes_of_eight_characters(
    english: TestClient, live: CampaignView, engine: sa.Engine
) -> None:
    codes = [
        invite_code(thanks_page(english, sign_through(english, live, contact=f"p{n}@example.com")))
        for n in range(6)
    ]

    assert len(set(codes)) == 6
    assert all(len(code) == 8 and INVITE_CODE.match(code) for code in codes)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(supporter_t.c.invite_code)).scalars().all()
    assert sorted(stored) == sorted(codes)


# --- friends who sign through it -----------------------------------------------------


def test_a_friend_who_signs_through_the_link_is_counted_for_its_holder(
    english: TestClient,
    friend: TestClient,
    live: CampaignView,
    holder: Signed,
    engine: sa.Engine,
) -> None:
    code = invite_code(thanks_page(english, holder))

    page = open_campaign(friend, live, f"invite={code}")
    assert hidden_fields(page, live)["invite"] == code
    assert "Rina" not in page.get_text()  # the link does not say whose it is

    budi = sign_through(friend, live, f"invite={code}", name="Budi Santoso", contact="budi@x.id")

    assert urlsplit(budi.location).query == "outcome=new&added=tolak-politik-uang"
    budi_page = thanks_page(friend, budi)
    assert friends_line(budi_page) == "No friend has joined through your link yet."
    assert invite_code(budi_page) != code
    assert friends_line(thanks_page(english, holder)) == "1 friend has joined through your link."
    assert invited_by(engine, "Budi Santoso") == "Rina Putri"
    assert invited_by(engine, "Rina Putri") is None

    sign_through(friend, live, f"invite={code}", name="Sari Dewi", contact="0812 1111 2222")
    assert friends_line(thanks_page(english, holder)) == "2 friends have joined through your link."


def test_the_count_reads_in_indonesian_too(
    english: TestClient, friend: TestClient, live: CampaignView, holder: Signed
) -> None:
    code = invite_code(thanks_page(english, holder))
    english.cookies.set("lang", "id")
    assert friends_line(thanks_page(english, holder)) == "Belum ada teman yang ikut lewat link-mu."
    sign_through(friend, live, f"invite={code}", contact="budi@example.com")

    page = thanks_page(english, holder)

    assert one(page, "html")["lang"] == "id"
    assert friends_line(page) == "1 teman sudah ikut lewat link-mu."


def test_a_friend_of_a_friend_counts_for_the_friend_only(
    english: TestClient, friend: TestClient, live: CampaignView, holder: Signed
) -> None:
    code = invite_code(thanks_page(english, holder))
    budi = sign_through(friend, live, f"invite={code}", name="Budi", contact="budi@example.com")
    budi_code = invite_code(thanks_page(friend, budi))

    sign_through(friend, live, f"invite={budi_code}", name="Sari", contact="sari@example.com")

    assert friends_line(thanks_page(english, holder)) == "1 friend has joined through your link."
    assert friends_line(thanks_page(friend, budi)) == "1 friend has joined through your link."


def test_the_count_is_shown_nowhere_else(
    english: TestClient, friend: TestClient, live: CampaignView, holder: Signed
) -> None:
    code = invite_code(thanks_page(english, holder))
    budi = sign_through(friend, live, f"invite={code}", contact="budi@example.com")

    for client, path in (
        (friend, f"/c/{live.slug}"),
        (friend, f"/c/{live.slug}?invite={code}"),
        (english, f"/c/{live.slug}"),
        (english, "/"),
    ):
        page = html(client.get(path))
        assert page.select(".friends, .invite-note") == [], path
        assert "through your link" not in page.get_text(" "), path

    api = friend.get(f"/api/v1/campaigns/{live.slug}")
    assert api.status_code == 200
    text = json.dumps(api.json())
    assert "invite" not in text and "friend" not in text and code not in text
    listing = json.dumps(friend.get("/api/v1/campaigns").json())
    assert "invite" not in listing and "friend" not in listing

    # The friend's page shows the friend's own link and count, not the holder's.
    budi_page = thanks_page(friend, budi)
    assert friends_line(budi_page) == "No friend has joined through your link yet."
    assert code not in str(budi_page)


# --- what credits no one -------------------------------------------------------------


def test_an_unknown_code_is_ignored(
    english: TestClient, friend: TestClient, live: CampaignView, holder: Signed, engine: sa.Engine
) -> None:
    code = invite_code(thanks_page(english, holder))
    unknown = "zz" + code[2:] if not code.startswith("zz") else "yy" + code[2:]

    page = open_campaign(friend, live, f"invite={unknown}")
    assert hidden_fields(page, live)["invite"] == unknown  # well-formed: it is carried along
    signed = sign_through(friend, live, f"invite={unknown}", name="Budi", contact="b@example.com")

    assert urlsplit(signed.location).query.startswith("outcome=new")
    assert (
        friends_line(thanks_page(english, holder)) == "No friend has joined through your link yet."
    )
    assert invited_by(engine, "Budi") is None
    assert friend.get(f"/api/v1/campaigns/{live.slug}").json()["supporters"] == 2


MALFORMED = [
    pytest.param("<script>alert(1)</script>", id="markup"),
    pytest.param("a" * 200, id="200-characters"),
    pytest.param("abc", id="too-short"),
    pytest.param("abcdefgh%0A", id="trailing-newline"),
    pytest.param("abc%20def", id="space"),
    pytest.param("%E2%80%AEabcdefgh", id="bidi-control"),
]


@pytest.mark.parametrize("query_value", MALFORMED)
def test_a_malformed_code_is_dropped_from_the_form(
    query_value: str, friend: TestClient, live: CampaignView
) -> None:
    response = friend.get(f"/c/{live.slug}?invite={query_value}")

    assert response.status_code == 200
    page = html(response)
    assert hidden_fields(page, live).get("invite", "") == ""
    assert "alert(1)" not in response.text
    assert [str(s["src"]).split("?")[0] for s in page.select("script")] == ["/static/js/live.js"]


@pytest.mark.parametrize(
    "posted",
    [
        pytest.param("<script>alert(1)</script>", id="markup"),
        pytest.param("a" * 200, id="200-characters"),
        pytest.param("abc", id="too-short"),
        pytest.param(None, id="holder-code-and-line-break"),
        pytest.param("abcd efgh", id="space"),
        pytest.param("' OR 1=1 --", id="sql"),
    ],
)
def test_a_malformed_code_posted_directly_still_signs_and_credits_no_one(
    posted: str | None,
    english: TestClient,
    friend: TestClient,
    live: CampaignView,
    holder: Signed,
    engine: sa.Engine,
) -> None:
    code = invite_code(thanks_page(english, holder))
    if posted is None:
        posted = code + "\n"  # the holder's own code, with a line break after it
    token = csrf_token(friend, f"/c/{live.slug}")

    response = friend.post(
        f"/c/{live.slug}/sign",
        data={
            **form_data(name="Budi", contact="b@example.com"),
            "csrf_token": token,
            "invite": posted,
        },
    )

    assert response.status_code == 303, response.text[:500]
    assert response.headers["location"] == f"/c/{live.slug}/confirm"
    landed = confirm_landing(friend, live, "b@example.com")
    assert urlsplit(landed).query.startswith("outcome=new")
    assert invited_by(engine, "Budi") is None
    assert (
        friends_line(thanks_page(english, holder)) == "No friend has joined through your link yet."
    )


def test_signing_again_through_a_link_adds_no_friend(
    english: TestClient, friend: TestClient, live: CampaignView, holder: Signed, engine: sa.Engine
) -> None:
    code = invite_code(thanks_page(english, holder))
    first = sign_through(friend, live, name="Budi", contact="budi@example.com")

    again = sign_through(
        friend,
        live,
        f"invite={code}",
        name="Budi",
        contact="BUDI@example.com ",
        pledges=["tolak-politik-uang", "lawan-hoaks"],
    )

    assert again.path == first.path  # the same supporter, counted once
    assert urlsplit(again.location).query == "outcome=added&added=lawan-hoaks"
    assert (
        friends_line(thanks_page(english, holder)) == "No friend has joined through your link yet."
    )
    assert invited_by(engine, "Budi") is None


def test_the_holder_cannot_count_themself(
    english: TestClient, live: CampaignView, holder: Signed, engine: sa.Engine
) -> None:
    code = invite_code(thanks_page(english, holder))

    again = sign_through(
        english, live, f"invite={code}", name="Rina Putri", contact="rina@example.com"
    )

    assert again.path == holder.path
    assert (
        friends_line(thanks_page(english, holder)) == "No friend has joined through your link yet."
    )
    assert invited_by(engine, "Rina Putri") is None


def test_a_code_from_another_campaign_credits_no_one(
    other: CampaignView,
    english: TestClient,
    friend: TestClient,
    live: CampaignView,
    holder: Signed,
    engine: sa.Engine,
) -> None:
    code = invite_code(thanks_page(english, holder))

    signed = sign_through(friend, other, f"invite={code}", name="Budi", contact="b@example.com")

    assert signed.path.startswith(f"/c/{other.slug}/thanks/")
    assert invited_by(engine, "Budi") is None
    assert (
        friends_line(thanks_page(english, holder)) == "No friend has joined through your link yet."
    )
    assert (
        friends_line(thanks_page(friend, signed)) == "No friend has joined through your link yet."
    )


def test_a_bot_filling_the_honeypot_through_a_link_stores_nothing(
    english: TestClient, friend: TestClient, live: CampaignView, holder: Signed, engine: sa.Engine
) -> None:
    code = invite_code(thanks_page(english, holder))

    signed = sign_through(
        friend,
        live,
        f"invite={code}",
        confirm=False,
        contact="bot@example.com",
        website="https://spam.example",
    )

    # The bot is shown the page every signer is shown, and nothing is waiting behind it.
    assert signed.location == f"/c/{live.slug}/confirm"
    assert friend.get(signed.location).status_code == 200
    assert friend.get(f"/c/{live.slug}/thanks").headers.get("location") is None
    assert supporters_stored(engine) == 1
    assert (
        friends_line(thanks_page(english, holder)) == "No friend has joined through your link yet."
    )


def test_a_code_survives_a_form_with_mistakes(
    english: TestClient, friend: TestClient, live: CampaignView, holder: Signed, engine: sa.Engine
) -> None:
    code = invite_code(thanks_page(english, holder))
    page = open_campaign(friend, live, f"invite={code}")
    data = {**hidden_fields(page, live), **form_data(name="Budi", contact="not a contact")}

    response = friend.post(f"/c/{live.slug}/sign", data=data)

    assert response.status_code == 422
    again = hidden_fields(html(response), live)
    assert again["invite"] == code
    fixed = {**again, **form_data(name="Budi", contact="budi@example.com")}
    assert friend.post(f"/c/{live.slug}/sign", data=fixed).status_code == 303
    confirm_landing(friend, live, "budi@example.com")
    assert invited_by(engine, "Budi") == "Rina Putri"
    assert friends_line(thanks_page(english, holder)) == "1 friend has joined through your link."


# --- withdrawal ----------------------------------------------------------------------


def withdraw(client: TestClient, signed: Signed) -> None:
    link = f"{signed.path.replace('/thanks/', '/withdraw/')}"
    token = csrf_token(client, link)
    response = client.post(link, data={"csrf_token": token})
    assert response.status_code == 303, response.text[:500]
    assert response.headers["location"].endswith("/withdrawn")


def test_when_the_holder_withdraws_the_friends_stay_signed(
    english: TestClient, friend: TestClient, live: CampaignView, holder: Signed, engine: sa.Engine
) -> None:
    code = invite_code(thanks_page(english, holder))
    budi = sign_through(friend, live, f"invite={code}", name="Budi", contact="budi@example.com")

    withdraw(english, holder)

    assert english.get(holder.path).status_code == 404
    assert invited_by(engine, "Budi") is None
    budi_page = thanks_page(friend, budi)
    assert [li.get_text(strip=True) for li in budi_page.select("ul.signed li")] == [
        "Janji tolak-politik-uang"
    ]
    assert friends_line(budi_page) == "No friend has joined through your link yet."
    assert friend.get(f"/api/v1/campaigns/{live.slug}").json()["supporters"] == 1

    # The withdrawn holder's code now credits no one.
    sari = sign_through(friend, live, f"invite={code}", name="Sari", contact="sari@example.com")
    assert urlsplit(sari.location).query.startswith("outcome=new")
    assert invited_by(engine, "Sari") is None


def test_when_a_friend_withdraws_the_holder_counts_one_less(
    english: TestClient, friend: TestClient, live: CampaignView, holder: Signed
) -> None:
    code = invite_code(thanks_page(english, holder))
    budi = sign_through(friend, live, f"invite={code}", name="Budi", contact="budi@example.com")
    sign_through(friend, live, f"invite={code}", name="Sari", contact="sari@example.com")
    assert friends_line(thanks_page(english, holder)) == "2 friends have joined through your link."

    withdraw(friend, budi)

    assert friends_line(thanks_page(english, holder)) == "1 friend has joined through your link."


# --- codes of supporters who signed before invite links ---------------------------------


def test_every_stored_supporter_has_a_unique_code(
    english: TestClient, friend: TestClient, live: CampaignView, holder: Signed, engine: sa.Engine
) -> None:
    code = invite_code(thanks_page(english, holder))
    sign_through(friend, live, f"invite={code}", contact="budi@example.com")
    sign_through(friend, live, contact="sari@example.com")

    with engine.connect() as conn:
        codes = conn.execute(sa.select(supporter_t.c.invite_code)).scalars().all()

    assert len(codes) == 3
    assert None not in codes
    assert len(set(codes)) == 3
    assert all(INVITE_CODE.match(c) for c in codes)


@pytest.fixture
def empty_database_url(engine: sa.Engine, tmp_path: Any) -> Iterator[str]:
    """A database of its own, on the kind of server the suite runs on, for migrating."""
    if engine.dialect.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'before-invites.db'}"
        return
    name = "pledge_invites_backfill"
    admin = engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # the test role may create databases (CREATEDB)
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    yield engine.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_the_upgrade_gives_earlier_supporters_unique_codes(empty_database_url: str) -> None:
    from alembic import command

    from pledge.cli import alembic_config

    config = alembic_config(empty_database_url)
    command.upgrade(config, "0986554d5987")  # the revision before invite links
    migrating = sa.create_engine(empty_database_url)
    try:
        tables = sa.MetaData()
        tables.reflect(migrating, only=["organization", "campaign", "supporter"])
        org_t, campaign_t, old_supporter_t = (
            tables.tables[name] for name in ("organization", "campaign", "supporter")
        )
        now = datetime.now(UTC)
        with migrating.begin() as conn:
            conn.execute(
                org_t.insert().values(
                    id=1, slug="lembaga", name="Lembaga", verified=True, created_at=now
                )
            )
            conn.execute(
                campaign_t.insert().values(
                    id=1,
                    slug="kampanye",
                    title="Kampanye",
                    summary="",
                    body="",
                    lead_org_id=1,
                    goal=100,
                    status="live",
                    locale="id",
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(
                old_supporter_t.insert(),
                [
                    {
                        "id": n,
                        "campaign_id": 1,
                        "contact_digest": f"{n:064x}",
                        "token": f"token-{n:010d}",
                        "display_name": f"Pendukung {n}",
                        "province": "ID-JK",
                        "show_name": False,
                        "number": n,
                        "locale": "id",
                        "created_at": now,
                    }
                    for n in range(1, 51)
                ],
            )

        command.upgrade(config, "head")

        with migrating.connect() as conn:
            codes = conn.execute(sa.text("SELECT invite_code FROM supporter")).scalars().all()
            inviters = conn.execute(
                sa.text("SELECT count(*) FROM supporter WHERE invited_by_id IS NOT NULL")
            ).scalar_one()
    finally:
        migrating.dispose()
    assert len(codes) == 50
    assert None not in codes
    assert len(set(codes)) == 50
    assert all(INVITE_CODE.match(code) for code in codes), codes
    assert inviters == 0
