"""Plugs the dashboard into the FastAPI application: routers, static files, error
pages, CSRF and security headers.  Pages are modules of this package, each with its
``router``; the list below is the dashboard's table of contents."""

from __future__ import annotations

import importlib
import logging
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from webleads.web.page import (
    STATIC,
    HTTPProblem,
    LoginRequired,
    Web,
    current_user,
    render,
    translator_for,
    web_of,
)
from webleads.web.security import MAX_BODY, BodyTooLarge, CsrfError, check_csrf

log = logging.getLogger("webleads.web")

# Page modules, in menu order; each has ``router`` (an APIRouter).
PAGES = (
    "webleads.web.pages_auth",
    "webleads.web.live",
    "webleads.web.accounts",
    "webleads.web.account",
    "webleads.web.overview",
    "webleads.web.funnel",
    "webleads.web.campaigns",
    "webleads.web.settings_sites",
    "webleads.web.settings_rules",
    "webleads.web.settings_team",
    "webleads.web.settings_data",
)


async def csrf_guard(request: Request) -> None:
    await check_csrf(request, web_of(request).signer)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _wants_json(request: Request) -> bool:
    return _is_api(request) or "text/html" not in request.headers.get("accept", "text/html")


def _error_page(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    t = translator_for(request, current_user(request))
    return render(request, "error.html", t=t, status=status, code=status, message=message)


def install(api: FastAPI, web: Web) -> None:
    api.state.web = web
    api.mount("/static", StaticFiles(directory=STATIC), name="static")
    for name in PAGES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a page not written yet
        router: APIRouter = module.router
        api.include_router(router, dependencies=[Depends(csrf_guard)])

    @api.exception_handler(LoginRequired)
    async def login_required(request: Request, _: LoginRequired) -> Response:
        target = "/login?next=" + quote(request.url.path + (
            "?" + request.url.query if request.url.query else ""))
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        if _is_api(request):
            return JSONResponse({"error": "authentication required"}, status_code=401)
        return Response(status_code=303, headers={"location": target})

    @api.exception_handler(HTTPProblem)
    async def problem(request: Request, exc: HTTPProblem) -> Response:
        return _error_page(request, exc.status, exc.detail)

    @api.exception_handler(CsrfError)
    async def csrf_failed(request: Request, exc: CsrfError) -> Response:
        t = translator_for(request)
        return _error_page(request, 403, str(t(
            "The form had expired or came from another site: reload the page and try again.")))

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code,
                                headers=exc.headers)
        t = translator_for(request, current_user(request))
        message = {404: t("This page does not exist."),
                   405: t("This address does not accept this kind of request.")}.get(
            exc.status_code, str(exc.detail))
        return _error_page(request, exc.status_code, str(message))

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"field": ".".join(str(p) for p in err.get("loc", ())[1:]) or "body",
             "reason": str(err.get("msg", "invalid"))}
            for err in exc.errors()[:20]
        ]
        if _wants_json(request):
            return JSONResponse({"error": "invalid request", "problems": problems},
                                status_code=422 if _is_api(request) else 400)
        t = translator_for(request, current_user(request))
        message = str(t("Invalid request: %(fields)s",
                        fields=", ".join(f"{p['field']} ({p['reason']})" for p in problems)))
        return _error_page(request, 400, message)

    @api.exception_handler(BodyTooLarge)
    async def too_large(request: Request, _: BodyTooLarge) -> Response:
        return JSONResponse({"error": "request body too large", "limit_bytes": MAX_BODY},
                            status_code=413)

    @api.exception_handler(OverflowError)
    @api.exception_handler(DataError)
    async def impossible_value(request: Request, exc: Exception) -> Response:
        # An id or number beyond what the database can hold (a 70-digit account id):
        # no such object can exist.  Routes should bound their numbers; this is the net.
        log.info("value out of the database's range on %s: %s", request.url.path, exc)
        t = translator_for(request, current_user(request))
        return _error_page(request, 404, str(t("This page does not exist.")))

    @api.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("dashboard error on %s", request.url.path)
        t = translator_for(request)
        return _error_page(request, 500, str(t(
            "Something went wrong on our side; it has been logged. Try again later.")))
