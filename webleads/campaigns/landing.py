"""Landing pages of tracked e-mail links: the collect use case, plus ``wl_t``.

The tag (and the no-JavaScript pixel) send the page's address as it is, so the landing
page of a tracked link arrives with ``wl_t=NONCE`` in its URL (tracked.py).  Before the
hits go through the usual path, :class:`LinkIngest`:

- removes ``wl_t`` from every hit's ``url`` and ``referrer`` (the value is stored
  nowhere else than in ``tracked_clicks``);
- for a page view that carried one, claims the nonce for the site's workspace (once,
  within its 30 minutes) and, when that works, adds an ``identify`` hit of the
  click's contact right after the page view: the contact is then linked exactly as by
  ``wl('identify', email)`` (the visitor, this session and its earlier sessions, the
  account of its e-mail domain).  An unknown, used, expired or foreign nonce identifies
  nobody: the page view is stored, anonymous.

It costs nothing to other hits (one substring test per hit), needs no byte of the
tag, and a database error while claiming never fails the request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from msgspec.structs import replace
from sqlalchemy.engine import Engine

from webleads.campaigns import tracked
from webleads.collect.wire import WireHit
from webleads.ingest import Ingest, Outcome, Request

log = logging.getLogger("webleads.campaigns")
MARK = tracked.PARAM + "="
Claim = Callable[[str, int, datetime], "str | None"]


def make_claim(engine: Engine) -> Claim:
    """Claim a nonce in its own short transaction: the contact's e-mail, or None."""

    def claim(nonce: str, workspace_id: int, now: datetime) -> str | None:
        if not tracked.NONCE.match(nonce):
            return None
        try:
            with engine.begin() as conn:
                return tracked.claim(conn, nonce, workspace_id=workspace_id, now=now)
        except Exception:  # noqa: BLE001 - the page view is stored anyway, anonymous
            log.exception("tracked link: the landing page's wl_t could not be claimed")
            return None

    return claim


def _may_identify(site: Any, w: WireHit, req: Request) -> bool:
    """Whether this page view may identify its visitor: the same rules as the
    pipeline's (webleads/privacy/modes.py, DNT/GPC, the opt-out cookie)."""
    from webleads.collect.optout import opted_out
    from webleads.privacy.modes import consent_verdict

    if site.privacy_mode != "b2b" or consent_verdict(site.consent, w.consent) != "full":
        return False
    headers = req.headers
    if site.respect_dnt and (headers.get(b"dnt") == b"1" or headers.get(b"sec-gpc") == b"1"):
        return False
    return not opted_out(site.key, headers.get(b"cookie"))


class LinkIngest(Ingest):
    """``Ingest`` that turns the ``wl_t`` of a landing page into an identification."""

    def __init__(self, *, claim: Claim, **parts: Any) -> None:
        super().__init__(**parts)
        self._claim = claim
        self.links_identified = 0
        self.links_refused = 0

    async def accept(self, req: Request, wire: list[WireHit]) -> Outcome:
        if any(MARK in w.url or MARK in w.referrer for w in wire):
            wire = await self._landing(req, wire)
        return await super().accept(req, wire)

    async def _landing(self, req: Request, wire: list[WireHit]) -> list[WireHit]:
        site = self.sites.get(wire[0].site)
        out: list[WireHit] = []
        claimed: set[str] = set()
        for w in wire:
            url, nonce = tracked.strip_param(w.url)
            referrer, _ = tracked.strip_param(w.referrer)
            out.append(replace(w, url=url, referrer=referrer))
            if site is None or w.type != "pageview" or not nonce or nonce in claimed:
                continue
            if not _may_identify(site, w, req):
                # Audience mode, no consent, Do Not Track or opted out: the address is
                # cleaned and the click stays unclaimed (it identifies nobody).
                self.links_refused += 1
                continue
            claimed.add(nonce)
            email = await asyncio.to_thread(self._claim, nonce, site.workspace_id,
                                            req.received)
            if email is None:
                self.links_refused += 1
                continue
            self.links_identified += 1
            # The page view's sender, time and options; nothing else of the page view.
            out.append(replace(w, type="identify", url=url, referrer="", title="", name=None,
                               props=None, engaged_ms=None, email=email, traits=None))
        return out
