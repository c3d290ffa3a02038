"""Routes: the lean routes that carry the load, and the route index links are built from."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from pledge.web.forms import checked_form


def route_index(app: Any) -> dict[str, Any]:
    """Each route by its name, found once per app: a page builds dozens of links, and the
    app's own lookup walks every route for each of them."""
    index: dict[str, Any] | None = getattr(app.state, "route_index", None)
    if index is None:
        index = {}
        for route in app.routes:
            walk = getattr(route, "effective_route_contexts", None)
            for found in walk() if walk else (route,):
                name = getattr(found, "name", None)
                if name and name not in index:
                    index[name] = found
        app.state.route_index = index
    return index


class LeanRoute(Route):
    """A plain Starlette route, for the few routes that carry the load (counters, the campaign
    page, signing).

    The app matches these right after its health checks and calls their endpoint with the
    request alone: the endpoint reads its own few parameters, and skips FastAPI's dependency
    and validation machinery, which costs more than a counter's own work. Errors are the same
    domain errors, answered by the same handlers; links come from the same route index, under
    the endpoint's name; metrics and logs name the route's template, as for any other route.
    """

    def __init__(
        self,
        path: str,
        endpoint: Callable[[Request], Awaitable[Response]],
        *,
        methods: tuple[str, ...] = ("GET",),
    ) -> None:
        super().__init__(
            path, endpoint, methods=list(methods), name=endpoint.__name__, include_in_schema=False
        )

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self  # what FastAPI's own routes note for the access log
        return match, child_scope


class LeanFormRoute(LeanRoute):
    """A lean route taking a posted form: its endpoint gets the form after the CSRF and origin
    checks (``checked_form``), as a FastAPI route that takes ``CheckedForm`` does."""

    form_check = staticmethod(checked_form)

    def __init__(
        self, path: str, endpoint: Callable[[Request, FormData], Awaitable[Response]]
    ) -> None:
        form_check = self.form_check

        async def checked(request: Request) -> Response:
            return await endpoint(request, await form_check(request))

        functools.update_wrapper(checked, endpoint)
        super().__init__(path, checked, methods=("POST",))
