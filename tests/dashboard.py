"""Helpers of the dashboard tests: users, a logged-in client that sends the CSRF token."""

from __future__ import annotations

import re
from typing import Any

import httpx

from webleads.app import WebleadsApp
from webleads.db.users import Role, User
from webleads.web.security import CSRF_COOKIE

PASSWORD = "correct horse battery"


def add_user(app: WebleadsApp, email: str, *, role: Role = "admin", workspace: int | str = 1,
             install_admin: bool = False, locale: str | None = "en") -> User:
    return app.web.users.create(email, PASSWORD, name=email.split("@")[0], role=role,
                                workspace=workspace, install_admin=install_admin,
                                locale=locale)


class Browser:
    """An HTTP client of the app served on 127.0.0.1 (uvicorn in a thread) that logs in
    and adds ``csrf_token`` to every form it posts."""

    def __init__(self, app: WebleadsApp, *, lang: str = "en") -> None:
        self.app = app
        self.lang = lang

    def __enter__(self) -> Browser:
        from tests.conftest import serve_in_thread

        self.server = serve_in_thread(self.app)
        self.base = self.server.url
        self.client = httpx.Client(base_url=self.base, follow_redirects=False, timeout=30,
                                   headers={"accept": "text/html",
                                            "accept-language": self.lang})
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.server.stop()

    @property
    def csrf(self) -> str:
        if CSRF_COOKIE not in self.client.cookies:
            self.client.get("/login")
        token = self.app.web.signer.csrf_token(self.client.cookies.get(CSRF_COOKIE))
        assert token
        return token

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        return self.client.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kw)

    def htmx(self, method: str, url: str, data: dict[str, Any] | None = None) -> httpx.Response:
        return self.client.request(method, url, data=data,
                                   headers={"hx-request": "true", "x-csrf-token": self.csrf})

    def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        response = self.post("/login", {"email": email, "password": password, "next": "/"})
        assert response.status_code == 303, response.text[:500]
        return response


def text(html: str) -> str:
    """The visible text of a page, roughly: tags removed, spaces squeezed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def api_routes(app: WebleadsApp) -> list[Any]:
    """Every APIRoute of the app with its full path: FastAPI keeps included routers as
    wrappers (``original_router``), walked here recursively."""
    from fastapi.routing import APIRoute

    out: list[Any] = []

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                walk(inner.routes, prefix + route.include_context.prefix)
            elif isinstance(route, APIRoute):
                out.append((prefix + route.path, route))

    walk(list(app.api.routes), "")
    return out
