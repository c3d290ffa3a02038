"""Signing through the form, the thank-you page, repeat signing, bad input, guards, withdrawal."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignStatus, CampaignView
from pledge.config import get_settings
from pledge.provinces import PROVINCES
from pledge.supporters.models import Signature, Supporter
from tests.support.forms import form_data
from tests.support.pages import csrf_token, digits, errors_of, html
from tests.support.signing import confirm_landing, last_email_to, own_session, type_code

MakeCampaign = Callable[..., CampaignView]
Sign = Callable[..., Any]

BASE = "http://testserver"


@pytest.fixture
def english(client: TestClient) -> TestClient:
    """The client with English remembered, as after a visit with ?lang=en."""
    client.cookies.set("lang", "en")
    return client


@pytest.fixture
def live(make_campaign: MakeCampaign) -> CampaignView:
    return make_campaign(partners=2)


def one(soup: BeautifulSoup | Tag, selector: str) -> Tag:
    found = soup.select_one(selector)
    assert found is not None, f"nothing matches {selector!r}"
    return found


def form_to(soup: BeautifulSoup | Tag, path: str) -> Tag:
    """The form that posts to path (its action may add a #fragment to land on the form)."""
    forms = [f for f in soup.select("form[action]") if urlsplit(str(f["action"])).path == path]
    assert len(forms) == 1, f"{len(forms)} forms post to {path}"
    return forms[0]


def post_sign(
    client: TestClient,
    view: CampaignView,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> Any:
    """Open the campaign page as a browser would, then send the form."""
    token = token if token is not None else csrf_token(client, f"/c/{view.slug}")
    data = form_data(**fields)
    if token:
        data["csrf_token"] = token
    return client.post(f"/c/{view.slug}/sign", data=data, headers=headers)


def api(client: TestClient, view: CampaignView) -> dict[str, Any]:
    response = client.get(f"/api/v1/campaigns/{view.slug}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def pledge_counts(client: TestClient, view: CampaignView) -> dict[str, int]:
    return {p["slug"]: p["supporters"] for p in api(client, view)["pledges"]}


def stored(engine: sa.Engine) -> tuple[int, int]:
    """Supporter and signature rows in the database, read outside the app."""
    with engine.connect() as conn:
        people = conn.execute(sa.select(sa.func.count()).select_from(Supporter)).scalar_one()
        signed = conn.execute(sa.select(sa.func.count()).select_from(Signature)).scalar_one()
    return int(people), int(signed)


THANKS = re.compile(r"^/c/(?P<slug>[a-z0-9-]+)/thanks/(?P<token>[A-Za-z0-9_-]+)(\?.*)?$")


def thanks_path(client: TestClient, view: CampaignView, response: Any, contact: str) -> str:
    """A signing answered with the page that waits for its confirmation, then confirmed as
    its signer does (the emailed code, or the WhatsApp message): the supporter's own page."""
    assert response.status_code == 303, response.text[:500]
    assert response.headers["location"] == f"/c/{view.slug}/confirm"
    location = confirm_landing(client, view, contact)
    assert THANKS.match(location), location
    return location


def sign_confirmed(client: TestClient, view: CampaignView, **fields: Any) -> str:
    """Sign (``post_sign``'s arguments) and confirm: the supporter's own page."""
    contact = fields.get("contact", form_data()["contact"])
    return thanks_path(client, view, post_sign(client, view, **fields), contact)


def token_of(path: str) -> str:
    match = THANKS.match(path)
    assert match is not None
    return match["token"]


# --- success -------------------------------------------------------------------------


def test_signing_and_confirming_leads_to_a_thank_you_page_with_number_pledges_and_count(
    english: TestClient, live: CampaignView, sign: Sign
) -> None:
    sign(live, contact="first@example.com")

    response = post_sign(
        english, live, name="Rina Putri", pledges=["tolak-politik-uang", "lawan-hoaks"]
    )

    assert api(english, live)["supporters"] == 1  # not counted before the confirmation
    path = thanks_path(english, live, response, "0812 3456 7890")
    assert path.startswith(f"/c/{live.slug}/thanks/")
    page = english.get(path)
    assert page.status_code == 200
    soup = html(page)
    assert one(soup, "h1").get_text(strip=True) == "Thank you, Rina!"
    # The count as it is, the signer in it: no order number that withdrawals would make
    # disagree with it.
    sentence = one(soup, "p.number").get_text(" ", strip=True)
    assert (
        sentence
        == f"Your signature is counted: you are one of 2 supporters of {live.campaign.title}."
    )
    assert "#" not in soup.select_one("section.thanks").get_text()
    assert [li.get_text(strip=True) for li in soup.select("ul.signed li")] == [
        "Janji tolak-politik-uang",
        "Janji lawan-hoaks",
    ]
    assert digits(one(soup, ".number [data-count]").get_text()) == 2
    assert api(english, live)["supporters"] == 2


def newest_invite_code(engine: sa.Engine) -> str:
    with Session(engine) as session:
        supporter = session.exec(select(Supporter).order_by(col(Supporter.id).desc())).first()
    assert supporter is not None and supporter.invite_code
    return supporter.invite_code


def test_thank_you_page_has_share_links_with_the_personal_invite_link(
    english: TestClient, live: CampaignView, engine: sa.Engine
) -> None:
    soup = html(english.get(sign_confirmed(english, live)))

    campaign_url = f"{BASE}/c/{live.slug}?invite={newest_invite_code(engine)}"
    encoded = quote(campaign_url, safe="")
    links = {
        "https://wa.me/": "text",
        "https://t.me/share/url": "url",
        "https://x.com/intent/post": "url",
        "https://www.facebook.com/sharer/sharer.php": "u",
    }
    hrefs = [str(a["href"]) for a in soup.select("section.share a[href]")]
    for prefix, param in links.items():
        matching = [h for h in hrefs if h.startswith(prefix)]
        assert len(matching) == 1, (prefix, hrefs)
        href = matching[0]
        assert encoded in href
        value = parse_qs(urlsplit(href).query)[param][0]
        assert campaign_url in value
        # The supporter's private token never leaves in a share link.
        assert "/thanks/" not in value

    copy = one(soup, "section.share input#share-url")
    assert copy.has_attr("readonly")
    assert copy["value"] == campaign_url
    assert soup.select_one('label[for="share-url"]') is not None


def test_share_links_of_a_referred_supporter_keep_the_partner_code(
    english: TestClient, live: CampaignView, engine: sa.Engine
) -> None:
    partner = next(p for p in live.partners if not p.is_lead)

    soup = html(english.get(sign_confirmed(english, live, ref=partner.referral_code)))

    assert one(soup, "input#share-url")["value"] == (
        f"{BASE}/c/{live.slug}?ref={partner.referral_code}&invite={newest_invite_code(engine)}"
    )
    counts = {p["slug"]: p["supporters"] for p in api(english, live)["partners"]}
    assert counts[partner.slug] == 1
    assert sum(counts.values()) == 1


def test_thank_you_page_links_to_withdrawal_and_is_never_cached(
    english: TestClient, live: CampaignView
) -> None:
    path = sign_confirmed(english, live)
    page = english.get(path)

    assert "no-store" in page.headers["cache-control"]
    # The page address is a secret: it must not leak to the share sites it links to.
    assert page.headers["referrer-policy"] == "no-referrer"
    link = one(html(page), "section.withdraw a[href]")
    assert link["href"] == f"/c/{live.slug}/withdraw/{token_of(path)}"


def test_thank_you_page_of_another_campaign_is_not_found(
    english: TestClient, live: CampaignView, make_campaign: MakeCampaign
) -> None:
    other = make_campaign()
    token = token_of(sign_confirmed(english, live))

    assert english.get(f"/c/{other.slug}/thanks/{token}").status_code == 404
    assert english.get(f"/c/{other.slug}/withdraw/{token}").status_code == 404


# --- signing again ---------------------------------------------------------------------


@pytest.mark.parametrize("again", ["+62 812-3456-7890", "6281234567890", "081234567890"])
def test_signing_again_with_the_same_phone_counts_once(
    english: TestClient, live: CampaignView, again: str
) -> None:
    first = sign_confirmed(english, live, contact="0812 3456 7890")
    before = api(english, live)

    second = sign_confirmed(english, live, contact=again, name="Rina")

    assert token_of(second) == token_of(first)
    soup = html(english.get(second))
    message = one(soup, "p.number").get_text(strip=True)
    assert "already signed" in message
    assert "#" not in message
    after = api(english, live)
    assert after["supporters"] == before["supporters"] == 1
    assert after["pledges"] == before["pledges"]
    assert digits(one(soup, ".counter .count").get_text()) == 1


def test_signing_again_with_the_same_email_in_other_case_counts_once(
    english: TestClient, live: CampaignView
) -> None:
    first = sign_confirmed(english, live, contact="Rina@Example.com")
    second = sign_confirmed(english, live, contact="  rina@example.COM ")

    assert token_of(second) == token_of(first)

    assert api(english, live)["supporters"] == 1


def test_adding_a_pledge_on_a_second_signing_counts_only_that_pledge(
    english: TestClient, live: CampaignView, sign: Sign
) -> None:
    sign(live, contact="someone@example.com", pledges=("gunakan-hak-pilih",))
    sign_confirmed(english, live, pledges=["tolak-politik-uang"])
    assert pledge_counts(english, live) == {
        "tolak-politik-uang": 1,
        "gunakan-hak-pilih": 1,
        "lawan-hoaks": 0,
    }

    path = sign_confirmed(
        english, live, contact="+6281234567890", pledges=["tolak-politik-uang", "lawan-hoaks"]
    )

    assert api(english, live)["supporters"] == 2
    assert pledge_counts(english, live) == {
        "tolak-politik-uang": 1,
        "gunakan-hak-pilih": 1,
        "lawan-hoaks": 1,
    }
    soup = html(english.get(path))
    assert "already signed" in one(soup, "p.number").get_text()
    assert [li.get_text(strip=True) for li in soup.select("ul.added li")] == ["Janji lawan-hoaks"]
    assert [li.get_text(strip=True) for li in soup.select("ul.signed li")] == [
        "Janji tolak-politik-uang",
        "Janji lawan-hoaks",
    ]


# --- bad input -------------------------------------------------------------------------

BAD_INPUT = [
    pytest.param("name", {"name": ""}, "Enter your name.", id="missing-name"),
    pytest.param("name", {"name": "   "}, "Enter your name.", id="blank-name"),
    pytest.param(
        "name", {"name": "A" * 81}, "Your name can be at most 80 characters long.", id="long-name"
    ),
    pytest.param(
        "contact",
        {"contact": ""},
        "Enter your email address or mobile number.",
        id="missing-contact",
    ),
    pytest.param(
        "contact", {"contact": "bukan kontak"}, "Enter an email address", id="bad-contact"
    ),
    pytest.param(
        "contact", {"contact": "rina@"}, "email address does not look right", id="bad-email"
    ),
    pytest.param(
        "contact", {"contact": "+1 202 555 0100"}, "Indonesian mobile numbers", id="foreign-phone"
    ),
    pytest.param(
        "province",
        {"province": "ID-XX"},
        "Choose your province from the list.",
        id="unknown-province",
    ),
    pytest.param(
        "province", {"province": ""}, "Choose your province from the list.", id="no-province"
    ),
    pytest.param("pledges", {"pledges": []}, "Choose at least one pledge.", id="no-pledge"),
    pytest.param(
        "pledges",
        {"pledges": ["tolak-politik-uang", "tidak-ada"]},
        "One of the pledges you chose is not part of this campaign.",
        id="unknown-pledge",
    ),
    pytest.param(
        "age_ok", {"age_ok": None}, "Confirm that you are 17 or older.", id="missing-age-ok"
    ),
    pytest.param(
        "consent",
        {"consent": None},
        "Agree to the privacy notice to add your name.",
        id="missing-consent",
    ),
    pytest.param(
        "updates_org",
        {"updates_org": "tidak-ada"},
        "Choose one of the partner organisations, or none.",
        id="unknown-updates-org",
    ),
    pytest.param(
        "age_band",
        {"age_band": "12-16"},
        "Choose an age group from the list",
        id="unknown-age-band",
    ),
]


@pytest.mark.parametrize(("field", "bad", "message"), BAD_INPUT)
def test_bad_input_re_renders_the_form_with_a_message_beside_the_field(
    english: TestClient,
    live: CampaignView,
    engine: sa.Engine,
    field: str,
    bad: dict[str, Any],
    message: str,
) -> None:
    typed: dict[str, Any] = {
        "name": "Rina Putri",
        "contact": "0812 3456 7890",
        "province": "ID-JB",
        "pledges": ["tolak-politik-uang", "lawan-hoaks"],
        "show_name": "on",
        "updates_org": live.partners[0].slug,
    }
    typed.update(bad)

    response = post_sign(english, live, **typed)

    assert response.status_code == 422, response.text[:500]
    errors = errors_of(response)
    assert list(errors) == [field]
    assert message in errors[field]
    soup = html(response)
    assert one(soup, "#form-errors").get_text(strip=True)

    form = form_to(soup, f"/c/{live.slug}/sign")
    described = (
        one(form, "fieldset.pledges") if field == "pledges" else one(form, f'[name="{field}"]')
    )
    assert f"{field}-error" in str(described.get("aria-describedby", "")).split()
    assert described.get("aria-invalid") == "true"

    # What the person typed is still there, so they only fix the one field.
    assert one(form, 'input[name="name"]')["value"] == typed["name"]
    assert one(form, 'input[name="contact"]')["value"] == typed["contact"]
    chosen = [o["value"] for o in form.select('select[name="province"] option[selected]')]
    assert chosen == ([typed["province"]] if typed["province"] in PROVINCES else [])
    checked = [box["value"] for box in form.select('input[name="pledges"][checked]')]
    assert checked == [s for s in typed["pledges"] if live.pledge_by_slug(s)]
    for box in ("age_ok", "consent", "show_name"):
        is_checked = one(form, f'input[name="{box}"]').has_attr("checked")
        assert is_checked == (typed.get(box, "on") is not None)
    if field != "updates_org":
        org = one(form, 'select[name="updates_org"] option[selected]')
        assert org["value"] == live.partners[0].slug
    assert one(form, 'input[name="csrf_token"]')["value"]

    assert stored(engine) == (0, 0)
    assert api(english, live)["supporters"] == 0


def test_a_name_of_exactly_80_characters_is_accepted(
    english: TestClient, live: CampaignView, engine: sa.Engine
) -> None:
    sign_confirmed(english, live, name="A" * 40 + "   " + "B" * 39)

    assert stored(engine) == (1, 1)


def test_the_referral_survives_a_failed_submission(english: TestClient, live: CampaignView) -> None:
    partner = next(p for p in live.partners if not p.is_lead)
    token = csrf_token(english, f"/c/{live.slug}?ref={partner.referral_code}")

    failed = post_sign(english, live, token=token, ref=partner.referral_code, consent=None)

    assert failed.status_code == 422
    form = form_to(html(failed), f"/c/{live.slug}/sign")
    assert one(form, 'input[name="ref"]')["value"] == partner.referral_code

    sign_confirmed(english, live, token=token, ref=partner.referral_code)

    counts = {p["slug"]: p["supporters"] for p in api(english, live)["partners"]}
    assert counts[partner.slug] == 1


def test_a_hostile_value_is_shown_back_escaped(
    english: TestClient, live: CampaignView, engine: sa.Engine
) -> None:
    name = '"><script>alert(1)</script>'

    response = post_sign(english, live, name=name, consent=None)

    assert response.status_code == 422
    soup = html(response)
    assert [s.get("src", "inline").split("?")[0] for s in soup.select("script")] == [
        "/static/js/live.js"
    ]
    assert one(soup, 'input[name="name"]')["value"] == name
    assert stored(engine) == (0, 0)


def test_a_filled_honeypot_pretends_success_and_stores_nothing(
    english: TestClient, live: CampaignView, engine: sa.Engine
) -> None:
    response = post_sign(english, live, website="https://spam.example")

    # The answer every signer gets: the page that waits for a confirmation.
    assert response.status_code == 303
    assert response.headers["location"] == f"/c/{live.slug}/confirm"
    page = english.get(response.headers["location"])
    assert page.status_code == 200
    soup = html(page)
    assert one(soup, "h1").get_text(strip=True) == "Almost done: check your email or WhatsApp"
    assert soup.select_one("section.withdraw") is None
    # Nothing waits behind it: the bot never reaches a supporter's page.
    assert english.get(f"/c/{live.slug}/thanks").status_code == 200
    assert soup.select_one("section.share a[href^='https://wa.me/']") is not None
    assert stored(engine) == (0, 0)
    assert api(english, live)["supporters"] == 0


# --- forgery and other sites -------------------------------------------------------------


def test_a_post_without_csrf_token_is_refused(
    english: TestClient, live: CampaignView, engine: sa.Engine
) -> None:
    csrf_token(english, f"/c/{live.slug}")  # the session exists; the token is just missing

    response = post_sign(english, live, token="")

    assert response.status_code == 403
    detail = one(html(response), "section.error-page p.detail").get_text(strip=True)
    assert "Reload the page" in detail
    assert stored(engine) == (0, 0)


def test_a_post_with_a_wrong_csrf_token_is_refused(
    english: TestClient, live: CampaignView, engine: sa.Engine
) -> None:
    csrf_token(english, f"/c/{live.slug}")

    response = post_sign(english, live, token="x" * 32)

    assert response.status_code == 403
    assert stored(engine) == (0, 0)


def test_a_token_from_another_session_is_refused(
    app: Any, english: TestClient, live: CampaignView, engine: sa.Engine
) -> None:
    with TestClient(app, base_url=BASE, follow_redirects=False) as stranger:
        foreign = csrf_token(stranger, f"/c/{live.slug}")
    csrf_token(english, f"/c/{live.slug}")

    response = post_sign(english, live, token=foreign)

    assert response.status_code == 403
    assert stored(engine) == (0, 0)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
    ids=["evil-origin", "null-origin", "cross-site", "same-site"],
)
def test_a_post_from_another_site_is_refused_even_with_a_good_token(
    english: TestClient, live: CampaignView, engine: sa.Engine, headers: dict[str, str]
) -> None:
    response = post_sign(english, live, headers=headers)

    assert response.status_code == 403
    detail = one(html(response), "section.error-page p.detail").get_text(strip=True)
    assert "another website" in detail
    assert stored(engine) == (0, 0)


def test_a_post_from_our_own_pages_is_accepted(english: TestClient, live: CampaignView) -> None:
    response = post_sign(english, live, headers={"Origin": BASE, "Sec-Fetch-Site": "same-origin"})

    thanks_path(english, live, response, "0812 3456 7890")


# --- campaign states ----------------------------------------------------------------


def test_signing_a_closed_campaign_is_a_conflict(
    english: TestClient,
    live: CampaignView,
    make_campaign: MakeCampaign,
    session: Session,
    engine: sa.Engine,
) -> None:
    closed = make_campaign()
    token = csrf_token(english, f"/c/{closed.slug}")
    campaigns.set_status(session, campaign=closed.campaign, status=CampaignStatus.CLOSED)
    session.commit()

    response = post_sign(english, closed, token=token)

    assert response.status_code == 409
    assert one(html(response), "section.error-page p.detail").get_text(strip=True) == (
        "This campaign is not taking signatures."
    )
    assert stored(engine) == (0, 0)


def test_signing_a_draft_campaign_is_not_found(
    english: TestClient, live: CampaignView, make_campaign: MakeCampaign, engine: sa.Engine
) -> None:
    draft = make_campaign(status="draft")
    token = csrf_token(english, f"/c/{live.slug}")

    response = post_sign(english, draft, token=token)

    assert response.status_code == 404
    assert one(html(response), "section.error-page h1").get_text(strip=True) == "Page not found"
    assert stored(engine) == (0, 0)


# --- size and rate limits --------------------------------------------------------------


def test_a_body_over_the_cap_is_refused_with_413(
    english: TestClient, live: CampaignView, engine: sa.Engine
) -> None:
    assert get_settings().max_form_bytes == 64 * 1024

    response = post_sign(english, live, name="x" * 100_000)

    assert response.status_code == 413
    assert one(html(response), "section.error-page p.detail").get_text(strip=True) == (
        "What you sent is too large."
    )
    assert stored(engine) == (0, 0)


def test_a_streamed_body_over_the_cap_is_refused_with_413(
    english: TestClient, live: CampaignView, engine: sa.Engine
) -> None:
    token = csrf_token(english, f"/c/{live.slug}")

    def chunks() -> Iterator[bytes]:
        yield f"csrf_token={token}&name=".encode()
        for _ in range(10):
            yield b"x" * 10_000

    response = english.post(
        f"/c/{live.slug}/sign",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 413
    assert stored(engine) == (0, 0)


@pytest.fixture
def low_sign_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Over the signing limit a signature is held for review; over the hard limit, refused.
    monkeypatch.setenv("PLEDGE_RATELIMIT_SIGN", "3/minute")
    monkeypatch.setenv("PLEDGE_RATELIMIT_SIGN_HARD", "3/minute")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.usefixtures("low_sign_limit")
def test_too_many_signatures_from_one_address_get_a_429_page(
    english: TestClient, live: CampaignView
) -> None:
    for n in range(3):
        sign_confirmed(english, live, contact=f"orang{n}@example.com")

    response = post_sign(english, live, contact="orang4@example.com")

    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    soup = html(response)
    assert one(soup, "section.error-page h1").get_text(strip=True) == "Slow down a little"
    assert one(soup, "section.error-page p.detail").get_text(strip=True) == (
        "Too many requests. Please wait a moment and try again."
    )
    assert api(english, live)["supporters"] == 3


def test_people_behind_one_shared_address_can_each_confirm_with_their_code(
    new_client: Callable[..., TestClient], live: CampaignView
) -> None:
    """Many young supporters reach the site through one carrier address (CGNAT): as many of
    them as may sign from it in a minute can each type the code their own email brought."""
    people = 40
    typed = []
    for n in range(people):
        phone = new_client(lang="en")  # each on their own phone, all from one address
        contact = f"tetangga{n}@example.com"
        assert post_sign(phone, live, contact=contact).status_code == 303
        with own_session(phone) as session:
            code = last_email_to(session, contact).code
        typed.append(type_code(phone, live.slug, code).status_code)

    assert typed == [303] * people
    assert api(new_client(), live)["supporters"] == people


# --- withdrawal ----------------------------------------------------------------------


def test_withdrawal_removes_the_signature_and_its_counts(
    english: TestClient, live: CampaignView, sign: Sign, engine: sa.Engine
) -> None:
    sign(live, contact="stays@example.com", pledges=("tolak-politik-uang",))
    partner = next(p for p in live.partners if not p.is_lead)
    path = sign_confirmed(
        english,
        live,
        ref=partner.referral_code,
        pledges=["tolak-politik-uang", "lawan-hoaks"],
    )
    before = api(english, live)
    assert before["supporters"] == 2
    thanks = html(english.get(path))
    link = str(one(thanks, "section.withdraw a[href]")["href"])

    confirm = english.get(link)

    assert confirm.status_code == 200
    assert "no-store" in confirm.headers["cache-control"]
    assert confirm.headers["referrer-policy"] == "no-referrer"
    soup = html(confirm)
    assert one(soup, "h1").get_text(strip=True) == "Withdraw your signature"
    form = form_to(soup, link)
    assert str(form["method"]).lower() == "post"
    token = str(one(form, 'input[type="hidden"][name="csrf_token"]')["value"])
    assert stored(engine) == (2, 3)  # a GET changes nothing

    done = english.post(link, data={"csrf_token": token})

    assert done.status_code == 303
    assert done.headers["location"] == f"/c/{live.slug}/withdrawn"
    page = english.get(done.headers["location"])
    assert page.status_code == 200
    assert one(html(page), "h1").get_text(strip=True) == "Your signature has been withdrawn"

    after = api(english, live)
    assert after["supporters"] == 1
    assert {p["slug"]: p["supporters"] for p in after["pledges"]} == {
        "tolak-politik-uang": 1,
        "gunakan-hak-pilih": 0,
        "lawan-hoaks": 0,
    }
    assert all(p["supporters"] == 0 for p in after["partners"])
    assert stored(engine) == (1, 1)
    assert english.get(path).status_code == 404
    assert english.get(link).status_code == 404


def test_withdrawal_without_csrf_token_is_refused(
    english: TestClient, live: CampaignView, engine: sa.Engine
) -> None:
    path = sign_confirmed(english, live)
    link = f"/c/{live.slug}/withdraw/{token_of(path)}"
    english.get(link)

    response = english.post(link, data={})

    assert response.status_code == 403
    assert stored(engine) == (1, 1)
    assert english.get(path).status_code == 200


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        # What Chromium sends from a page with "Referrer-Policy: no-referrer".
        ({"Origin": "null", "Sec-Fetch-Site": "same-origin"}, 303),
        ({"Origin": "null"}, 403),  # a sandboxed frame or a file anywhere
        ({"Origin": "null", "Sec-Fetch-Site": "cross-site"}, 403),
        ({"Origin": "https://elsewhere.example"}, 403),
    ],
)
def test_withdrawal_from_a_page_that_sends_no_referrer(
    english: TestClient, live: CampaignView, engine: sa.Engine, headers: dict[str, str], status: int
) -> None:
    path = sign_confirmed(english, live)
    link = f"/c/{live.slug}/withdraw/{token_of(path)}"
    token = str(one(html(english.get(link)), 'input[name="csrf_token"]')["value"])

    response = english.post(link, data={"csrf_token": token}, headers=headers)

    assert response.status_code == status
    assert stored(engine) == ((0, 0) if status == 303 else (1, 1))


@pytest.mark.parametrize("token", ["abcdefghijklmnop", "x", "a" * 200])
def test_a_made_up_withdrawal_token_is_not_found(
    english: TestClient, live: CampaignView, sign: Sign, token: str
) -> None:
    sign(live, contact="real@example.com")
    csrf = csrf_token(english, f"/c/{live.slug}")

    assert english.get(f"/c/{live.slug}/withdraw/{token}").status_code == 404
    assert english.get(f"/c/{live.slug}/thanks/{token}").status_code == 404
    response = english.post(f"/c/{live.slug}/withdraw/{token}", data={"csrf_token": csrf})

    assert response.status_code == 404
    assert one(html(response), "section.error-page h1").get_text(strip=True) == "Page not found"
    assert api(english, live)["supporters"] == 1


def test_the_thank_you_page_invites_to_the_game_with_the_personal_invite_code(
    english: TestClient, live: CampaignView, engine: sa.Engine
) -> None:
    soup = html(english.get(sign_confirmed(english, live)))
    link = one(soup, "#game-link a")
    assert link["href"] == f"/c/{live.slug}/game?invite={newest_invite_code(engine)}"
    assert "Asli atau palsu?" in link.get_text()
    # The game's start page takes the code: its share links will carry it.
    start = english.get(str(link["href"]))
    assert start.status_code == 200


def test_the_campaign_page_links_the_game(english: TestClient, live: CampaignView) -> None:
    soup = html(english.get(f"/c/{live.slug}"))
    assert one(soup, ".game-link a")["href"] == f"/c/{live.slug}/game"
