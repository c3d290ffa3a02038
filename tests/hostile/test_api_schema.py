"""The JSON API against the OpenAPI description it serves, checked by Schemathesis.

Every operation in /api/openapi.json is called with generated requests, valid and invalid,
on a database holding a live campaign with supporters and partners, a closed one, a draft,
and more published hoax verdicts than one page holds, so that real campaign slugs and real
cursors are exercised, not only 404s. Every answer must be no 5xx, with a documented status
code, the documented content type, and a body that matches the documented schema.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session

from pledge.app import create_app
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignStatus, CampaignView
from pledge.config import Settings
from pledge.db import utcnow
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import CaseStatus, HoaxCase, Verdict
from pledge.supporters.models import Signing

OPENAPI_URL = "/api/openapi.json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


SLUGS = ["suarakan-cintamu", "pemilu-damai", "kampanye-rahasia", "baru-mulai"]


def seed(
    session: Session,
    make_campaign: Callable[..., CampaignView],
    sign: Callable[..., Signing],
) -> str:
    """Campaigns in every state (SLUGS: live, closed, draft, live without supporters) and
    more published verdicts than a page holds. Returns the cursor to the second page."""
    live = make_campaign(slug="suarakan-cintamu", partners=3)
    codes = [partner.referral_code for partner in live.partners]
    for n in range(12):
        sign(
            live,
            contact=f"pendukung{n}@contoh.id",
            pledges=[p.slug for p in live.pledges[: 1 + n % 3]],
            ref=codes[n % len(codes)] if n % 4 else "",
        )
    closed = make_campaign(slug="pemilu-damai")
    sign(closed, contact="pendukung@contoh.id")
    campaigns.set_status(session, campaign=closed.campaign, status=CampaignStatus.CLOSED)
    make_campaign(status="draft", slug="kampanye-rahasia")
    make_campaign(slug="baru-mulai", partners=0, pledges=("satu-janji",))

    start = utcnow() - timedelta(days=2)
    for n in range(hoaxes.API_LIMIT_DEFAULT + 3):
        report = hoaxes.submit(
            session,
            view=live,
            form=hoaxes.ReportForm(
                url=f"https://www.facebook.com/hoaks/posts/{n}",
                platform="facebook",
                category="false_claim",
                description="Katanya TPS dipindah.",
                consent="on",
            ),
        )
        assert report is not None
        case = session.get(HoaxCase, report.case_id)
        assert case is not None
        case.status = CaseStatus.PUBLISHED
        case.label = Verdict.SALAH
        case.public_title = f"Hoaks nomor {n}"
        case.public_explanation = "Foto lama.\nBukan dari TPS mana pun."
        case.fact_check_url = "https://cekfakta.example.id/x" if n % 2 else None
        case.published_at = start + timedelta(minutes=n)
        session.add(case)
    session.commit()

    page = hoaxes.list_open_data(session, base_url="http://testserver")
    assert page.next is not None
    return page.next


# Loaded once, from the description the app serves (which needs no database); the requests
# go to the test's app, on the test's seeded database.
schema = schemathesis.openapi.from_asgi(
    OPENAPI_URL, create_app(Settings(), engine=sa.create_engine("sqlite://"))
)
SEEDED: dict[str, Any] = {}


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Real slugs, beside whatever Schemathesis generates."""
    if not path_parameters or "slug" not in path_parameters:
        return st.just(path_parameters)
    return st.sampled_from([*SLUGS, path_parameters["slug"]]).map(
        lambda slug: {**path_parameters, "slug": slug}
    )


@schema.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> Any:
    """A real cursor to the second page, beside whatever Schemathesis generates."""
    if context.operation is None or context.operation.path != "/api/v1/hoaxes":
        return st.just(query)
    generated = (query or {}).get("cursor")
    return st.sampled_from([generated, "second page", None]).map(
        lambda value: with_cursor(query, SEEDED.get("cursor") if value == "second page" else value)
    )


def with_cursor(query: dict[str, Any] | None, cursor: str | None) -> dict[str, Any]:
    out = {k: v for k, v in (query or {}).items() if k != "cursor"}
    if cursor is not None:
        out["cursor"] = cursor
    return out


@pytest.fixture
def seeded_app(
    app: FastAPI,
    session: Session,
    make_campaign: Callable[..., CampaignView],
    sign: Callable[..., Signing],
) -> FastAPI:
    SEEDED["cursor"] = seed(session, make_campaign, sign)
    return app


@schema.parametrize()
def test_api_answers_as_its_openapi_description_says(
    case: schemathesis.Case, seeded_app: FastAPI, answered: set[int]
) -> None:
    response = case.call_and_validate(checks=CHECKS, app=seeded_app)
    answered.add(response.status_code)


@pytest.fixture
def answered(request: pytest.FixtureRequest) -> Iterator[set[int]]:
    """The statuses one operation answered: its seeded data was reached, not only errors."""
    statuses: set[int] = set()
    yield statuses
    assert 200 in statuses, (request.node.name, statuses)
    if "{slug}" in request.node.name:
        assert 404 in statuses, statuses


# --- what the generated requests cannot reach -------------------------------------------


def test_every_documented_error_has_the_shape_the_api_sends(client: TestClient) -> None:
    """Errors under /api/ are {"error", "detail"}: the description must not promise another
    shape (FastAPI's default 422 body, say), or a client generated from it breaks."""
    description = client.get(OPENAPI_URL).json()
    documented = {
        (path, method, status): response["content"]["application/json"]["schema"]
        for path, methods in description["paths"].items()
        for method, operation in methods.items()
        for status, response in operation["responses"].items()
        if status.startswith("4")
    }
    assert documented, "no error is documented"
    for where, body in documented.items():
        assert body == {"$ref": "#/components/schemas/ApiError"}, where


OFFSETS = st.timedeltas(
    min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23, minutes=59)
)


@st.composite
def cursors(draw: st.DrawFn) -> str:
    """A cursor as the API writes them (base64 of "time|id"), with any time and any id."""
    moment = draw(st.datetimes(timezones=st.builds(timezone, OFFSETS) | st.none()))
    case_id = draw(st.integers() | st.sampled_from([0, 2**31 - 1, 2**31, 2**63]))
    raw = f"{moment.isoformat()}|{case_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@given(cursor=cursors())
def test_any_well_formed_cursor_gets_a_page_or_a_422(client: TestClient, cursor: str) -> None:
    response = client.get("/api/v1/hoaxes", params={"cursor": cursor})
    assert response.status_code in (200, 422), response.text[:500]
    body = response.json()
    if response.status_code == 422:
        assert body["error"] == "Invalid" and body["detail"]
    else:
        assert body == {"items": [], "next": None}


def test_a_cursor_from_the_edge_of_the_calendar_is_refused(client: TestClient) -> None:
    for stamp in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        raw = base64.urlsafe_b64encode(f"{stamp}|5".encode()).decode()
        response = client.get("/api/v1/hoaxes", params={"cursor": raw})
        assert response.status_code == 422, (stamp, response.text[:300])
    moment = datetime(2024, 1, 1, tzinfo=UTC).isoformat()
    for case_id in (2**31, 2**63, 10**20):
        raw = base64.urlsafe_b64encode(f"{moment}|{case_id}".encode()).decode()
        response = client.get("/api/v1/hoaxes", params={"cursor": raw})
        assert response.status_code == 422, (case_id, response.text[:300])
