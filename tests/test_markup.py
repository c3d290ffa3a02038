"""Every page is valid HTML by the Nu Html Checker (vnu): the public pages, the partner
dashboard, moderation, site administration, the error pages and the embedded widget, each
with its full content, and every form re-rendered with its error messages (422).

`seed_site` and `PAGES` are also what tests/browser/test_accessibility.py runs axe on."""

from __future__ import annotations

import io
import json
import random
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from sqlmodel import Session

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, TokenKind, User
from pledge.campaigns.models import CampaignView
from pledge.deps import moderator_access
from pledge.errors import (
    Conflict,
    PledgeError,
    ServiceUnavailable,
    TooLarge,
    TooManyRequests,
)
from pledge.hoaxes import service as hoaxes
from pledge.moderation import service as moderation
from pledge.supporters import service as supporters
from tests.support import IN_CI, difference_files, provenance_files
from tests.support.forms import form_data, sign_form
from tests.support.pages import csrf_token, html
from tests.support.people import sign_in
from tests.support.signing import confirm_signing, sign_by_email

ROOT = Path(__file__).resolve().parent.parent
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
PASSWORD = "kata-sandi-yang-panjang-2029"
CSRF = "markup-test-csrf-token-0123456789abcdef"
PROVINCES = ("ID-JK", "ID-JB", "ID-JT", "ID-JI", "ID-BT", "ID-YO")


# --- a site with something on every page ---------------------------------------------


@dataclass
class Site:
    """A live campaign with supporters and hoax cases in every state, a closed campaign,
    and the people who run them."""

    slug: str
    closed_slug: str
    org: str  # the lead organisation's slug
    admin: User  # admin of the lead organisation
    moderator: User  # moderator of the lead organisation
    checker: User  # a second moderator, who proposed the verdict waiting for approval
    site_admin: User  # runs the site, and admin of a co-partner
    thanks_token: str
    confirm_secret: str  # the emailed link of a signature waiting for its confirmation
    tracking_code: str
    case_new: int  # nobody holds it
    case_claimed: int  # held by the moderator: the decision forms are shown
    case_proposed: int  # a verdict proposed by the checker, waiting for a second moderator
    published: int
    invite_token: str
    reset_token: str
    contact: str  # a supporter's contact, for the personal-data requests page


def screenshot_bytes(seed: int) -> bytes:
    """A screenshot-like picture; different seeds give pictures that are not near-duplicates."""
    rng = random.Random(seed)
    image = Image.new("RGB", (480, 360), (rng.randrange(256), rng.randrange(256), 200))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(480), rng.randrange(360)
        box = (x, y, x + rng.randrange(40, 240), y + rng.randrange(30, 180))
        draw.rectangle(box, fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def seed_site(session: Session, make_campaign: Callable[..., CampaignView]) -> Site:
    view = make_campaign(slug="pemilu-bersih", title="Pemilu Bersih 2029", partners=2)
    closed = make_campaign(slug="pemilu-lalu", title="Pemilu Lalu", partners=0, status="closed")
    lead = session.get(Organization, view.campaign.lead_org_id)
    co = accounts.get_org_by_slug(session, next(p.slug for p in view.partners if not p.is_lead))
    assert lead is not None

    def person(email: str, name: str, org: Organization, role: Role, **extra: Any) -> User:
        user = accounts.create(session, email=email, password=PASSWORD, display_name=name, **extra)
        accounts.add_member(session, user=user, org=org, role=role)
        return user

    admin = person("admin@lembaga.id", "Citra", lead, Role.ADMIN)
    moderator = person("moderator@lembaga.id", "Ayu", lead, Role.MODERATOR)
    checker = person("pemeriksa@lembaga.id", "Budi", lead, Role.MODERATOR)
    site_admin = person("root@suara.id", "Dimas", co, Role.ADMIN, is_site_admin=True)
    # Waiting for a site administrator's approval.
    session.add(Organization(slug="komunitas-baru", name="Komunitas Baru", verified=False))
    invite_token = accounts.invite(
        session,
        org=lead,
        email="calon@lembaga.id",
        role=Role.MODERATOR,
        invited_by=admin,
        base_url="http://testserver",
    )
    reset_token = accounts._new_token(
        session,
        kind=TokenKind.RESET,
        email=admin.email,
        lifetime=timedelta(hours=1),
        user_id=admin.id,
    )
    session.commit()

    # Enough supporters that the statistics show provinces rather than one "other" row.
    first = None
    for n in range(12):
        signing = supporters.sign(
            session,
            view=view,
            form=sign_form(
                name=f"Pendukung {n}",
                contact=f"pendukung{n}@example.com",
                province=PROVINCES[n % len(PROVINCES)] if n < 10 else "ID-JK",
                pledges=[p.slug for p in view.pledges[: 1 + n % 3]],
                show_name="on" if n % 2 else "",
                updates_org=lead.slug if n % 3 == 0 else "",
            ),
        )
        confirm_signing(session, signing)
        first = first or signing
    assert first is not None and first.supporter is not None
    waiting = sign_by_email(session, view, "menunggu@example.com")

    # Pictures with something to show: Content Credentials in the new case's picture (its
    # provenance panel in full), and a manipulated photo in the claimed case, whose original
    # is attached below (the case page's "The original" with its difference view).
    photo = difference_files.photo(5, (960, 720))
    _screenshots = {
        0: provenance_files.signed_jpeg(),
        1: difference_files.reshared(
            difference_files.pasted(photo, (400, 260, 560, 380), (60, 40))
        ).data,
        3: screenshot_bytes(3),
    }
    reports = [
        hoaxes.submit(
            session,
            view=view,
            form=hoaxes.ReportForm(
                url=f"https://www.facebook.com/hoaks/posts/{n}",
                platform="facebook",
                category="false_claim",
                description="Katanya TPS dipindah, padahal tidak.",
                province="ID-JB",
                contact="pelapor@example.com" if n == 0 else "",
                consent="on",
                screenshot=_screenshots.get(n),
            ),
        )
        for n in range(4)
    ]
    case_new, case_claimed, case_proposed, published = (r.case_id for r in reports if r)
    as_moderator = moderator_access(moderator, session)
    as_checker = moderator_access(checker, session)
    verdict = moderation.DecisionForm(
        decision="hoax",
        label="SALAH",
        public_title="TPS 12 dipindah ke balai desa",
        correction="TPS 12 tetap di SDN Mekarsari 2.",
        public_explanation="KPU memastikan lokasi TPS tetap.\nPesan berantai itu palsu.",
        fact_check_url="https://cekfakta.example.id/tps",
        reason="Dicek ke KPU setempat.",
    )
    for case_id in (case_proposed, published):
        moderation.claim(session, access=as_checker, case_id=case_id)
        moderation.decide(session, access=as_checker, case_id=case_id, form=verdict)
    moderation.claim(session, access=as_moderator, case_id=published)
    moderation.approve(session, access=as_moderator, case_id=published, reason="Sudah saya cek.")
    moderation.claim(session, access=as_moderator, case_id=case_claimed)
    original = moderation.OriginalForm(original=difference_files.stored(photo))
    moderation.attach_original(session, access=as_moderator, case_id=case_claimed, form=original)
    session.commit()
    assert reports[0] is not None
    return Site(
        slug=view.slug,
        closed_slug=closed.slug,
        org=lead.slug,
        admin=admin,
        moderator=moderator,
        checker=checker,
        site_admin=site_admin,
        thanks_token=first.supporter.token,
        confirm_secret=waiting.confirm_path.rsplit("/", 1)[1],
        tracking_code=reports[0].tracking_code,
        case_new=case_new,
        case_claimed=case_claimed,
        case_proposed=case_proposed,
        published=published,
        invite_token=invite_token,
        reset_token=reset_token,
        contact="pendukung0@example.com",
    )


def pages(site: Site) -> dict[str, list[str]]:
    """Every HTML page of the site (GET), by who opens it: "public", "admin" (a partner
    organisation's admin), "moderator" or "site_admin"."""
    c, org = site.slug, site.org
    return {
        "public": [
            "/",
            f"/c/{c}",
            f"/c/{site.closed_slug}",
            f"/c/{c}/confirm",
            f"/c/{c}/confirm/{site.confirm_secret}",
            f"/c/{c}/thanks/{site.thanks_token}",
            f"/c/{c}/thanks",
            f"/c/{c}/withdraw/{site.thanks_token}",
            f"/c/{c}/withdrawn",
            f"/c/{c}/report",
            f"/c/{c}/report/received",
            f"/reports/{site.tracking_code}",
            "/hoaxes",
            f"/hoaxes/{site.published}",
            "/privacy",
            "/api/docs",
            "/login",
            "/password/forgot",
            "/password/forgot/sent",
            f"/password/reset/{site.reset_token}",
            "/password/reset/a-link-that-was-never-sent-0123456789",
            f"/invite/{site.invite_token}",
            "/no/such/page",
            f"/embed/{c}",
            f"/embed/{c}?theme=dark&partner={org}",
        ],
        "admin": [
            "/account",
            f"/dashboard/{org}",
            f"/dashboard/{org}/profile",
            f"/dashboard/{org}/members",
            f"/dashboard/{org}/campaigns/new",
            f"/dashboard/{org}/campaigns/{c}/edit",
            f"/dashboard/{org}/campaigns/{c}/statistics",
            f"/dashboard/{org}/campaigns/{c}/embed",
        ],
        "moderator": [
            "/mod",
            f"/mod/cases/{site.case_new}",
            f"/mod/cases/{site.case_claimed}",
            f"/mod/cases/{site.case_proposed}",
            f"/mod/cases/{site.published}",
            "/admin",  # a moderator is refused: the 403 page
        ],
        "site_admin": [
            "/dashboard",
            "/admin",
            "/admin/orgs",
            "/admin/users",
            f"/admin/users/{site.admin.id}",
            "/admin/contacts",
        ],
    }


# --- the checker ---------------------------------------------------------------------


def vnu_command() -> list[str]:
    java = shutil.which("java")
    if java is None or not VNU.exists():
        message = f"the Nu Html Checker needs java and {VNU} (npm ci installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    # One short run: the quick compiler alone and the serial collector take half the CPU time
    # of the JVM's defaults, which spend it on optimising code that is run a few times only.
    tuning = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss4m"]
    return [java, *tuning, "-jar", str(VNU), "--format", "json", "--exit-zero-always"]


def vnu_errors(command: list[str], files: list[Path]) -> list[str]:
    """Run the checker once on all files (one JVM start); its errors as "file:line: message"."""
    run = subprocess.run([*command, *map(str, files)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stderr or run.stdout)
    problems = [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine', '?')}: {m['message']}"
        f" [{m.get('extract', '').strip()[:80]}]"
        for m in report["messages"]
        # A "non-document-error" is a file the checker could not read: no less a failure.
        if m.get("type") in ("error", "non-document-error")
    ]
    return problems


# --- rendering every page ------------------------------------------------------------


@pytest.fixture
def clients(app: FastAPI) -> Iterator[Callable[[User | None], TestClient]]:
    opened: list[TestClient] = []

    def open_as(user: User | None) -> TestClient:
        client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        client.__enter__()
        client.cookies.set("lang", "en")
        if user is not None:
            sign_in(client, user, csrf=CSRF)
        opened.append(client)
        return client

    yield open_as
    for client in opened:
        client.__exit__(None, None, None)


def form_errors(site: Site, client: Callable[[User | None], TestClient]) -> dict[str, Any]:
    """Every form posted with bad input: each answer is the form again, with messages."""
    c, org = site.slug, site.org
    public = client(None)
    admin = client(site.admin)
    moderator = client(site.moderator)
    root = client(site.site_admin)

    def anonymous(path: str, data: dict[str, Any], files: dict[str, Any] | None = None) -> Any:
        token = csrf_token(public, path)
        return public.post(path, data={"csrf_token": token, **data}, files=files)

    def signed(who: TestClient, path: str, **data: Any) -> Any:
        return who.post(path, data={"csrf_token": CSRF, **data})

    edit = f"/dashboard/{org}/campaigns/{c}"
    return {
        "sign": public.post(
            f"/c/{c}/sign",
            data={
                "csrf_token": csrf_token(public, f"/c/{c}"),
                "name": "",
                "contact": "bukan kontak",
                "website": "",
            },
        ),
        "report": anonymous(
            f"/c/{c}/report",
            {"url": "bukan tautan", "website": ""},
            files={"screenshot": ("", b"", "application/octet-stream")},
        ),
        "login": anonymous("/login", {"email": site.admin.email, "password": "salah sekali"}),
        "forgot": anonymous("/password/forgot", {"email": ""}),
        "reset": anonymous(
            f"/password/reset/{site.reset_token}",
            {"password": "pendek", "password_confirm": "lain"},
        ),
        "invite": anonymous(
            f"/invite/{site.invite_token}",
            {"display_name": "", "password": "pendek", "password_confirm": "lain"},
        ),
        "account-name": signed(admin, "/account/name", display_name="x" * 300),
        "account-password": signed(
            admin, "/account/password", current_password="salah", password="a", password_confirm="b"
        ),
        "profile": signed(admin, f"/dashboard/{org}/profile", name="", website="bukan situs"),
        "members-invite": signed(
            admin, f"/dashboard/{org}/members/invite", email="bukan email", role="admin"
        ),
        "campaign-new": signed(
            admin, f"/dashboard/{org}/campaigns", title="", goal="-1", starts_at="kemarin"
        ),
        "campaign-edit": signed(admin, f"{edit}/edit", title="", goal="nol", ends_at="besok"),
        "pledge-add": signed(admin, f"{edit}/pledges", text=""),
        "partner-add": signed(admin, f"{edit}/partners", org="tidak-ada", name="", email=""),
        "decide": signed(
            moderator,
            f"/mod/cases/{site.case_claimed}/decide",
            decision="hoax",
            reason="",
            fact_check_url="bukan tautan",
        ),
        "admin-org": signed(root, "/admin/orgs", slug="", name="", website="bukan situs"),
        "contacts-search": signed(root, "/admin/contacts", contact="bukan kontak"),
        "contacts-found": signed(root, "/admin/contacts", contact=site.contact),
    }


def waiting_pages(site: Site, client: Callable[[User | None], TestClient]) -> dict[str, Any]:
    """The page that waits for a confirmation, as the browser that signed sees it: the code
    form of an email signer, the message of a WhatsApp signer, and a wrong code refused."""
    c = site.slug
    shown: dict[str, Any] = {}
    for kind, contact in (("email", "kode@example.com"), ("whatsapp", "0812 9999 0000")):
        signer = client(None)
        token = csrf_token(signer, f"/c/{c}")
        signed = signer.post(
            f"/c/{c}/sign", data={"csrf_token": token, **form_data(contact=contact)}
        )
        assert signed.headers["location"] == f"/c/{c}/confirm", signed.text[:500]
        shown[f"waiting-{kind}"] = signer.get(f"/c/{c}/confirm")
        if kind == "email":
            wrong = {"csrf_token": token, "code": "12345"}
            shown["invalid-confirm-code"] = signer.post(f"/c/{c}/confirm", data=wrong)
    return shown


def raising(error: PledgeError) -> Callable[[], None]:
    def route() -> None:
        raise error

    return route


# The error pages that need a failure to show: each is raised by a route added for the test,
# and answered by the app's own error handler.
FAILURES: dict[str, PledgeError] = {
    "busy": TooManyRequests(),
    "down": ServiceUnavailable(),
    "too-large": TooLarge(),
    "conflict": Conflict("Kasus ini sudah diputuskan."),
}


def test_every_page_is_valid_html(
    app: FastAPI,
    session: Session,
    make_campaign: Callable[..., CampaignView],
    clients: Callable[[User | None], TestClient],
    tmp_path: Path,
) -> None:
    command = vnu_command()  # before any work: skipped or failed at once without java
    site = seed_site(session, make_campaign)
    by_role = {
        "public": None,
        "admin": site.admin,
        "moderator": site.moderator,
        "site_admin": site.site_admin,
    }
    written: list[Path] = []
    wrong: list[str] = []

    def keep(name: str, response: Any, status: int) -> None:
        if response.status_code != status:
            wrong.append(f"{name}: {response.status_code}, expected {status}")
        assert response.headers["content-type"].startswith("text/html"), name
        path = tmp_path / f"{len(written):02d}-{name.strip('/').replace('/', '_')[:80]}.html"
        if name.startswith("invalid-") and status == 422:
            shown = html(response).select("p.error, [role=alert]")
            assert shown, f"{name}: no message beside the form"
        path.write_text(response.text, encoding="utf-8")
        written.append(path)

    for role, paths in pages(site).items():
        client = clients(by_role[role])
        for path in paths:
            expected = 404 if "no/such" in path or "never-sent" in path else 200
            if role == "moderator" and path == "/admin":
                expected = 403
            keep(f"{role}{path}", client.get(path), expected)
    for name, error in FAILURES.items():
        app.add_api_route(f"/test-failure/{name}", raising(error))
        keep(f"error-{name}", clients(None).get(f"/test-failure/{name}"), error.status_code)
    for name, response in form_errors(site, clients).items():
        keep(f"invalid-{name}", response, 200 if name == "contacts-found" else 422)
    for name, response in waiting_pages(site, clients).items():
        keep(name, response, 422 if name.startswith("invalid-") else 200)
    assert not wrong, "pages answered an unexpected status:\n" + "\n".join(wrong)

    errors = vnu_errors(command, written)
    assert not errors, f"{len(errors)} HTML errors:\n" + "\n".join(errors)
