"""Operations: /metrics (who may read it, what it counts), request ids, JSON logs without contacts."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from sqlmodel import Session

from pledge import observability
from pledge.accounts import service as accounts
from pledge.accounts.models import Role
from pledge.app import create_app
from pledge.campaigns.models import CampaignView
from pledge.config import Settings, get_settings
from pledge.hoaxes.models import Category, HoaxCase, Platform
from pledge.observability import redact
from tests.support.appserver import STARTUP_DEADLINE, LiveServer, app_process, free_port
from tests.support.forms import form_data, post_report
from tests.support.pages import csrf_token, html, post_form
from tests.support.people import PASSWORD, login
from tests.support.signing import confirm_landing, last_email_to, own_session
from tests.support.waiting import wait_until

MakeCampaign = Callable[..., CampaignView]

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK_V4 = ("127.0.0.1", 50000)
TOKEN = "metrics-token-0123456789abcdef"
EMAIL = "rina.putri@example.com"
PHONE = "0812 3456 7890"
PHONE_DIGITS = "81234567890"  # the phone number whatever its spacing or prefix
HEX_ID = re.compile(r"[0-9a-f]{32}")


# --- helpers -------------------------------------------------------------------------


def loopback_client(app: FastAPI, host: tuple[str, int] = LOOPBACK_V4) -> TestClient:
    return TestClient(app, base_url="http://testserver", follow_redirects=False, client=host)


def sample(text: str, name: str, **labels: str) -> float | None:
    """One sample's value in a Prometheus text page, or None when it is not there."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return None


def label_values(text: str, name: str, label: str) -> set[str]:
    return {
        found.labels[label]
        for family in text_string_to_metric_families(text)
        for found in family.samples
        if found.name == name and label in found.labels
    }


def scrape(app: FastAPI) -> str:
    with loopback_client(app) as client:
        response = client.get("/metrics")
    assert response.status_code == 200, response.text[:300]
    return response.text


def text_of(response: Any, selector: str) -> str:
    found = html(response).select_one(selector)
    assert found is not None, f"nothing matches {selector!r}"
    return found.get_text(" ", strip=True)


def sign_up(client: TestClient, view: CampaignView, **fields: Any) -> Any:
    token = csrf_token(client, f"/c/{view.slug}")
    return client.post(f"/c/{view.slug}/sign", data=form_data(csrf_token=token, **fields))


@dataclass
class Captured:
    """What went through the production log handler during a test."""

    stream: io.StringIO

    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines()]

    def access(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if r["logger"] == "pledge.access" and r["path"] == path]


@contextmanager
def capturing(log_format: str, level: int = logging.DEBUG) -> Iterator[Captured]:
    """The handler `pledge serve` installs, on the root logger, writing into a buffer."""
    stream = io.StringIO()
    handler = observability.log_handler(log_format, stream)
    # The test's own HTTP client logs the URLs it asks for: not the server's log.
    handler.addFilter(lambda record: not record.name.startswith("httpx"))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield Captured(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


@pytest.fixture
def json_log() -> Iterator[Captured]:
    with capturing("json") as captured:
        yield captured


def assert_no_contact(lines: list[str], *contacts: str) -> None:
    for line in lines:
        for contact in contacts:
            assert contact.lower() not in line.lower(), line
        assert PHONE_DIGITS not in re.sub(r"\D", "", line), line


# --- who may read /metrics -------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_metrics_answer_a_client_on_loopback(app: FastAPI, host: str) -> None:
    with loopback_client(app, (host, 50000)) as client:
        client.get("/healthz")
        response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers
    healthz = {"method": "GET", "route": "/healthz", "status": "2xx"}
    assert sample(response.text, "pledge_http_requests_total", **healthz) == 1


def test_metrics_are_the_ordinary_not_found_page_for_anyone_else(
    client: TestClient, app: FastAPI
) -> None:
    refused = client.get("/metrics")
    unknown = client.get("/no-such-page")

    assert refused.status_code == unknown.status_code == 404
    assert "pledge_" not in refused.text
    assert text_of(refused, ".error-page") == text_of(unknown, ".error-page")
    # A forwarded header does not make a remote client local.
    forged = client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert forged.status_code == 404


@pytest.fixture
def token_app(engine: sa.Engine) -> FastAPI:
    return create_app(get_settings().model_copy(update={"metrics_token": TOKEN}), engine=engine)


@pytest.mark.parametrize(
    ("authorization", "on_loopback", "status"),
    [
        (f"Bearer {TOKEN}", False, 200),
        (f"bearer {TOKEN}", True, 200),
        (f"Bearer {TOKEN}x", False, 404),
        (f"Bearer {TOKEN[:-1]}", True, 404),
        (f"Basic {TOKEN}", False, 404),
        ("Bearer ", True, 404),
        (None, True, 404),  # with a token set, loopback alone is not enough
        (None, False, 404),
    ],
)
def test_with_a_token_only_its_bearer_reads_the_metrics(
    token_app: FastAPI, authorization: str | None, on_loopback: bool, status: int
) -> None:
    host = LOOPBACK_V4 if on_loopback else ("203.0.113.9", 50000)
    headers = {"Authorization": authorization} if authorization is not None else {}
    with loopback_client(token_app, host) as client:
        response = client.get("/metrics", headers=headers)

    assert response.status_code == status
    assert ("pledge_http_requests_total" in response.text) == (status == 200)


def test_metrics_are_not_in_the_api_description(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]

    assert "/metrics" not in paths
    assert "/api/v1/campaigns" in paths


@pytest.mark.server
def test_a_real_loopback_connection_reads_the_metrics(live_server: LiveServer) -> None:
    with httpx2.Client(base_url=live_server.url, timeout=10) as client:
        response = client.get("/metrics")

    assert response.status_code == 200
    assert sample(response.text, "pledge_live_streams") == 0


# --- what /metrics counts --------------------------------------------------------------


def test_signatures_and_requests_are_counted_per_route_template(
    client: TestClient, app: FastAPI, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()

    # Each signer confirms with the emailed code, as they would: the pledges are signed then.
    first = sign_up(client, view, contact="satu@example.com")
    confirm_landing(client, view, "satu@example.com")
    second = sign_up(
        client, view, contact="dua@example.com", pledges=["tolak-politik-uang", "lawan-hoaks"]
    )
    confirm_landing(client, view, "dua@example.com")
    bad = sign_up(client, view, contact="not a contact")
    again = sign_up(
        client, view, contact="satu@example.com", pledges=["tolak-politik-uang", "lawan-hoaks"]
    )
    confirm_landing(client, view, "satu@example.com")
    bot = sign_up(client, view, contact="bot@example.com", website="http://spam.example")
    client.get(f"/c/{view.slug}/nothing-here")
    client.request("BREW", f"/c/{view.slug}")
    client.get("/static/css/site.css")
    text = scrape(app)

    assert [r.status_code for r in (first, second, bad, again, bot)] == [303, 303, 422, 303, 303]
    sign_route = {"method": "POST", "route": "/c/{slug}/sign"}
    assert sample(text, "pledge_http_requests_total", **sign_route, status="3xx") == 4
    assert sample(text, "pledge_http_requests_total", **sign_route, status="4xx") == 1
    latency = "pledge_http_request_duration_seconds_count"
    assert sample(text, latency, **sign_route, status="3xx") == 4
    assert sample(text, latency, **sign_route, status="4xx") == 1
    code_route = {"method": "POST", "route": "/c/{slug}/confirm"}
    assert sample(text, "pledge_http_requests_total", **code_route, status="3xx") == 3
    page = {"method": "GET", "route": "/c/{slug}", "status": "2xx"}
    assert sample(text, "pledge_http_requests_total", **page) == 5  # each form was opened
    assert sample(text, "pledge_signings_total", outcome="new") == 2
    assert sample(text, "pledge_signings_total", outcome="added") == 1
    assert sample(text, "pledge_signings_total", outcome="unchanged") == 0
    assert sample(text, "pledge_signings_total", outcome="bot") == 1
    assert sample(text, "pledge_signatures_total") == 4  # 1 + 2 + the one added later
    unmatched = {"route": "unmatched", "status": "4xx"}
    assert sample(text, "pledge_http_requests_total", method="GET", **unmatched) == 1
    assert sample(text, "pledge_http_requests_total", method="other", **{"route": "/c/{slug}", "status": "4xx"}) == 1  # fmt: skip
    static = {"method": "GET", "route": "/static/{path}", "status": "2xx"}
    assert sample(text, "pledge_http_requests_total", **static) == 1
    routes = label_values(text, "pledge_http_requests_total", "route")
    assert not any(view.slug in route for route in routes), routes


def test_a_hoax_report_is_counted(
    client: TestClient, app: FastAPI, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()

    response = post_report(client, view)
    text = scrape(app)

    assert response.status_code == 303
    assert sample(text, "pledge_hoax_reports_total", outcome="stored") == 1
    assert sample(text, "pledge_hoax_reports_total", outcome="bot") == 0
    report_route = {"method": "POST", "route": "/c/{slug}/report", "status": "3xx"}
    assert sample(text, "pledge_http_requests_total", **report_route) == 1


def test_the_queue_depth_is_the_number_of_open_cases(
    app: FastAPI, session: Session, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    assert sample(scrape(app), "pledge_moderation_queue_depth") == 0
    statuses = ["new", "new", "needs_info", "awaiting_approval", "published", "rejected"]
    for status in statuses:
        session.add(
            HoaxCase(
                campaign_id=view.id,
                status=status,
                platform=Platform.WHATSAPP,
                category=Category.FALSE_CLAIM,
            )
        )
    session.commit()

    text = scrape(app)

    assert sample(text, "pledge_moderation_queue_depth") == 3
    assert sample(text, "pledge_moderation_awaiting_approval") == 1


def test_a_database_that_is_down_leaves_out_the_queue_but_not_the_rest(
    app: FastAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "no-such-dir" / "pledge.db"  # SQLite cannot create it: no folder
    app.state.engine = sa.create_engine(f"sqlite:///{missing}", poolclass=sa.NullPool)

    with caplog.at_level(logging.WARNING, logger="pledge.observability"):
        text = scrape(app)

    assert sample(text, "pledge_moderation_queue_depth") is None
    assert "pledge_http_requests_total" in text
    assert "counting the moderation queue failed" in caplog.text


@contextmanager
def event_stream(client: httpx2.Client, path: str) -> Iterator[httpx2.Response]:
    with client.stream("GET", path) as response:
        assert response.status_code == 200
        chunks = response.iter_raw()  # kept: a dropped iterator closes the stream
        assert next(chunks).startswith(b"retry:")  # open and subscribed
        yield response


@pytest.mark.server
def test_open_event_streams_are_a_gauge(
    live_server: LiveServer, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()
    registry = live_server.app.state.metrics.registry
    timeout = httpx2.Timeout(10.0, read=5.0)

    with (
        httpx2.Client(base_url=live_server.url, timeout=timeout) as watcher,
        httpx2.Client(base_url=live_server.url, timeout=timeout) as other,
        httpx2.Client(base_url=live_server.url, timeout=timeout) as scraper,
    ):
        with event_stream(watcher, f"/c/{view.slug}/events"):
            # Mirrored as the stream opened, before any scrape (another worker may scrape).
            assert registry.get_sample_value("pledge_live_streams") == 1
            with event_stream(other, f"/c/{view.slug}/events"):
                assert sample(scraper.get("/metrics").text, "pledge_live_streams") == 2
            wait_until(lambda: live_server.app.state.live.streams == 1)
            wait_until(lambda: registry.get_sample_value("pledge_live_streams") == 1)
        wait_until(lambda: registry.get_sample_value("pledge_live_streams") == 0)
        text = scraper.get("/metrics").text

    assert sample(text, "pledge_live_streams") == 0
    events = {"method": "GET", "route": "/c/{slug}/events", "status": "2xx"}
    assert sample(text, "pledge_http_requests_total", **events) == 2


# --- request ids and JSON logs ---------------------------------------------------------


def test_every_line_of_a_request_is_json_with_its_request_id(
    client: TestClient, make_campaign: MakeCampaign, json_log: Captured
) -> None:
    view = make_campaign()
    token = csrf_token(client, f"/c/{view.slug}")

    response = client.post(f"/c/{view.slug}/sign", data=form_data(csrf_token=token))

    request_id = response.headers["x-request-id"]
    assert HEX_ID.fullmatch(request_id)
    records = json_log.records()  # every line parses
    [line] = json_log.access(f"/c/{view.slug}/sign")
    assert line["request_id"] == request_id
    assert line["level"] == "INFO"
    assert line["method"] == "POST"
    assert line["route"] == "/c/{slug}/sign"
    assert line["status"] == 303
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["client_ip"] == "testclient"
    assert line["message"].startswith(f'testclient "POST /c/{view.slug}/sign" 303 ')
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    during = [r for r in records if r["request_id"] == request_id]
    assert during and all({"time", "level", "logger", "message"} <= r.keys() for r in during)
    # The form's own page was another request, with another id.
    [page] = json_log.access(f"/c/{view.slug}")
    assert page["request_id"] not in (None, request_id)


def test_lines_logged_by_sync_and_async_routes_carry_the_request_id(
    app: FastAPI, client: TestClient, json_log: Captured
) -> None:
    inside = logging.getLogger("pledge.test_route")

    @app.get("/test/sync-log")
    def sync_log() -> dict[str, str]:  # runs in the threadpool
        inside.warning("from a sync route")
        return {}

    @app.get("/test/async-log")
    async def async_log() -> dict[str, str]:
        inside.warning("from an async route")
        return {}

    sync_id = client.get("/test/sync-log").headers["x-request-id"]
    async_id = client.get("/test/async-log").headers["x-request-id"]

    by_message = {r["message"]: r for r in json_log.records() if r["logger"] == inside.name}
    assert by_message["from a sync route"]["request_id"] == sync_id
    assert by_message["from an async route"]["request_id"] == async_id
    assert sync_id != async_id


def test_a_safe_incoming_request_id_is_kept(client: TestClient, json_log: Captured) -> None:
    response = client.get("/privacy", headers={"X-Request-ID": "edge-7f3a.42_b"})

    assert response.headers["x-request-id"] == "edge-7f3a.42_b"
    [line] = json_log.access("/privacy")
    assert line["request_id"] == "edge-7f3a.42_b"


@pytest.mark.parametrize(
    "incoming",
    [
        'bad id\n{"x":1}',
        "a" * 65,
        "",
        "id;rm -rf /",
        "081234567890",  # ids are logged as they are: no phone number among them
    ],
)
def test_an_unsafe_incoming_request_id_is_replaced(
    client: TestClient, json_log: Captured, incoming: str
) -> None:
    response = client.get("/privacy", headers={"X-Request-ID": incoming})

    replaced = response.headers["x-request-id"]
    assert HEX_ID.fullmatch(replaced)
    [line] = json_log.access("/privacy")
    assert line["request_id"] == replaced
    assert all(incoming not in text for text in json_log.lines() if incoming)


def test_secret_path_parts_and_query_strings_stay_out_of_the_access_log(
    client: TestClient, make_campaign: MakeCampaign, json_log: Captured
) -> None:
    view = make_campaign()
    signed = sign_up(client, view, contact="rahasia@example.com")
    assert signed.headers["location"] == f"/c/{view.slug}/confirm"
    with own_session(client) as session:
        link = last_email_to(session, "rahasia@example.com").confirm_path
    secret = link.rsplit("/", 1)[1]
    # The emailed link's page, and its button
    pressed = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert pressed.status_code == 303
    thanks = pressed.headers["location"]
    assert "?outcome=new" in thanks
    token = thanks.split("/thanks/")[1].split("?")[0]

    assert client.get(thanks).status_code == 200
    client.get("/reports/SECRETCODE1?lang=en")

    [line] = json_log.access(f"/c/{view.slug}/thanks/{{token}}")
    assert line["route"] == "/c/{slug}/thanks/{token}"
    # The emailed link's secret confirms the signing and opens the supporter's own page.
    access = [r["message"] for r in json_log.records() if r["logger"] == "pledge.access"]
    assert [text for text in access if secret in text] == []
    opened, confirmed = json_log.access(f"/c/{view.slug}/confirm/{{secret}}")
    assert [opened["method"], confirmed["method"]] == ["GET", "POST"]
    assert opened["route"] == confirmed["route"] == "/c/{slug}/confirm/{secret}"
    [report] = json_log.access("/reports/{code}")
    assert report["status"] == 404
    assert all(token not in text and "SECRETCODE1" not in text for text in json_log.lines())
    assert all("outcome=" not in text and "lang=en" not in text for text in json_log.lines())


def test_text_lines_carry_the_request_id_too(client: TestClient) -> None:
    with capturing("text", logging.INFO) as captured:
        response = client.get("/privacy")

    [line] = [text for text in captured.lines() if "pledge.access" in text]
    assert f"[{response.headers['x-request-id']}]" in line
    assert line.endswith("ms") and '"GET /privacy" 200' in line


def test_the_log_format_follows_the_environment_unless_chosen() -> None:
    production = {
        "env": "production",
        "secret_key": "k" * 40,
        "public_url": "https://suara.example",
    }
    assert observability.log_format(Settings(**production)) == "json"
    assert observability.log_format(Settings(env="development")) == "text"
    assert observability.log_format(Settings(**production, log_format="TEXT")) == "text"
    assert observability.log_format(Settings(env="development", log_format="json")) == "json"
    assert Settings(log_level="WARNING").log_level == "warning"
    with pytest.raises(ValidationError):
        Settings(log_format="xml")
    with pytest.raises(ValidationError):
        Settings(log_level="loud")


# --- no contact in any log line --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("to rina.putri@example.com now", "to [redacted] now"),
        ("RINA+news@Mail.Example.co.id", "[redacted]"),
        ("call 081234567890", "call [redacted]"),
        ("call 0812 3456 7890.", "call [redacted]."),
        ("call 0812-3456-7890", "call [redacted]"),
        ("wa +62 812-3456-7890", "wa [redacted]"),
        ("wa +6281234567890", "wa [redacted]"),
        ("wa 6281234567890", "wa [redacted]"),
        ("(021) 5550-1234", "[redacted]"),
        ("contacts=['a@b.id', '+62 812 3456 7890']", "contacts=['[redacted]', '[redacted]']"),
        # Not contacts: kept as they are.
        ("GET /c/kampanye-1/sign 303 12.5ms", "GET /c/kampanye-1/sign 303 12.5ms"),
        ("client 192.168.100.200 port 50000", "client 192.168.100.200 port 50000"),
        ("on 2024-02-14 10:20:30", "on 2024-02-14 10:20:30"),
        ("123456789 supporters", "123456789 supporters"),
        ("id 12345678901234567890", "id 12345678901234567890"),
        ("pid [12345]", "pid [12345]"),
    ],
)
def test_contacts_are_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_the_handler_redacts_messages_arguments_and_tracebacks() -> None:
    logger = logging.getLogger("pledge.test_redaction")
    with capturing("json") as captured:
        logger.warning("signed by %s and %s", EMAIL, "+62 812-3456-7890")
        logger.warning("contact %(contact)s", {"contact": PHONE})
        logger.warning("number %d", 6281234567890)
        try:
            raise ValueError(f"duplicate key (contact)=({EMAIL})")
        except ValueError:
            logger.exception("insert failed")

    records = captured.records()
    assert [r["message"] for r in records] == [
        "signed by [redacted] and [redacted]",
        "contact [redacted]",
        "number [redacted]",
        "insert failed",
    ]
    assert "ValueError: duplicate key (contact)=([redacted])" in records[3]["exception"]
    assert_no_contact(captured.lines(), EMAIL)


def test_signing_and_a_failed_login_leave_no_contact_in_the_log(
    client: TestClient, make_campaign: MakeCampaign, json_log: Captured
) -> None:
    view = make_campaign()

    by_email = sign_up(client, view, contact=EMAIL, name="Rina Putri")
    by_phone = sign_up(client, view, contact=PHONE, name="Budi")
    by_intl = sign_up(client, view, contact="+62 813-9876-5432", name="Citra")
    bad_phone = sign_up(client, view, contact="0812 34", name="Dewi")
    failed = client.post(
        "/login",
        data={"email": EMAIL, "password": "wrong password", "csrf_token": csrf_token(client, "/login")},
    )  # fmt: skip

    assert [r.status_code for r in (by_email, by_phone, by_intl)] == [303, 303, 303]
    assert bad_phone.status_code == 422
    assert failed.status_code in (400, 401, 422)
    assert json_log.access("/login")[-1]["status"] == failed.status_code
    lines = json_log.lines()
    assert len(json_log.access(f"/c/{view.slug}/sign")) == 4
    assert_no_contact(lines, EMAIL, "Rina Putri", "rina.putri")
    assert all("98765432" not in re.sub(r"\D", "", line) for line in lines)


def test_a_development_invitation_is_logged_with_its_link_but_not_its_address(
    client: TestClient, session: Session, make_org: Callable[..., Any], json_log: Captured
) -> None:
    org = make_org(slug="cek-fakta")
    admin = accounts.create(
        session, email="admin@example.org", password=PASSWORD, display_name="Admin"
    )
    accounts.add_member(session, user=admin, org=org, role=Role.ADMIN)
    session.commit()
    assert login(client, "admin@example.org").status_code == 303
    members = f"/dashboard/{org.slug}/members"

    response = post_form(
        client, members, f"{members}/invite", email="baru.anggota@example.org", role="moderator"
    )

    assert response.status_code == 303
    [mail] = [r for r in json_log.records() if r["logger"] == "pledge.mail"]
    assert "/invite/" in mail["message"]
    assert mail["request_id"] == response.headers["x-request-id"]
    assert_no_contact(json_log.lines(), "baru.anggota@example.org", "admin@example.org")


# --- pledge serve with several workers -------------------------------------------------


def test_several_workers_get_a_fresh_metrics_folder_that_is_removed_afterwards(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(observability.MULTIPROC_ENV, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    with observability.multiprocess_metrics(1) as single:
        assert single is None
        assert observability.MULTIPROC_ENV not in os.environ
    with observability.multiprocess_metrics(3) as folder:
        assert folder is not None and Path(folder).parent == tmp_path
        assert os.environ[observability.MULTIPROC_ENV] == folder
        assert list(Path(folder).iterdir()) == []
    assert not Path(folder).exists()
    assert observability.MULTIPROC_ENV not in os.environ

    given = tmp_path / "chosen"
    given.mkdir()
    monkeypatch.setenv(observability.MULTIPROC_ENV, str(given))
    with observability.multiprocess_metrics(3) as folder:
        assert folder == str(given)
    assert given.is_dir()  # the operator's folder is left alone


@pytest.mark.server
def test_pledge_serve_with_two_workers_adds_up_their_metrics_and_logs_json(
    engine: sa.Engine, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != observability.MULTIPROC_ENV}
    env.update(
        PLEDGE_ENV="production",
        PLEDGE_PUBLIC_URL=url,
        PLEDGE_LOG_LEVEL="DEBUG",
        TMPDIR=str(tmp_path),
    )
    command = [sys.executable, "-m", "pledge.cli", "serve", "--workers", "2", "--port", str(port)]
    stderr = tmp_path / "stderr.log"
    requests = 24

    with stderr.open("wb") as err:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err
        )
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while True:
            assert process.poll() is None, stderr.read_text()
            assert time.monotonic() < deadline, stderr.read_text()
            try:
                if httpx2.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.05)
        [folder] = list(tmp_path.glob("pledge-metrics-*"))
        wait_until(lambda: len(list(folder.glob("counter_*.db"))) == 2)

        for n in range(requests):  # a new connection each: both workers answer some
            response = httpx2.get(
                f"{url}/api/v1/campaigns", headers={"X-Request-ID": f"probe-{n}"}, timeout=10
            )
            assert response.status_code == 200
        scrapes = [httpx2.get(f"{url}/metrics", timeout=10).text for _ in range(4)]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    api = {"method": "GET", "route": "/api/v1/campaigns", "status": "2xx"}
    for text in scrapes:
        assert sample(text, "pledge_http_requests_total", **api) == requests
        assert sample(text, "pledge_live_streams") == 0
        assert sample(text, "pledge_moderation_queue_depth") == 0
    assert process.returncode == 0, stderr.read_text()
    assert not folder.exists()

    records = [json.loads(line) for line in stderr.read_text().splitlines()]
    loggers = {r["logger"] for r in records}
    assert "uvicorn.error" in loggers
    assert "uvicorn.access" not in loggers
    access = [r for r in records if r["logger"] == "pledge.access"]
    probes = sorted(
        (r["request_id"], r["route"]) for r in access if r["path"] == "/api/v1/campaigns"
    )
    assert probes == sorted((f"probe-{n}", "/api/v1/campaigns") for n in range(requests))


# --- no forged line in either format ---------------------------------------------------

# What could start a line of its own, or play with a terminal: LF, CR, NUL, an escape sequence,
# DEL, NEL (C1), the Unicode line and paragraph separators, a vertical tab and a tab.
FORGERS = ["\n", "\r\n", "\r", "\x00", "\x1b[2J", "\x7f", "\x85", "\u2028", "\u2029", "\x0b", "\t"]
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")


@pytest.mark.parametrize("forger", FORGERS, ids=repr)
def test_a_value_cannot_start_a_line_of_its_own_in_the_text_log(forger: str) -> None:
    logger = logging.getLogger("pledge.test_forgery")
    value = f"x{forger}2026-02-14 03:12:45,120 ERROR pledge.access [-] FAKE-LINE"
    escape = observability.logs.escape_controls
    with capturing("text") as captured:
        logger.warning("path %s", value)
        logger.warning("by %(who)s from %(path)r", {"who": "Rina", "path": value})
        logger.warning("contact %s then %s", EMAIL, value)  # a value redacted beside it
        logger.warning("number %d then %s", 6281234567890, value)  # redacted in the whole line

    # str.splitlines() breaks lines at every character a reader might take for a line end.
    lines = captured.stream.getvalue().splitlines()
    assert len(lines) == 4, lines
    assert all(TIMESTAMP.match(line) for line in lines), lines
    assert all(forger not in line for line in lines)
    assert lines[0].endswith(" pledge.test_forgery [-] path " + escape(value))
    assert escape(value) != value
    assert f"contact {observability.logs.REDACTED} then x" in lines[2]
    assert f"number {observability.logs.REDACTED} then x" in lines[3]


def test_control_characters_are_written_as_their_escapes_in_the_text_log() -> None:
    logger = logging.getLogger("pledge.test_forgery")
    with capturing("text") as captured:
        logger.warning("%s|%s|%s|%s|%s", "a\nb", "c\rd", "e\x1bf", "g\x85h", "i\u2028j")
        logger.warning("object %s", ValueError("bad\nvalue"))

    lines = captured.lines()
    assert lines[0].endswith(r"a\nb|c\rd|e\x1bf|g\x85h|i\u2028j")
    assert lines[1].endswith(r"object bad\nvalue")


def test_the_text_log_keeps_the_lines_of_its_own_messages_and_tracebacks() -> None:
    logger = logging.getLogger("pledge.test_forgery")
    with capturing("text") as captured:
        logger.warning("Subject: %s\n\n%s", "Konfirmasi", "Halo\nFAKE-LINE")
        try:
            raise ValueError("bad\rFAKE\x1b[2J")
        except ValueError:
            logger.exception("failed on %s", "/c/x\nFAKE-LINE")

    lines = captured.stream.getvalue().splitlines()
    # The message's own layout stays; the value in it does not add a line.
    assert lines[:3] == [lines[0], "", r"Halo\nFAKE-LINE"]
    assert lines[0].endswith("Subject: Konfirmasi")
    failed = [n for n, line in enumerate(lines) if line.endswith(r"failed on /c/x\nFAKE-LINE")]
    assert len(failed) == 1
    traceback = lines[failed[0] + 1 :]
    assert traceback[0] == "Traceback (most recent call last):"
    assert traceback[-1] == r"ValueError: bad\rFAKE\x1b[2J"


@pytest.mark.parametrize("forger", FORGERS, ids=repr)
def test_a_json_line_holds_any_value_on_its_one_line(forger: str) -> None:
    logger = logging.getLogger("pledge.test_forgery")
    value = f"x{forger}FAKE-LINE"
    with capturing("json") as captured:
        logger.warning("path %s", value)
        try:
            raise ValueError(value)
        except ValueError:
            logger.exception("failed")

    lines = captured.stream.getvalue().splitlines()
    assert len(lines) == 2, lines
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == f"path {value}"  # escaped in the line, exact once read
    assert second["exception"].endswith(f"ValueError: {value}")
    assert all(forger not in line for line in lines)


def test_a_forged_line_in_an_address_stays_on_the_access_line(client: TestClient) -> None:
    with capturing("text", logging.INFO) as captured:
        for path in ("/c/x%0aFAKE-LINE", "/c/x%0d%0aFAKE-LINE", "/c/x%E2%80%A8FAKE-LINE"):
            client.get(path)

    lines = captured.stream.getvalue().splitlines()
    access = [line for line in lines if " pledge.access " in line]
    assert len(access) == 3, lines
    assert all(TIMESTAMP.match(line) for line in lines), lines
    assert [line.split('"')[1] for line in access] == [
        r"GET /c/x\nFAKE-LINE",
        r"GET /c/x\r\nFAKE-LINE",
        r"GET /c/x\u2028FAKE-LINE",
    ]


@pytest.mark.server
def test_pledge_serve_with_the_text_format_writes_one_line_per_request(
    database_url: str, engine: sa.Engine
) -> None:
    with app_process(
        PLEDGE_DATABASE_URL=database_url, PLEDGE_LOG_FORMAT="text", PLEDGE_LOG_LEVEL="info"
    ) as server:
        response = httpx2.get(server.url + "/c/x%0aFAKE-LINE", timeout=10)
        wait_until(lambda: "FAKE-LINE" in server.log())
        log = server.log()

    assert response.status_code in (400, 404)
    assert [line for line in log.splitlines() if "FAKE-LINE" in line and "\\n" not in line] == []
    [access] = [line for line in log.splitlines() if "FAKE-LINE" in line]
    assert TIMESTAMP.match(access) and r'"GET /c/x\nFAKE-LINE"' in access
