"""Posted forms in the routes: their fields, a row id in an address, and a refused form's page
drawn again with what was typed and a message beside each field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Path as PathParameter
from fastapi import Request
from fastapi.responses import HTMLResponse

from pledge.db import ID_MAX
from pledge.errors import Invalid
from pledge.forms import FIELD_MAX, form_file, form_text, form_values
from pledge.web.templates import render

__all__ = ["FIELD_MAX", "RowId", "form_file", "form_text", "form_values", "redraw"]

# A row id in an address: a number the database can hold, or the request is refused (422).
RowId = Annotated[int, PathParameter(ge=1, le=ID_MAX)]


def redraw(
    request: Request,
    template: str,
    form: Mapping[str, Any] | object,
    error: Invalid | Mapping[str, str],
    *,
    status_code: int = 422,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HTMLResponse:
    """A refused form's page drawn again: the input kept, a message beside each field to fix
    (``errors``), and 422, or the status of the refusal when it is another (409: taken).

    ``form`` is the page's context (the input under the names the template reads) or a form
    object, given to the template as ``form``; ``extra`` adds what else the page shows.
    """
    context = dict(form) if isinstance(form, Mapping) else {"form": form}
    context.update(extra)
    context["errors"] = error.errors if isinstance(error, Invalid) else dict(error)
    return render(request, template, context, status_code=status_code, headers=headers)
