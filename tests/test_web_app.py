"""The dashboard's assembly: every page module's routes are served, under a workspace,
with CSRF and without a place in the API description."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter
from fastapi.routing import APIRoute

import webleads.web
from tests.dashboard import api_routes
from webleads.app import create_app
from webleads.settings import Settings


def test_every_page_module_is_served() -> None:
    app = create_app(Settings(database_url="sqlite://", secret_key="x"))
    served = {(path, m) for path, r in api_routes(app) for m in r.methods}
    missing = []
    for info in pkgutil.iter_modules(webleads.web.__path__):
        module = importlib.import_module(f"webleads.web.{info.name}")
        router = getattr(module, "router", None)
        if not isinstance(router, APIRouter):
            continue
        for route in router.routes:
            if isinstance(route, APIRoute):
                missing += [(info.name, route.path, m) for m in route.methods
                            if (route.path, m) not in served]
    assert missing == [], "add the module to webleads/web/app.py PAGES"


def test_pages_live_under_a_workspace_and_out_of_the_api_description() -> None:
    app = create_app(Settings(database_url="sqlite://", secret_key="x"))
    public = {"/", "/login", "/logout", "/setup", "/reset", "/reset/{token}", "/lang",
              "/switch", "/w/{ws}", "/w/{ws}/"}
    for path, route in api_routes(app):
        if path.startswith(("/api/", "/healthz", "/readyz", "/metrics")):
            continue
        assert path in public or path.startswith("/w/{ws}/"), path
        assert not route.include_in_schema, path
