"""Routes: the lean routes that carry the load, the route index links are built from, and the
API description that includes the lean routes."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.convertors import FloatConvertor, IntegerConvertor
from starlette.datastructures import FormData
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from pledge.web.csrf import checked_form

# What a path parameter's convertor reads it as, for the API's description.
_PARAMETER_TYPES: dict[type[Any], type[Any]] = {IntegerConvertor: int, FloatConvertor: float}


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

    A lean route of the public API passes ``openapi``: what a FastAPI route of the same path
    would be given (``summary``, ``response_model``, ``responses``, ``tags``...). The API's
    description (``api_description``) then lists it as FastAPI would list that route, with
    the path's own parameters.
    """

    def __init__(
        self,
        path: str,
        endpoint: Callable[[Request], Awaitable[Response]],
        *,
        methods: tuple[str, ...] = ("GET",),
        openapi: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            path, endpoint, methods=list(methods), name=endpoint.__name__, include_in_schema=False
        )
        self.described: APIRoute | None = (
            None if openapi is None else self._described(methods, openapi)
        )

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self  # what FastAPI's own routes note for the access log
        return match, child_scope

    def _described(self, methods: tuple[str, ...], openapi: dict[str, Any]) -> APIRoute:
        """A FastAPI route of the same path, name and parameters, for the description only:
        it is never matched, and its endpoint never called."""
        parameters = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_PARAMETER_TYPES.get(type(convertor), str),
            )
            for name, convertor in self.param_convertors.items()
        ]

        def endpoint(**_parameters: Any) -> None:
            pass  # pragma: no cover

        endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        return APIRoute(self.path, endpoint, methods=list(methods), name=self.name, **openapi)


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


def api_description(app: FastAPI) -> dict[str, Any]:
    """``app.openapi()``: what FastAPI describes, and the lean routes given ``openapi``.

    Paths are listed in alphabetical order: the lean routes, matched before all others,
    would otherwise come first, away from the other operations on the same resource."""
    if app.openapi_schema is None:
        routes = [getattr(route, "described", None) or route for route in app.routes]
        description = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            summary=app.summary,
            description=app.description,
            terms_of_service=app.terms_of_service,
            contact=app.contact,
            license_info=app.license_info,
            routes=routes,
            webhooks=app.webhooks.routes,
            tags=app.openapi_tags,
            servers=app.servers,
            separate_input_output_schemas=app.separate_input_output_schemas,
            external_docs=app.openapi_external_docs,
        )
        description["paths"] = dict(sorted(description.get("paths", {}).items()))
        app.openapi_schema = description
    return app.openapi_schema
