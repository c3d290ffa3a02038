"""Contact sheets of every page, for checking the layout by eye: ``make screenshots``.

A throwaway database gets the demo and then the content that breaks layouts (seven-digit
counts, a 120-character title, long names, every form's error messages); ``pledge serve``
serves it on a free port, and Chromium draws each public, supporter, reporter, moderator
and partner page at 320, 360, 414 and 1280 px wide in Indonesian and English, full-page.
The eight drawings of a page go side by side into one sheet, ``build/screenshots/<page>.png``
(the single drawings in ``build/screenshots/shots/``). Pages that scroll sideways are
listed at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "screenshots"
CHROMIUM = os.environ.get("PLEDGE_TEST_CHROMIUM", "/usr/bin/chromium")
WIDTHS = (320, 360, 414, 1280)
HEIGHTS = {320: 640, 360: 740, 414: 896, 1280: 800}
LANGS = ("id", "en")
SLUG = "suarakan-cintamu"
ORG = "jaringan-pemilih-muda"
PASSWORD = "demo-password-2029"  # noqa: S105 - the demo's published password

LONG_TITLE = (
    "Suarakan Cintamu untuk Indonesia: Tolak Politik Uang, Datang ke TPS, dan Lawan Hoaks "
    "Bersama Anak Muda dari Sabang sampai Merauke"
)[:120]
LONG_ORG = (
    "Perkumpulan Sekolah Demokrasi dan Pendidikan Pemilih Pemula Nusantara "
    "(Persekutuan Masyarakat Sipil Kalimantan Tengah)"
)
LONG_CASE_TITLE = (
    "Beredar pesan berantai yang menyebut pemilih wajib membawa fotokopi KTP yang dilegalisir "
    "kelurahan, surat keterangan domisili, dan pas foto berwarna ukuran 4x6 ke TPS"
)
LONG_NAMES = (
    "Kusumawardhaniningtyasputri Maharani",
    "Muhammad Rizky Pratama Wijayakusuma Putra",
    "Ni Luh Putu Ayu Sekarwangi Dewantari",
)
# What the counters read once the content is in: one of each size that breaks a layout.
COUNTS = {"total": 1234567, "pledge:1": 987654, "pledge:2": 12345, "pledge:3": 68}


@dataclass
class Facts:
    """What the pages need that only the seeded database knows."""

    thanks_token: str = ""
    confirm_path: str = ""
    codes: dict[str, str] = field(default_factory=dict)  # tracking code by case status


# --- the database ------------------------------------------------------------------------


def seed(env: dict[str, str]) -> Facts:
    """The demo, then the long content, through the app's own services and plain SQL."""
    python = sys.executable
    for args in (["db", "upgrade"], ["demo"]):
        subprocess.run(  # noqa: S603 - our own command
            [python, "-m", "pledge.cli", *args],
            env=env,
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
    os.environ.update(env)
    import sqlalchemy as sa
    from sqlmodel import Session

    from pledge import mail
    from pledge.campaigns import service as campaigns
    from pledge.config import get_settings
    from pledge.db import create_db_engine
    from pledge.supporters import service as supporters
    from pledge.supporters.service.form import SignForm

    get_settings.cache_clear()
    engine = create_db_engine(get_settings())
    facts = Facts()
    with Session(engine) as session:
        view = campaigns.get_view(session, slug=SLUG)
        pledges = tuple(p.slug for p in view.pledges)
        for n, name in enumerate(LONG_NAMES):
            form = SignForm(
                name=name,
                contact=f"panjang{n}@contoh.id",
                province="ID-KT",
                age_ok="on",
                consent="on",
                pledges=pledges,
                show_name="on",
            )
            signing = supporters.sign(session, view=view, form=form)
            assert signing.ticket is not None
            confirmed = supporters.confirm(session, link_digest=signing.ticket.link_digest)
            facts.thanks_token = facts.thanks_token or confirmed.token
        waiting = SignForm(
            name="Tiara",
            contact="menunggu@contoh.id",
            province="ID-JK",
            age_ok="on",
            consent="on",
            pledges=pledges[:1],
        )
        links = supporters.SignerLinks(
            confirm=f"http://example.org/c/{SLUG}/confirm/",
            private=f"http://example.org/c/{SLUG}/thanks/",
        )
        supporters.sign(session, view=view, form=waiting, links=links)
        session.commit()
    with engine.begin() as conn:
        q = conn.execute
        for key, value in COUNTS.items():
            q(sa.text("UPDATE tally SET value = :v WHERE key = :k"), {"v": value, "k": key})
        q(sa.text("UPDATE tally SET value = 98765 WHERE key LIKE 'partner:%' AND partner_id = 1"))
        q(
            sa.text("UPDATE supporter SET number = 1234568 WHERE token = :t"),
            {"t": facts.thanks_token},
        )
        q(sa.text("UPDATE campaign SET title = :t, goal = 2000000"), {"t": LONG_TITLE})
        q(
            sa.text("UPDATE organization SET name = :n WHERE slug = 'sekolah-demokrasi'"),
            {"n": LONG_ORG},
        )
        q(
            sa.text("UPDATE \"user\" SET display_name = :n WHERE email = 'moderator@contoh.id'"),
            {"n": "Moderator Demo Bernama Sangat Panjang Sekali"},
        )
        q(
            sa.text("UPDATE hoax_case SET public_title = :t, report_count = 12345 WHERE id = 2"),
            {"t": LONG_CASE_TITLE},
        )
        for status, code in q(
            sa.text(
                "SELECT c.status, r.tracking_code FROM hoax_report r JOIN hoax_case c "
                "ON c.id = r.case_id ORDER BY r.id"
            )
        ):
            facts.codes.setdefault(status, code)
        bodies = q(sa.text("SELECT body FROM outbox_message WHERE \"to\" = 'menunggu@contoh.id'"))
        for (body,) in bodies:
            found = re.search(r"(/c/[^/\s]+/confirm/[A-Za-z0-9_-]+)", mail.open_body(body) or "")
            facts.confirm_path = found.group(1) if found else facts.confirm_path
    engine.dispose()
    return facts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """``pledge serve`` on a free loopback port until the block ends."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "pledge.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=2)  # noqa: S310 - loopback
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("pledge serve did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


# --- the pages ---------------------------------------------------------------------------

Action = Callable[[Any, str, str], None]  # (page, base url, language): leaves the page to draw


def visit(path: str) -> Action:
    def go(page: Any, url: str, lang: str) -> None:
        joiner = "&" if "?" in path else "?"
        page.goto(f"{url}{path}{joiner}lang={lang}")

    return go


def post_form(
    path: str,
    form: str,
    fill: dict[str, str] | None = None,
    before: Callable[[Any], None] | None = None,
) -> Action:
    """Open the page, fill the fields given (the rest left as they are), send the form."""

    def go(page: Any, url: str, lang: str) -> None:
        visit(path)(page, url, lang)
        if before:
            before(page)
        scope = page.locator(form).first
        for selector, value in (fill or {}).items():
            box = scope.locator(selector).first
            if box.evaluate("e => e.tagName") == "SELECT":
                box.select_option(value)
            elif box.get_attribute("type") == "checkbox":
                box.check()
            else:
                box.fill(value)
        # A refused form comes back as a new page, or (the report form's script) in place.
        scope.evaluate("f => f.requestSubmit ? f.requestSubmit() : f.submit()")
        page.locator("#form-errors, p.error").first.wait_for()
        page.wait_for_load_state()

    return go


def claim_first(page: Any) -> None:
    """A moderator takes the case if nobody holds it yet, so that its decision form shows."""
    claim = page.locator("#form-claim button")
    if claim.count():
        with page.expect_navigation():
            claim.first.click()


BAD_SIGN = {"#name": "R", "#contact": "0812-ABC", "input[name=age_ok]": "on"}
BAD_REPORT = {"#url": "bukan link sama sekali ://", "#description": "x" * 2100}


def pages(facts: Facts) -> list[tuple[str, str, Action]]:
    """(sheet name, who looks: anon, mod or admin, how to reach the page)."""
    c = f"/c/{SLUG}"
    d = f"/dashboard/{ORG}"
    dc = f"{d}/campaigns/{SLUG}"
    found = [
        ("home", "anon", visit("/")),
        ("campaign", "anon", visit(c)),
        ("sign-errors-empty", "anon", post_form(c, "form[action*='/sign']")),
        ("sign-errors-bad", "anon", post_form(c, "form[action*='/sign']", BAD_SIGN)),
        (
            "check",
            "anon",
            post_form(
                c,
                "form[action*='/sign']",
                {
                    "input[name=pledges]": "on",
                    "#name": "Tiara Kusumawardhani",
                    "#contact": "tiara.kusumawardhani@contoh.id",
                    "#province": "ID-JT",
                    "input[name=age_ok]": "on",
                    "input[name=consent]": "on",
                },
            ),
        ),
        ("thanks", "anon", visit(f"{c}/thanks/{facts.thanks_token}")),
        ("withdraw", "anon", visit(f"{c}/withdraw/{facts.thanks_token}")),
        ("withdrawn", "anon", visit(f"{c}/withdrawn")),
        ("report", "anon", visit(f"{c}/report")),
        ("report-errors-empty", "anon", post_form(f"{c}/report", "form[action$='/report']")),
        (
            "report-errors-bad",
            "anon",
            post_form(f"{c}/report", "form[action$='/report']", BAD_REPORT),
        ),
        ("report-received", "anon", visit(f"{c}/report/received")),
        ("lookup", "anon", visit("/reports")),
        ("lookup-error", "anon", visit("/reports?code=ZZ!!-0000")),
        ("gallery", "anon", visit("/hoaxes")),
        ("verdict", "anon", visit("/hoaxes/1")),
        ("verdict-long-title", "anon", visit("/hoaxes/2")),
        ("transparency", "anon", visit("/transparansi")),
        ("privacy", "anon", visit("/privacy")),
        ("login", "anon", visit("/login")),
        (
            "login-error",
            "anon",
            post_form(
                "/login",
                "form[action$='/login']",
                {"#email": "moderator@contoh.id", "#password": "salah-sandi"},
            ),
        ),
        ("password-forgot", "anon", visit("/password/forgot")),
        ("embed-widget", "anon", visit(f"/embed/{SLUG}")),
        ("api-docs", "anon", visit("/api/docs")),
        ("not-found", "anon", visit("/halaman-yang-tidak-ada")),
        ("account", "mod", visit("/account")),
        ("mod-queue", "mod", visit("/mod")),
        ("mod-case-published", "mod", visit("/mod/cases/1")),
        ("mod-case-needs-info", "mod", visit("/mod/cases/6")),
        ("mod-case-awaiting", "admin", visit("/mod/cases/7")),
        ("mod-case-new", "mod", visit("/mod/cases/10")),
        (
            "mod-decide-errors",
            "mod",
            post_form("/mod/cases/11", "form[action$='/decide']", before=claim_first),
        ),
        ("dashboard", "admin", visit("/dashboard")),
        ("dashboard-org", "admin", visit(d)),
        ("dashboard-new-campaign", "admin", visit(f"{d}/campaigns/new")),
        ("dashboard-edit", "admin", visit(f"{dc}/edit")),
        ("dashboard-statistics", "admin", visit(f"{dc}/statistics")),
        ("dashboard-names", "admin", visit(f"{dc}/names")),
        ("dashboard-embed", "admin", visit(f"{dc}/embed")),
        ("dashboard-abuse", "admin", visit(f"{dc}/abuse")),
        ("dashboard-members", "admin", visit(f"{d}/members")),
        ("dashboard-profile", "admin", visit(f"{d}/profile")),
        ("admin", "admin", visit("/admin")),
        ("admin-orgs", "admin", visit("/admin/orgs")),
        ("admin-users", "admin", visit("/admin/users")),
        ("admin-user", "admin", visit("/admin/users/2")),
        ("admin-abuse", "admin", visit("/admin/abuse")),
        ("admin-contacts", "admin", visit("/admin/contacts")),
    ]
    if facts.confirm_path:
        found.insert(5, ("confirm-link", "anon", visit(facts.confirm_path)))
    for status, name in (
        ("needs_info", "status-needs-info"),
        ("published", "status-published"),
        ("new", "status-new"),
    ):
        if status in facts.codes:
            found.insert(13, (name, "anon", visit(f"/reports/{facts.codes[status]}")))
    return found


def sign_in(context: Any, url: str, email: str) -> None:
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.locator("form[action$='/login'] button[type=submit]").click()
    page.close()


EAGER = """() => Promise.all([...document.images].map(img => {
  img.loading = "eager";
  return img.complete ? null : new Promise(done => { img.onload = img.onerror = done; });
}))"""

OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) {
    const s = getComputedStyle(p); if (/(auto|scroll|hidden)/.test(s.overflowX)) return true; }
    return false; };
  return [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect(); return r.width && r.right > width + 1 && !scrolls(e);
  }).slice(0, 4).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
    + ' ' + Math.round(e.getBoundingClientRect().right));
}"""


def shoot(url: str, facts: Facts, only: set[str]) -> tuple[list[Path], list[str]]:
    from playwright.sync_api import sync_playwright

    shots = OUT / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    sheets: list[Future[Path]] = []
    drawing = ThreadPoolExecutor(max_workers=1)
    notes: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        contexts = {}
        for who, email in (
            ("anon", ""),
            ("mod", "moderator@contoh.id"),
            ("admin", "admin@contoh.id"),
        ):
            contexts[who] = browser.new_context(viewport={"width": 360, "height": 740})
            if email:
                sign_in(contexts[who], url, email)
        for name, who, action in pages(facts):
            if only and name not in only:
                continue
            drawn: dict[tuple[int, str], Path] = {}
            began = time.monotonic()
            for lang in LANGS:
                page = contexts[who].new_page()
                page.set_viewport_size({"width": 360, "height": 740})
                try:
                    action(page, url, lang)
                    page.wait_for_load_state("load")
                except Exception as error:  # one page's failure is a note, not the end
                    notes.append(f"{name} ({lang}): could not be reached: {error}".splitlines()[0])
                # Pictures below the first screen load when scrolled to: load them all now.
                page.evaluate(EAGER)
                page.wait_for_load_state("load")
                for width in WIDTHS:
                    page.set_viewport_size({"width": width, "height": HEIGHTS[width]})
                    wide = page.evaluate(OVERFLOW)
                    if wide:
                        notes.append(f"{name} {width}px {lang}: wider than the screen: {wide}")
                    path = shots / f"{name}-{width}-{lang}.png"
                    page.screenshot(path=str(path), full_page=True, animations="disabled")
                    drawn[(width, lang)] = path
                page.close()
            # The sheet is put together while the browser draws the next page.
            sheets.append(drawing.submit(contact_sheet, name, drawn))
            print(f"  {name}  ({time.monotonic() - began:.1f} s)", flush=True)
        browser.close()
    drawing.shutdown()
    written = [sheet.result() for sheet in sheets]
    return written, notes


# --- the sheets --------------------------------------------------------------------------

SHEET_HEIGHT = 4000  # the tallest a sheet is drawn: taller pages are scaled down to fit
LONGEST = 7000  # px of a page drawn on its sheet (the whole page stays in shots/)
LABEL = 28
GAP = 16


def contact_sheet(name: str, drawn: dict[tuple[int, str], Path]) -> Path:
    """The page's eight drawings in one row, narrowest first, Indonesian then English, each
    labelled; the desktop drawing at half the phones' scale so that the sheet stays legible.
    A page longer than LONGEST px is cut there (its label says how much is left out)."""
    from PIL import Image, ImageDraw, ImageFont

    keys = [(w, lang) for w in WIDTHS for lang in LANGS]
    images, cut = {}, {}
    for key in keys:
        shot = Image.open(drawn[key]).convert("RGB")
        cut[key] = max(0, shot.height - LONGEST)
        images[key] = shot.crop((0, 0, shot.width, LONGEST)) if cut[key] else shot
    factor = {w: (0.5 if w > 800 else 1.0) for w in WIDTHS}
    tallest = max(images[(w, lang)].height * factor[w] for w, lang in keys)
    scale = min(1.0, (SHEET_HEIGHT - 2 * LABEL - 2 * GAP) / tallest)
    sizes = {
        (w, lang): (round(w * factor[w] * scale), max(1, round(img.height * factor[w] * scale)))
        for (w, lang), img in images.items()
    }
    columns = {key: max(size[0], 150) for key, size in sizes.items()}  # room for the label
    width = sum(columns.values()) + GAP * (len(keys) + 1)
    height = max(size[1] for size in sizes.values()) + 2 * LABEL + 2 * GAP
    sheet = Image.new("RGB", (width, height), "#8a8f98")
    draw = ImageDraw.Draw(sheet)
    try:
        font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 15)
    except OSError:
        font = ImageFont.load_default()
    x = GAP
    for key in keys:
        draw.text((x, GAP), f"{key[0]} px · {key[1]}", fill="white", font=font)
        shot = images[key]
        if sizes[key] != shot.size:
            shot = shot.resize(sizes[key], Image.Resampling.BILINEAR, reducing_gap=2.0)
        sheet.paste(shot, (x, GAP + LABEL))
        if cut[key]:
            note = f"cut: {cut[key]} px more"
            draw.text((x, GAP + LABEL + sizes[key][1] + 4), note, fill="#ffd54a", font=font)
        x += columns[key] + GAP
    path = OUT / f"{name}.png"
    sheet.save(path, compress_level=1)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help="only these sheets (names as listed)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pledge-sheets-") as tmp:
        env = {
            **os.environ,
            "PLEDGE_DATABASE_URL": f"sqlite:///{tmp}/sheets.db",
            "PLEDGE_ENV": "development",
            "PYTHONPATH": str(ROOT),
        }
        print("seeding a throwaway database (demo + long content)...", flush=True)
        facts = seed(env)
        print(f"seeded in {time.monotonic() - started:.0f} s", flush=True)
        with serving(env) as url:
            print(f"drawing pages from {url} into {OUT.relative_to(ROOT)}/:", flush=True)
            written, notes = shoot(url, facts, set(args.pages))
    print(f"{len(written)} contact sheets written in {time.monotonic() - started:.0f} s:")
    for path in written:
        print(f"  {path.relative_to(ROOT)}")
    for note in notes:
        print(f"  note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
