"""The web layer shared by every page: headers, cookies, language, static files, page weight."""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup, Tag
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pledge.app import create_app
from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.web import STATIC_DIR
from tests.support.aio import run_async
from tests.support.forms import form_data
from tests.support.pages import csrf_token, html

MakeCampaign = Callable[..., CampaignView]
Sign = Callable[..., Any]

PAGE_BUDGET = 30 * 1024  # bytes over the wire: the campaign page with its CSS


@pytest.fixture
def view(make_campaign: MakeCampaign, sign: Sign) -> CampaignView:
    """A live campaign that looks like a real one: a story, partners, shown supporters."""
    body = "\n\n".join(
        f"## Bagian {n}\n\nPolitik uang merusak demokrasi. **Tolak** dan laporkan. " * 3
        for n in range(4)
    )
    campaign = make_campaign(
        title="Suarakan Cintamu: Tolak Politik Uang",
        summary="Anak muda Indonesia berjanji untuk pemilu yang bersih.",
        body=body,
        partners=3,
    )
    for n in range(8):
        sign(campaign, name=f"Orang{n} Baik", contact=f"orang{n}@example.com", show_name="on")
    return campaign


def one(soup: BeautifulSoup | Tag, selector: str) -> Tag:
    found = soup.select_one(selector)
    assert found is not None, f"nothing matches {selector!r}"
    return found


def set_cookies(response: Any) -> list[str]:
    return list(response.headers.get_list("set-cookie"))


def cookie_named(response: Any, name: str) -> str | None:
    return next((c for c in set_cookies(response) if c.startswith(f"{name}=")), None)


def attributes(cookie: str) -> set[str]:
    """A Set-Cookie header's attributes, lower-cased, values kept: {'httponly', 'samesite=lax'}."""
    return {part.strip().lower() for part in cookie.split(";")[1:]}


def csp_directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def page_paths(client: TestClient, view: CampaignView) -> dict[str, Any]:
    """One response of each kind of page: list, campaign, form error, thanks, privacy, 404."""
    token = csrf_token(client, f"/c/{view.slug}")
    signed = client.post(
        f"/c/{view.slug}/sign", data={**form_data(contact="page@example.com"), "csrf_token": token}
    )
    assert signed.status_code == 303
    invalid = client.post(f"/c/{view.slug}/sign", data={**form_data(name=""), "csrf_token": token})
    assert invalid.status_code == 422
    return {
        "index": client.get("/"),
        "campaign": client.get(f"/c/{view.slug}"),
        "invalid form": invalid,
        "thanks": client.get(signed.headers["location"]),
        "privacy": client.get("/privacy"),
        "not found": client.get("/no/such/page"),
        "forbidden": client.post(f"/c/{view.slug}/sign", data=form_data()),
        "too large": client.post(f"/c/{view.slug}/sign", data=form_data(name="x" * 100_000)),
    }


# --- headers ---------------------------------------------------------------------------


def test_every_page_carries_the_security_headers(client: TestClient, view: CampaignView) -> None:
    missing: dict[str, list[str]] = {}
    for name, response in page_paths(client, view).items():
        assert "text/html" in response.headers["content-type"], name
        problems = []
        csp = csp_directives(response.headers.get("content-security-policy", ""))
        if not csp:
            problems.append("no Content-Security-Policy")
        if any("'unsafe-inline'" in values for values in csp.values()):
            problems.append("CSP allows 'unsafe-inline'")
        if any("'unsafe-eval'" in values for values in csp.values()):
            problems.append("CSP allows 'unsafe-eval'")
        if csp.get("frame-ancestors") != ["'none'"]:
            problems.append("CSP frame-ancestors is not 'none'")
        if csp and csp.get("script-src", csp.get("default-src")) != ["'self'"]:
            problems.append("scripts are allowed from elsewhere than 'self'")
        if response.headers.get("x-content-type-options") != "nosniff":
            problems.append("no X-Content-Type-Options: nosniff")
        if response.headers.get("x-frame-options") != "DENY":
            problems.append("no X-Frame-Options: DENY")
        if response.headers.get("referrer-policy") not in (
            "no-referrer",
            "same-origin",
            "strict-origin",
            "strict-origin-when-cross-origin",
        ):
            problems.append("no strict Referrer-Policy")
        if problems:
            missing[f"{name} ({response.status_code})"] = problems
    assert missing == {}


def test_an_unexpected_error_gives_the_error_page_with_the_security_headers(
    app: FastAPI, view: CampaignView, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(text: str) -> str:
        raise RuntimeError("a bug somewhere in the page")

    monkeypatch.setattr("pledge.campaigns.service.render_markdown", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(f"/c/{view.slug}?lang=en")

    assert response.status_code == 500
    soup = html(response)
    assert one(soup, "html")["lang"] == "en"
    assert one(soup, "section.error-page p.detail").get_text(strip=True) == (
        "Something went wrong on our side. Please try again."
    )
    assert "RuntimeError" not in response.text
    csp = csp_directives(response.headers.get("content-security-policy", ""))
    assert csp.get("frame-ancestors") == ["'none'"]
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("x-frame-options") == "DENY"


def test_pages_use_no_inline_script_or_style_the_csp_would_block(
    client: TestClient, view: CampaignView
) -> None:
    for name, response in page_paths(client, view).items():
        soup = html(response)
        assert soup.select("script:not([src])") == [], name
        assert soup.select("style") == [], name
        assert soup.select("[style]") == [], name
        handlers = [
            attr for tag in soup.find_all(True) for attr in tag.attrs if attr.startswith("on")
        ]
        assert handlers == [], name


# --- cookies -------------------------------------------------------------------------


def test_the_session_cookie_is_httponly_and_samesite_lax(
    client: TestClient, view: CampaignView
) -> None:
    response = client.get(f"/c/{view.slug}")

    cookie = cookie_named(response, "pledge_session")
    assert cookie is not None, set_cookies(response)
    attrs = attributes(cookie)
    assert "httponly" in attrs
    assert "samesite=lax" in attrs
    assert "secure" not in attrs  # the test environment serves plain http
    assert "path=/" in attrs


def test_a_page_without_a_form_sets_no_session_cookie(client: TestClient) -> None:
    response = client.get("/privacy")

    assert cookie_named(response, "pledge_session") is None


@pytest.mark.parametrize(
    "path",
    ["/api/v1/campaigns", "/api/v1/campaigns/{slug}", "/api/openapi.json", "/healthz", "/readyz"],
)
def test_api_and_health_set_no_cookie_even_for_a_visitor_with_a_session(
    client: TestClient, view: CampaignView, path: str
) -> None:
    client.get(f"/c/{view.slug}")
    assert client.cookies.get("pledge_session")

    response = client.get(path.format(slug=view.slug) + "?lang=en")

    assert response.status_code == 200
    assert set_cookies(response) == []


def test_static_files_set_no_cookie(client: TestClient) -> None:
    response = client.get("/static/css/site.css?lang=en")

    assert response.status_code == 200
    assert set_cookies(response) == []


# --- language ----------------------------------------------------------------------------


def test_indonesian_is_the_default_and_lang_switches_and_is_remembered(
    client: TestClient, view: CampaignView
) -> None:
    first = client.get("/")
    assert one(html(first), "html")["lang"] == "id"
    assert cookie_named(first, "lang") is None
    switcher = one(html(first), "nav.lang")
    assert one(switcher, '[aria-current="true"]')["lang"] == "id"
    to_english = one(switcher, 'a[hreflang="en"]')
    assert parse_qs(urlsplit(str(to_english["href"])).query)["lang"] == ["en"]

    english = client.get(str(to_english["href"]))

    soup = html(english)
    assert one(soup, "html")["lang"] == "en"
    assert one(soup, "h1").get_text(strip=True) == "Make your voice count"
    cookie = cookie_named(english, "lang")
    assert cookie is not None
    assert cookie.split(";")[0] == "lang=en"
    attrs = attributes(cookie)
    assert "samesite=lax" in attrs
    assert "path=/" in attrs
    max_age = next(a for a in attrs if a.startswith("max-age="))
    assert int(max_age.split("=")[1]) >= 30 * 24 * 3600
    assert client.cookies.get("lang") == "en"
    # The same URL answers in two languages: shared caches must key on the cookie.
    assert "cookie" in english.headers.get("vary", "").lower()

    # Remembered on the next request, on any page, without asking again.
    remembered = client.get(f"/c/{view.slug}")
    assert one(html(remembered), "html")["lang"] == "en"
    assert one(html(remembered), "#sign-title").get_text(strip=True) == "Add your name"
    assert cookie_named(remembered, "lang") is None

    back = client.get("/?lang=id")
    assert one(html(back), "html")["lang"] == "id"
    assert (cookie_named(back, "lang") or "").split(";")[0] == "lang=id"
    assert one(html(client.get("/privacy")), "html")["lang"] == "id"


def test_the_language_switch_keeps_the_rest_of_the_address(
    client: TestClient, view: CampaignView
) -> None:
    partner = view.partners[-1]
    soup = html(client.get(f"/c/{view.slug}?ref={partner.referral_code}"))

    link = urlsplit(str(one(soup, 'nav.lang a[hreflang="en"]')["href"]))

    assert link.path == f"/c/{view.slug}"
    assert parse_qs(link.query) == {"ref": [partner.referral_code], "lang": ["en"]}
    english = html(client.get(f"{link.path}?{link.query}"))
    assert one(english, 'form input[name="ref"]')["value"] == partner.referral_code


@pytest.mark.parametrize("asked", ["fr", "xx", "", "<script>"])
def test_an_unknown_language_falls_back_to_the_one_remembered(
    client: TestClient, asked: str
) -> None:
    assert one(html(client.get("/?lang=en")), "html")["lang"] == "en"

    response = client.get("/", params={"lang": asked})

    assert response.status_code == 200
    assert one(html(response), "html")["lang"] == "en"
    assert cookie_named(response, "lang") is None


def test_a_tampered_language_cookie_falls_back_to_indonesian(client: TestClient) -> None:
    client.cookies.set("lang", "klingon")

    response = client.get("/")

    assert one(html(response), "html")["lang"] == "id"


def test_numbers_are_written_the_way_each_language_expects(
    client: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign(goal=12_500)

    indonesian = one(html(client.get(f"/c/{view.slug}?lang=id")), "section.tally progress")
    english = one(html(client.get(f"/c/{view.slug}?lang=en")), "section.tally progress")

    assert "12.500" in indonesian.get_text()
    assert "12,500" in english.get_text()
    assert indonesian["max"] == english["max"] == "12500"


# --- static files and page weight ---------------------------------------------------------


def test_the_stylesheet_is_versioned_by_content_and_cached_for_long(
    client: TestClient, view: CampaignView
) -> None:
    soup = html(client.get(f"/c/{view.slug}"))
    href = str(one(soup, 'link[rel="stylesheet"]')["href"])
    parts = urlsplit(href)
    assert parts.path == "/static/css/site.css"
    version = parse_qs(parts.query)["v"][0]
    content = (STATIC_DIR / "css" / "site.css").read_bytes()
    assert version == hashlib.sha256(content).hexdigest()[: len(version)]
    assert len(version) >= 8

    response = client.get(href)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.content == content
    cache = response.headers["cache-control"]
    max_age = re.search(r"max-age=(\d+)", cache)
    assert max_age is not None and int(max_age[1]) >= 30 * 24 * 3600
    assert "public" in cache
    assert response.headers["x-content-type-options"] == "nosniff"


def wire_size(client: TestClient, url: str) -> int:
    """Bytes on the wire for url when the browser accepts gzip."""
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200, url
    declared = response.headers.get("content-length")
    if response.headers.get("content-encoding") == "gzip" and declared:
        return int(declared)
    if response.headers.get("content-encoding") == "gzip":
        return len(gzip.compress(response.content))
    return len(response.content)


def test_the_campaign_page_with_its_css_weighs_under_30_kb_over_the_wire(
    client: TestClient, view: CampaignView
) -> None:
    url = f"/c/{view.slug}"
    page = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert page.headers.get("content-encoding") == "gzip"
    soup = html(page)
    assert len(soup.select("section.recent li")) == 8
    subresources = [str(link["href"]) for link in soup.select("link[rel~=stylesheet][href]")]
    subresources += [str(s["src"]) for s in soup.select("script[src], img[src]")]
    assert subresources, "the page has no stylesheet"

    total = wire_size(client, url) + sum(wire_size(client, src) for src in subresources)

    assert total < PAGE_BUDGET, f"{total} bytes"


@pytest.mark.parametrize("which", ["index", "campaign", "thanks", "privacy", "not found"])
def test_pages_load_nothing_from_another_host(
    client: TestClient, view: CampaignView, which: str
) -> None:
    response = page_paths(client, view)[which]
    soup = html(response)

    references = [
        str(tag.get("src") or tag.get("href") or tag.get("srcset") or "")
        for tag in soup.select(
            "script[src], link[href], img[src], img[srcset], source[src], source[srcset], "
            "iframe[src], video[src], audio[src], embed[src], object[data]"
        )
    ]
    assert references
    foreign = [
        ref
        for ref in references
        if ref.startswith("//") or urlsplit(ref).netloc not in ("", "testserver")
    ]
    assert foreign == []
    for form in soup.select("form[action]"):
        assert urlsplit(str(form["action"])).netloc in ("", "testserver")


def test_the_stylesheet_loads_no_fonts_or_files_from_elsewhere(client: TestClient) -> None:
    css = client.get("/static/css/site.css").text

    assert "@import" not in css
    assert "@font-face" not in css
    urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", css)
    assert [u for u in urls if not u.startswith(("data:", "/", "#")) and "//" in u] == []


def test_pages_name_the_site_their_app_was_made_with(engine: sa.Engine) -> None:
    app = create_app(get_settings().model_copy(update={"site_name": "Janji Kita"}), engine=engine)
    with TestClient(app, base_url="http://testserver") as client:
        page = html(client.get("/?lang=en"))

    assert one(page, "a.brand").get_text(strip=True) == "Janji Kita"


def test_a_client_gone_before_its_form_arrived_is_no_error_in_the_log(
    app: FastAPI, make_campaign: MakeCampaign, caplog: pytest.LogCaptureFixture
) -> None:
    view = make_campaign()
    messages = iter(
        [
            {"type": "http.request", "body": b"csrf_token=abc&name=Ri", "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"/c/{view.slug}/sign",
        "raw_path": f"/c/{view.slug}/sign".encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", b"200"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    with caplog.at_level(logging.INFO):
        run_async(lambda: app(scope, receive, send))

    [start] = [m for m in sent if m["type"] == "http.response.start"]
    assert start["status"] == 499
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text


def test_a_served_process_freezes_its_start_and_collects_the_young_less_often(
    tmp_path: Any,
) -> None:
    """What ``pledge serve`` builds in each worker: everything made at start is out of the
    collector's reach, and the youngest generation is collected every GC_YOUNG_OBJECTS."""
    program = (
        "import gc\n"
        "from pledge.app import GC_YOUNG_OBJECTS, create_served_app\n"
        "before = gc.get_threshold()\n"
        "create_served_app()\n"
        "print(before[0], gc.get_threshold() == (GC_YOUNG_OBJECTS, *before[1:]), "
        "gc.get_freeze_count() > 10_000, GC_YOUNG_OBJECTS)\n"
    )
    env = {**os.environ, "PLEDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}"}
    completed = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert completed.stdout.split() == ["700", "True", "True", "10000"]
