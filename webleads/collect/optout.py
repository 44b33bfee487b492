"""The opt-out page, ``GET /optout?site=KEY`` (and its form, ``POST /optout``), and the
opt-out cookie that the hit path honours.

A site links to this page from its privacy policy.  Opting out sets a cookie on the
tracker's own domain, ``wl_optout_<KEY>=1`` (13 months, HttpOnly; ``SameSite=None;
Secure`` over HTTPS so that it also travels with the hits a page of the site sends to
the tracker); every hit request carrying it is dropped as ``opted_out``.  Opting back
in deletes the cookie.  The page is plain HTML in French or English (``lang``, else
``Accept-Language``): no script, no external resource, a CSP that allows nothing but
its own inline style (by hash).  Docs: docs/privacy.md, "Opt-out".
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from webleads.model import Site
from webleads.sites import SiteBook

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Handler = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE_PREFIX = "wl_optout_"
COOKIE_MAX_AGE = 33_696_000  # 13 months, as the tag's cookies
MAX_FORM = 2048


def cookie_name(site_key: str) -> str:
    return COOKIE_PREFIX + site_key


def opted_out(site_key: str, cookie_header: bytes | None) -> bool:
    """Does a request's ``Cookie`` header carry the site's opt-out?"""
    if not cookie_header or b"wl_optout_" not in cookie_header:
        return False
    wanted = cookie_name(site_key).encode()
    for part in cookie_header.split(b";"):
        name, _, value = part.strip().partition(b"=")
        if name == wanted and value == b"1":
            return True
    return False


STYLE = ("body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fff}"
         "main{max-width:40rem;margin:2rem auto;padding:0 1rem}"
         "h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}"
         ".state{padding:.75rem 1rem;border-left:4px solid #0b5cad;background:#eef4fb}"
         "button{font:inherit;padding:.5rem 1rem;border:1px solid #0b5cad;border-radius:4px;"
         "background:#0b5cad;color:#fff;cursor:pointer}"
         "button:focus{outline:3px solid #f2b705;outline-offset:2px}"
         "small{color:#444}")
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Visit statistics of %(site)s: opt out",
        "intro_audience": "%(domain)s measures its audience with webleads-tracker: pages "
        "viewed, time spent, where visits come from. The measurement identifies neither "
        "you nor your organisation, and its data are kept at most 25 months.",
        "intro_b2b": "%(domain)s measures its visits with webleads-tracker: pages viewed, "
        "time spent, where visits come from. From the network address of a visit it may "
        "recognise the organisation (company, school, public body) the network belongs "
        "to, never a person on a consumer network. You are named only if you give your "
        "e-mail address yourself (a form, a link in an e-mail you received).",
        "in": "Your visits are measured in this browser.",
        "out": "You have opted out: your visits are no longer measured in this browser.",
        "opt_out": "Do not measure my visits",
        "opt_in": "Measure my visits again",
        "how": "How it works",
        "how_1": "Your choice is kept in a cookie of this server (%(host)s), in this "
        "browser only, for 13 months: choose again on each browser and device, and after "
        "deleting your cookies.",
        "how_2": "Some browsers do not send this server's cookies when you visit "
        "%(domain)s (blocked third-party cookies). The site can then offer its own "
        "opt-out button, which keeps the choice on the site itself.",
        "how_3": "Do Not Track and Global Privacy Control signals are honoured too, when "
        "the site has chosen to.",
        "bad_site": "This page needs the key of a known site (?site=KEY).",
        "forbidden": "This form can only be sent from this page.",
        "method": "Use GET or POST.",
    },
    "fr": {
        "title": "Statistiques de visite de %(site)s : opposition",
        "intro_audience": "%(domain)s mesure son audience avec webleads-tracker : pages "
        "vues, temps passé, provenance des visites. Cette mesure ne vous identifie pas, ni "
        "vous ni votre organisation, et ses données sont conservées 25 mois au plus.",
        "intro_b2b": "%(domain)s mesure ses visites avec webleads-tracker : pages vues, "
        "temps passé, provenance des visites. À partir de l'adresse réseau d'une visite, "
        "il peut reconnaître l'organisation (entreprise, école, administration) à qui "
        "appartient le réseau, jamais une personne sur un réseau grand public. Vous n'êtes "
        "nommé que si vous donnez vous-même votre adresse e-mail (un formulaire, un lien "
        "dans un e-mail reçu).",
        "in": "Vos visites sont mesurées dans ce navigateur.",
        "out": "Vous vous êtes opposé à la mesure : vos visites ne sont plus mesurées dans "
        "ce navigateur.",
        "opt_out": "Ne plus mesurer mes visites",
        "opt_in": "Mesurer à nouveau mes visites",
        "how": "Comment cela fonctionne",
        "how_1": "Votre choix est conservé dans un cookie de ce serveur (%(host)s), dans "
        "ce navigateur seulement, pendant 13 mois : refaites-le sur chaque navigateur et "
        "appareil, et après avoir effacé vos cookies.",
        "how_2": "Certains navigateurs n'envoient pas les cookies de ce serveur lorsque "
        "vous visitez %(domain)s (cookies tiers bloqués). Le site peut alors proposer son "
        "propre bouton d'opposition, qui garde le choix sur le site lui-même.",
        "how_3": "Les signaux Do Not Track et Global Privacy Control sont aussi respectés, "
        "si le site l'a choisi.",
        "bad_site": "Cette page a besoin de la clé d'un site connu (?site=CLÉ).",
        "forbidden": "Ce formulaire ne peut être envoyé que depuis cette page.",
        "method": "Utilisez GET ou POST.",
    },
}


def language(query_lang: str | None, accept_language: bytes | None) -> str:
    """fr or en: ``lang`` when given, else the first of them in Accept-Language."""
    if query_lang in TEXTS:
        return str(query_lang)
    weighted: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or b"").decode("latin-1").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in TEXTS and q > 0:
            weighted.append((-q, i, primary))
    return min(weighted)[2] if weighted else "en"


def render(site: Site, lang: str, *, out: bool, host: str) -> str:
    t = TEXTS[lang]
    e = html.escape
    values = {"site": site.name, "domain": site.domain, "host": host}
    intro = t["intro_audience" if site.privacy_mode == "audience" else "intro_b2b"]
    choice, label = ("in", t["opt_in"]) if out else ("out", t["opt_out"])
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{e(t['title'] % values)}</title><style>{STYLE}</style></head><body><main>"
        f"<h1>{e(t['title'] % values)}</h1><p>{e(intro % values)}</p>"
        f'<p class="state" role="status">{e(t["out" if out else "in"])}</p>'
        f'<form method="post" action="optout"><input type="hidden" name="site" '
        f'value="{e(site.key)}"><input type="hidden" name="lang" value="{lang}">'
        f'<button type="submit" name="choice" value="{choice}">{e(label)}</button></form>'
        f"<h2>{e(t['how'])}</h2><ul><li>{e(t['how_1'] % values)}</li>"
        f"<li>{e(t['how_2'] % values)}</li><li>{e(t['how_3'])}</li></ul>"
        "<p><small>webleads-tracker</small></p></main></body></html>"
    )


def _message(lang: str, key: str) -> str:
    t = TEXTS[lang]
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{html.escape(t[key])}</title><style>{STYLE}</style></head><body><main>"
            f"<p>{html.escape(t[key])}</p></main></body></html>")


def _csp(site: Site | None) -> bytes:
    ancestors = "'none'"
    if site is not None:  # the site may show this page in a frame of its privacy policy
        wildcard = [] if site.domain.replace(".", "").isdigit() else ["*." + site.domain]
        hosts = [site.domain, *wildcard, *site.origins]
        ancestors = "'self' " + " ".join(hosts)
    return (f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; form-action 'self'; "
            f"base-uri 'none'; frame-ancestors {ancestors}").encode()


def _same_origin(headers: dict[bytes, bytes]) -> bool:
    """A form post from this server's own page (browsers send Origin with every POST;
    a client that sends neither Origin nor Referer is not a browser page)."""
    host = headers.get(b"host", b"").decode("latin-1").lower()
    source = headers.get(b"origin") or headers.get(b"referer")
    if source is None:
        return True
    try:
        netloc = urlsplit(source.decode("latin-1")).netloc.lower()
    except ValueError:
        return False
    return bool(host) and netloc == host


def make_optout(sites: SiteBook) -> Handler:
    async def optout(scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.lower(): v for k, v in scope["headers"]}
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        method = scope["method"]
        if method == "POST":
            body = await _read_form(receive)
            query = {**query, **dict(parse_qsl(body.decode("latin-1")))}
        lang = language(query.get("lang"), headers.get(b"accept-language"))
        if method not in ("GET", "HEAD", "POST"):
            await _page(send, 405, _message(lang, "method"), lang, None,
                        [(b"allow", b"GET, POST")])
            return
        key = query.get("site", "")
        site = sites.get(key) if 0 < len(key) <= 64 else None
        if site is None:
            await _page(send, 404, _message(lang, "bad_site"), lang, None)
            return
        name = cookie_name(site.key)
        if method == "POST":
            if not _same_origin(headers):
                await _page(send, 403, _message(lang, "forbidden"), lang, site)
                return
            secure = (scope.get("scheme") == "https"
                      or headers.get(b"x-forwarded-proto") == b"https")
            flags = "; SameSite=None; Secure" if secure else "; SameSite=Lax"
            age = COOKIE_MAX_AGE if query.get("choice") == "out" else 0
            cookie = f"{name}={'1' if age else ''}; Max-Age={age}; Path=/; HttpOnly{flags}"
            location = f"optout?site={quote(site.key)}&lang={lang}"
            await send({"type": "http.response.start", "status": 303, "headers": [
                (b"location", location.encode()), (b"set-cookie", cookie.encode()),
                (b"cache-control", b"no-store"), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        out = opted_out(site.key, headers.get(b"cookie"))
        host = headers.get(b"host", b"").decode("latin-1")
        text = render(site, lang, out=out, host=host)
        await _page(send, 200, text, lang, site, head=method == "HEAD")

    return optout


async def _read_form(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    more = True
    while more and size <= MAX_FORM:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)[:MAX_FORM]


async def _page(send: Send, status: int, text: str, lang: str, site: Site | None,
                extra: list[tuple[bytes, bytes]] | None = None, *, head: bool = False) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/html; charset=utf-8"),
               (b"content-length", str(len(body)).encode()),
               (b"content-language", lang.encode()), (b"cache-control", b"no-store"),
               (b"vary", b"Accept-Language, Cookie"),
               (b"content-security-policy", _csp(site)),
               (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
               *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})
