"""Settings: the data sources of the identification (with their licences and
attributions), the workspace's network overrides, and the audit log.

Roles: everyone sees the data sources (their attributions are owed to every reader of
the product); admins and marketers add and remove overrides (sales reps see them);
only admins read the audit log.  Adding or removing an override re-identifies the
stored hits of its network with today's network data and rescores the accounts they
leave or join (``webleads networks reidentify`` refreshes every hit).
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.engine import Engine

from webleads.db import overrides as overrides_db
from webleads.db import site_activity as q
from webleads.db.engine import read_only
from webleads.db.reidentify import ReidentifyReport, reidentify
from webleads.networks.overrides import OVERRIDE_CATEGORIES, ROLES, Override, OverrideBook
from webleads.networks.sources import status_rows
from webleads.privacy.audit import record_audit
from webleads.scoring.rescore import rescore_moved
from webleads.settings import Settings
from webleads.web.i18n import Translator
from webleads.web.page import Ctx, HTTPProblem, pick, workspace_ctx

router = APIRouter(include_in_schema=False)

AUDIT_PAGE = 50
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9-]+(\.[a-z0-9-]+)+$")
LIMITS = {"target": 49, "organisation": 300, "domain": 253, "note": 1000}


# -- use cases ---------------------------------------------------------------------------------

def save_override(engine: Engine, settings: Settings, override: Override, *, by: str,
                  now: datetime) -> tuple[int, ReidentifyReport]:
    """Add (or replace) an override, audited, then re-identify the workspace's hits."""
    with engine.begin() as conn:
        new_id = overrides_db.upsert_override(conn, override, now=now, created_by=by)
        record_audit(conn, workspace_id=override.workspace_id, actor=by, action="override.add",
                     target=f"network:{override.target}",
                     details={"role": override.role, "organisation": override.organisation,
                              "domain": override.domain, "category": override.category},
                     now=now)
    return new_id, _reidentify(engine, settings, override.workspace_id, override)


def remove_override(engine: Engine, settings: Settings, workspace_id: int, override_id: int,
                    *, by: str, now: datetime) -> ReidentifyReport | None:
    """Remove an override of the workspace (None: no such override there)."""
    with engine.begin() as conn:
        found = next((o for o in overrides_db.load_overrides(conn, workspace_id)
                      if o.id == override_id), None)
        if found is None or not overrides_db.delete_override(conn, workspace_id, override_id):
            return None
        record_audit(conn, workspace_id=workspace_id, actor=by, action="override.remove",
                     target=f"network:{found.target}", details={"role": found.role}, now=now)
    return _reidentify(engine, settings, workspace_id, found)


def _reidentify(engine: Engine, settings: Settings, workspace_id: int,
                override: Override) -> ReidentifyReport:
    """The stored hits of ``override``'s network identified again (today's network data
    and the workspace's overrides), and the accounts and contacts they left or joined
    rescored (the points follow the hits).  Other hits keep their identification:
    ``webleads networks reidentify`` refreshes them all with new network data."""
    from webleads.app import make_resolver

    book = OverrideBook(engine)
    book.refresh(force=True)
    report = reidentify(engine, make_resolver(settings), book, workspace_id=workspace_id,
                        only=override)
    if report.hits_changed:
        rescore_moved(engine, workspace_id, accounts=report.accounts_touched,
                      sessions_moved=report.sessions_touched, now=datetime.now(UTC))
    return report


# -- data sources and overrides ------------------------------------------------------------------

def _data_page(ctx: Ctx, *, status: int = 200, errors: dict[str, str] | None = None,
               values: dict[str, str] | None = None) -> Response:
    settings = ctx.web.settings
    rows = status_rows(settings.data_dir, enabled=settings.network_data == "shipped")
    with read_only(ctx.engine) as conn, conn.begin():
        found = overrides_db.load_overrides(conn, ctx.workspace_id)
    return ctx.render("settings/data.html", status=status, sources=rows, overrides=found,
                      roles=ROLES, categories=OVERRIDE_CATEGORIES, role_texts=role_texts(ctx.t),
                      role_names=role_names(ctx.t), category_names=category_names(ctx.t),
                      layer_names=layer_names(ctx.t),
                      errors=errors or {}, values=values or {"role": "office"},
                      network_data=settings.network_data,
                      can_edit=ctx.can("admin", "marketer"))


@router.get("/w/{ws}/settings/data")
async def data_page(ctx: Annotated[Ctx, Depends(workspace_ctx)]) -> Response:
    return _data_page(ctx)


def role_names(t: Translator) -> dict[str, str]:
    return {"office": t("Our office"), "customer": t("Customer"), "partner": t("Partner"),
            "competitor": t("Competitor"), "isp": t("Internet access provider"),
            "organisation": t("Organisation")}


def category_names(t: Translator) -> dict[str, str]:
    return {"enterprise": t("Company"), "education": t("Education and research"),
            "government": t("Public body"), "isp": t("Internet access provider"),
            "mobile": t("Mobile network"), "hosting": t("Hosting and cloud"),
            "anonymizer": t("VPN or anonymiser"), "bot": t("Robot")}


def layer_names(t: Translator) -> dict[str, str]:
    return {"asn": t("Networks (ASN)"), "country": t("Country"), "ranges": t("Address ranges"),
            "registry": t("Registry assignments"), "curated": t("Curated networks"),
            "e-mail": t("E-mail domains")}


def role_texts(t: Translator) -> dict[str, str]:
    return {
        "office": t("Your own offices: their visits are not counted."),
        "customer": t("A customer of yours: visits are credited to it."),
        "partner": t("A partner: visits are credited to it."),
        "competitor": t("A competitor: visits are credited to it, and marked."),
        "isp": t("An internet provider: its visitors stay anonymous."),
        "organisation": t("The right organisation for this network (a correction)."),
    }


def _parse_override(ctx: Ctx, form: Any) -> tuple[Override | None, dict[str, str],
                                                    dict[str, str]]:
    values = {name: (form.get(name) if isinstance(form.get(name), str) else "").strip()
              for name in ("target", "role", "organisation", "domain", "category", "note")}
    errors: dict[str, str] = {}
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            errors[name] = ctx.t("At most %(n)s characters.", n=limit)
            values[name] = values[name][:limit]
        elif _CONTROL.search(values[name]):
            errors[name] = ctx.t("This field holds control characters: type it again.")
    target = values["target"]
    digits = target.upper().removeprefix("AS")
    is_asn = digits.isascii() and digits.isdigit()
    if not target:
        errors.setdefault("target", ctx.t("Give a network (192.0.2.0/24) or an AS number "
                                          "(AS64500)."))
    elif is_asn and len(digits) > 10:
        errors.setdefault("target", ctx.t("This AS number is out of range."))
    role = pick(ROLES, values["role"], "")
    if not role:
        errors.setdefault("role", ctx.t("Choose a role from the list."))
    category = values["category"] or None
    if category is not None and category not in OVERRIDE_CATEGORIES:
        errors.setdefault("category", ctx.t("Choose a category from the list."))
    domain = values["domain"].lower() or None
    if domain is not None and not _HOST.match(domain):
        errors.setdefault("domain", ctx.t("Write a web domain, like acme.example."))
    if errors:
        return None, errors, values
    try:
        override = Override(
            workspace_id=ctx.workspace_id, role=role, organisation=values["organisation"] or None,
            domain=domain, category=category, note=values["note"],
            cidr=None if is_asn else target, asn=int(digits) if is_asn else None)
    except ValueError as exc:
        return None, _override_errors(ctx.t, str(exc)), values
    return override, {}, values


def _override_errors(t: Translator, text: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    for problem in text.split("; "):
        if problem.startswith(("cidr:", "asn:", "give exactly")):
            errors.setdefault("target", t("This is neither a network (192.0.2.0/24) nor an AS "
                                          "number (AS64500)."))
        elif problem.startswith("role ") and "needs" in problem:
            errors.setdefault("organisation", t("Customers, partners and competitors need "
                                                "an organisation name or a domain."))
        elif problem.startswith("category:"):
            errors.setdefault("category", t("Choose a category from the list."))
        else:
            errors.setdefault("role", t("Choose a role from the list."))
    return errors


@router.post("/w/{ws}/settings/data/overrides")
async def add_override(request: Request, ctx: Annotated[Ctx, Depends(workspace_ctx)]
                       ) -> Response:
    ctx.require("admin", "marketer")
    override, errors, values = _parse_override(ctx, await request.form())
    if override is None:
        return _data_page(ctx, status=400, errors=errors, values=values)
    _, report = await asyncio.to_thread(save_override, ctx.engine, ctx.web.settings, override,
                                        by=ctx.user.email[:200], now=datetime.now(UTC))
    return ctx.redirect("/settings/data", flash=ctx.t(
        "Override of %(target)s saved; %(changed)s of the %(seen)s stored hits of this "
        "network re-identified.",
        target=override.target, changed=report.hits_changed,
        seen=report.hits_seen).unescape())


@router.post("/w/{ws}/settings/data/overrides/{override_id}/remove")
async def delete_override(ctx: Annotated[Ctx, Depends(workspace_ctx)],
                          override_id: int) -> Response:
    with read_only(ctx.engine) as conn, conn.begin():
        known = any(o.id == override_id  # compared in Python: any int is safe
                    for o in overrides_db.load_overrides(conn, ctx.workspace_id))
    if not known:
        raise HTTPProblem(404, str(ctx.t("This override does not exist in this workspace.")))
    ctx.require("admin", "marketer")
    report = await asyncio.to_thread(remove_override, ctx.engine, ctx.web.settings,
                                     ctx.workspace_id, override_id, by=ctx.user.email[:200],
                                     now=datetime.now(UTC))
    if report is None:
        raise HTTPProblem(404, str(ctx.t("This override does not exist in this workspace.")))
    return ctx.redirect("/settings/data", flash=ctx.t(
        "Override removed; %(changed)s of the %(seen)s stored hits of its network "
        "re-identified.",
        changed=report.hits_changed, seen=report.hits_seen).unescape())


# -- audit log -------------------------------------------------------------------------------

@router.get("/w/{ws}/settings/audit")
async def audit_page(ctx: Annotated[Ctx, Depends(workspace_ctx)], page: int = 1,
                     action: str | None = None) -> Response:
    ctx.require("admin")
    with read_only(ctx.engine) as conn, conn.begin():
        actions = q.audit_actions(conn, ctx.workspace_id)
        chosen = pick(actions, action, "") or None
        total = q.audit_count(conn, ctx.workspace_id, action=chosen)
        pages = max(1, -(-total // AUDIT_PAGE))
        current = min(max(page, 1), pages)
        rows = q.audit_page(conn, ctx.workspace_id, offset=(current - 1) * AUDIT_PAGE,
                            limit=AUDIT_PAGE, action=chosen)
    return ctx.render("settings/audit.html", rows=rows, actions=actions, action=chosen or "",
                      page=current, pages=pages, total=total, details=_details)


def _details(details: dict[str, Any]) -> str:
    """An entry's details, short: ``key: value`` pairs."""
    parts = [f"{k}: {json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v}"
             for k, v in sorted(details.items()) if v not in (None, "", [], {})]
    text = "; ".join(parts)
    return text if len(text) <= 400 else text[:399] + "…"
