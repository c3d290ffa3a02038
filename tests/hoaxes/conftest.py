"""Hoax fixtures: pictures to upload, posting the report form, people who moderate, and
cases set to a state directly in the database."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from sqlmodel import Session, col, select

from pledge.accounts import service as accounts
from pledge.accounts.models import Organization, Role, User
from pledge.campaigns.models import CampaignView
from pledge.db import utcnow
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import CaseStatus, HoaxCase, HoaxReport, Verdict
from tests.conftest import csrf_token

PASSWORD = "a long enough password"


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """The app in English, so that text checks read the English wording."""
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        client.cookies.set("lang", "en")
        yield client


@pytest.fixture
def other_client(app: FastAPI) -> Iterator[TestClient]:
    """A second person's browser."""
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        client.cookies.set("lang", "en")
        yield client


# --- pictures ------------------------------------------------------------------------


def picture(seed: int = 1, size: tuple[int, int] = (800, 600)) -> Image.Image:
    """A screenshot-like picture: blocks of colour whose layout depends on the seed."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(image)
    width, height = size
    for _ in range(14):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = x0 + rng.randrange(60, width // 2), y0 + rng.randrange(40, height // 2)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
    return image


def encoded(image: Image.Image, fmt: str = "PNG", **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def screenshot(seed: int = 1) -> bytes:
    return encoded(picture(seed))


def resized_copy(seed: int = 1) -> bytes:
    """The same screenshot after a messenger got hold of it: smaller and re-compressed."""
    image = picture(seed).resize((480, 360), Image.Resampling.BILINEAR)
    return encoded(image, "JPEG", quality=55)


# --- reports -------------------------------------------------------------------------


def report_fields(**fields: Any) -> dict[str, str]:
    """The report form as a browser posts it, without the file."""
    data: dict[str, Any] = {
        "url": "https://www.facebook.com/hoaks/posts/123",
        "platform": "facebook",
        "category": "false_claim",
        "description": "Katanya TPS dipindah, padahal tidak.",
        "province": "ID-JB",
        "contact": "",
        "consent": "on",
        "website": "",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def post_report(
    client: TestClient,
    view: CampaignView,
    *,
    image: bytes | None = None,
    filename: str = "layar.png",
    mime: str = "image/png",
    **fields: Any,
) -> Any:
    """Open the form (for the CSRF token) and post it, with a file when one is given."""
    path = f"/c/{view.slug}/report"
    data = {"csrf_token": csrf_token(client, path), **report_fields(**fields)}
    files = {"screenshot": (filename, image, mime)} if image is not None else None
    if files is None:
        # As a browser sends the form when no file was chosen: an empty file part.
        files = {"screenshot": ("", b"", "application/octet-stream")}
    return client.post(path, data=data, files=files)


def code_of(response: Any) -> str:
    assert response.status_code == 303, response.text[:800]
    location = response.headers["location"]
    assert location.startswith("/reports/"), location
    return location.removeprefix("/reports/")


MakeReport = Callable[..., HoaxReport]


@pytest.fixture
def make_report(session: Session) -> MakeReport:
    """A report submitted through the service, as the form would."""

    def make(view: CampaignView, *, image: bytes | None = None, **fields: Any) -> HoaxReport:
        values = report_fields(**fields)
        values.pop("website", None)
        report = hoaxes.submit(
            session, view=view, form=hoaxes.ReportForm(screenshot=image, **values)
        )
        assert report is not None
        return report

    return make


def fresh(session: Session) -> Session:
    """Forget what the test's session loaded, so that what the app wrote since is seen."""
    session.commit()
    session.expire_all()
    return session


def case_of(session: Session, report: HoaxReport) -> HoaxCase:
    case = fresh(session).get(HoaxCase, report.case_id)
    assert case is not None
    return case


def count(session: Session, model: Any) -> int:
    return len(fresh(session).exec(select(model)).all())


Publish = Callable[..., HoaxCase]


@pytest.fixture
def publish(session: Session) -> Publish:
    """Set a case to published directly, as moderation would after a second approval."""

    def do(
        case_id: int,
        *,
        label: Verdict = Verdict.SALAH,
        title: str = "Foto kotak suara dibakar adalah hasil rekayasa",
        explanation: str = "Foto ini sudah beredar sejak 2019.\nSumbernya bukan TPS di Indonesia.",
        fact_check_url: str | None = "https://cekfakta.example.id/kotak-suara",
        published_at: datetime | None = None,
    ) -> HoaxCase:
        case = fresh(session).get(HoaxCase, case_id)
        assert case is not None
        case.status = CaseStatus.PUBLISHED
        case.label = label
        case.public_title = title
        case.public_explanation = explanation
        case.fact_check_url = fact_check_url
        case.published_at = published_at or utcnow()
        session.add(case)
        session.commit()
        return case

    return do


def set_status(session: Session, case_id: int, status: CaseStatus, **fields: Any) -> HoaxCase:
    case = fresh(session).get(HoaxCase, case_id)
    assert case is not None
    case.status = status
    for name, value in fields.items():
        setattr(case, name, value)
    session.add(case)
    session.commit()
    return case


def published_cases(
    session: Session, make_report: MakeReport, publish: Publish, view: CampaignView, n: int
) -> list[HoaxCase]:
    """n published cases with distinct links, published a minute apart (the last newest)."""
    start = utcnow() - timedelta(days=1)
    made = []
    for i in range(n):
        report = make_report(view, url=f"https://example.com/hoaks/{i}")
        made.append(
            publish(
                report.case_id, title=f"Hoaks nomor {i}", published_at=start + timedelta(minutes=i)
            )
        )
    return made


def reports_in(session: Session, case_id: int) -> list[HoaxReport]:
    return list(
        fresh(session).exec(
            select(HoaxReport).where(HoaxReport.case_id == case_id).order_by(col(HoaxReport.id))
        )
    )


# --- people ----------------------------------------------------------------------------

MakeUser = Callable[..., User]


@pytest.fixture
def make_user(session: Session) -> MakeUser:
    counter = iter(range(1, 10_000))

    def make(org: Organization | None = None, role: Role | str = Role.MODERATOR) -> User:
        user = accounts.create(
            session,
            email=f"moderator{next(counter)}@example.org",
            password=PASSWORD,
            display_name="Moderator",
        )
        if org is not None:
            accounts.add_member(session, user=user, org=org, role=Role(role))
        session.commit()
        return user

    return make


def login(client: TestClient, user: User) -> TestClient:
    """Sign the client in as the user, through the real /login form."""
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, response.text[:500]
    return client
