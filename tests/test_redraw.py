"""redraw(): a refused form's page drawn again with what was typed, a message beside each
field, 422 or the refusal's own status, and the page's headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.responses import HTMLResponse

from pledge.errors import Invalid
from pledge.web import forms as web_forms
from pledge.web import redraw


@dataclass(frozen=True)
class Drawn:
    template: str
    context: dict[str, Any]
    status_code: int
    headers: dict[str, str] | None


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[Drawn]:
    calls: list[Drawn] = []

    def render(
        request: Any,
        name: str,
        context: dict[str, Any],
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        calls.append(Drawn(name, context, status_code, headers))
        return HTMLResponse("", status_code=status_code, headers=headers)

    monkeypatch.setattr(web_forms, "render", render)
    return calls


@dataclass(frozen=True)
class NameForm:
    name: str = ""


def test_a_context_is_drawn_with_the_refusal_s_messages_and_422(drawn: list[Drawn]) -> None:
    context = {"email": "rina@", "errors": {"stale": "left from a previous draw"}}
    error = Invalid({"email": "That email address does not look right."})

    response = redraw(None, "accounts/forgot.html", context, error)  # type: ignore[arg-type]

    assert response.status_code == 422
    assert drawn == [
        Drawn(
            "accounts/forgot.html",
            {"email": "rina@", "errors": {"email": "That email address does not look right."}},
            422,
            None,
        )
    ]
    assert context["errors"] == {"stale": "left from a previous draw"}  # not changed


def test_a_form_object_is_given_as_form_with_what_else_the_page_needs(
    drawn: list[Drawn],
) -> None:
    form = NameForm(name="x" * 81)
    headers = {"Cache-Control": "no-store"}

    redraw(
        None,  # type: ignore[arg-type]
        "page.html",
        form,
        {"name": "Too long."},
        status_code=409,
        headers=headers,
        choose_again=True,
    )

    [call] = drawn
    assert call.context == {"form": form, "choose_again": True, "errors": {"name": "Too long."}}
    assert (call.status_code, call.headers) == (409, headers)
