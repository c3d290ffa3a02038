"""The URL map: pledge.urls lists every route of the site, and the app serves exactly those, in
that order; the routes modules hold route functions and declare no route of their own."""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute

from pledge import urls
from tests.test_architecture import GRAPH

PACKAGE = Path(urls.__file__).parent
ROUTES_MODULES = [
    importlib.import_module(f"pledge.{path.parent.name}.routes")
    for path in sorted(PACKAGE.glob("*/routes.py"))
]

Row = tuple[str | None, str, frozenset[str]]


def _row(route: Any) -> Row:
    return (route.name, route.path, frozenset(getattr(route, "methods", None) or ()))


def listed() -> list[Row]:
    """Each route pledge.urls lists, in its order: (name, path, methods)."""
    rows: list[Row] = [
        (url.handler.__name__, url.path, frozenset(url.methods)) for url in urls.OPERATIONS
    ]
    rows += [_row(route) for route in urls.LEAN_ROUTES]
    rows.append((urls.STATIC.name, urls.STATIC.path, frozenset()))
    for router in (*urls.API_ROUTERS, *urls.PAGE_ROUTERS):
        rows += [_row(route) for route in router.routes]
    return rows


def served(app: FastAPI) -> list[Row]:
    """Each route the app matches a request against, in its order (as the app walks its
    routers), but for the API description FastAPI adds itself."""
    rows = []
    for route in app.routes:
        walk = getattr(route, "effective_route_contexts", None)
        rows += [_row(found) for found in (walk() if walk else (route,))]
    return [row for row in rows if row[0] != "openapi"]


def test_the_app_serves_exactly_the_routes_of_the_url_map_in_its_order(app: FastAPI) -> None:
    rows = served(app)

    assert len(rows) > 80  # the whole site, not an empty table
    assert rows == listed()


def test_every_route_has_its_own_name_for_url_for() -> None:
    names = Counter(name for name, _path, _methods in listed())

    assert [name for name, count in names.items() if count > 1] == []
    assert None not in names


def test_the_lean_routes_come_right_after_the_health_checks_in_the_map() -> None:
    paths = [path for _name, path, _methods in listed()]

    assert paths[:3] == ["/healthz", "/readyz", "/metrics"]
    assert paths[3 : 3 + len(urls.LEAN_ROUTES)] == [route.path for route in urls.LEAN_ROUTES]
    # "/embed/{slug}" would take "x.svg" as a slug: the badge is matched first.
    assert paths.index("/embed/{slug}.svg") < paths.index("/embed/{slug}")


def test_every_handler_is_a_route_function_of_a_routes_module() -> None:
    handlers = [url.handler for url in urls.OPERATIONS]
    handlers += [route.endpoint for route in urls.LEAN_ROUTES if hasattr(route, "endpoint")]
    for router in (*urls.API_ROUTERS, *urls.PAGE_ROUTERS):
        handlers += [route.endpoint for route in router.routes if hasattr(route, "endpoint")]

    elsewhere = [
        f"{handler.__module__}.{handler.__name__}"
        for handler in handlers
        if not handler.__module__.endswith(".routes") and handler.__module__ != "pledge.operations"
    ]
    assert elsewhere == []


def _declares_routes(value: object) -> bool:
    if isinstance(value, APIRouter | BaseRoute):
        return True
    return isinstance(value, list | tuple) and any(isinstance(item, BaseRoute) for item in value)


@pytest.mark.parametrize("module", ROUTES_MODULES, ids=lambda module: module.__name__)
def test_a_routes_module_declares_no_route_of_its_own(module: ModuleType) -> None:
    declared = [name for name, value in vars(module).items() if _declares_routes(value)]

    assert declared == [], f"{module.__name__}: list these in pledge/urls.py"


def test_only_the_app_factory_imports_the_url_map() -> None:
    importers = sorted(name for name, targets in GRAPH.items() if "pledge.urls" in targets)

    assert importers == ["pledge.app"]
