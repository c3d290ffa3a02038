"""Reading pages as a browser shows them, and posting their forms as a browser does."""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient


def html(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def csrf_token(client: TestClient, path: str) -> str:
    """Open a page with a form, as a browser would, and read its CSRF token."""
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    field = html(response).select_one("input[name=csrf_token]")
    assert field is not None, f"no form with a CSRF token on {path}"
    return str(field["value"])


def post_form(client: TestClient, form_page: str, action: str, **fields: Any) -> Any:
    """Post a form the way a browser does: open its page first for the CSRF token."""
    return client.post(action, data={"csrf_token": csrf_token(client, form_page), **fields})


def errors_of(response: Any) -> dict[str, str]:
    """The messages shown beside each field, by field name."""
    return {
        str(p["id"]).removesuffix("-error"): p.get_text(strip=True)
        for p in html(response).select("p.error[id]")
    }


def digits(text: str) -> int:
    """A count as shown on a page (8.215 or 8,215) as a number."""
    return int(re.sub(r"\D", "", text))


def english_day(value: Any) -> str:
    """A day as the English pages write it, in Jakarta time: "6 December 2026"."""
    from pledge import i18n

    previous = i18n.get_locale()
    i18n.set_locale("en")
    try:
        return i18n.day(value)
    finally:
        i18n.set_locale(previous)
