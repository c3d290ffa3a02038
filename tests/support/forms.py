"""The public forms filled in as a supporter would: signing a campaign, reporting a hoax."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from pledge.campaigns.models import CampaignView
from pledge.supporters.service import SignForm
from tests.support.pages import csrf_token


def sign_form(**fields: Any) -> SignForm:
    """The sign-up form as the service takes it: Rina signs one pledge, unless told."""
    values: dict[str, Any] = {
        "name": "Rina Putri",
        "contact": "rina@example.com",
        "province": "ID-JK",
        "age_ok": "on",
        "consent": "on",
        "pledges": ("tolak-politik-uang",),
    }
    values.update(fields)
    values["pledges"] = tuple(values["pledges"])
    return SignForm(**values)


def form_data(**fields: Any) -> dict[str, Any]:
    """The sign-up form as a browser posts it (a field given as None is left out)."""
    data: dict[str, Any] = {
        "name": "Rina Putri",
        "contact": "0812 3456 7890",
        "province": "ID-JK",
        "age_ok": "on",
        "consent": "on",
        "pledges": ["tolak-politik-uang"],
        "website": "",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


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
    """The tracking code of the report a post created, from where it redirects."""
    assert response.status_code == 303, response.text[:800]
    location = response.headers["location"]
    assert location.startswith("/reports/"), location
    return location.removeprefix("/reports/")
