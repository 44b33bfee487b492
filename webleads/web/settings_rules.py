"""Settings › Scoring: the workspace's behaviour rules, fit rules and thresholds, in
words; add, edit and remove a rule, change the thresholds — each change is previewed
(what it does to the current accounts) before it is saved, and saving rescores the
workspace as ``webleads rescore`` does.  Admins and marketers.

This module also mounts the Alerts (``settings_alerts``) and Deliveries
(``settings_deliveries``) tabs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from webleads.db import scoring as scoring_db
from webleads.db.engine import read_only
from webleads.scoring import background
from webleads.scoring import preview as previewing
from webleads.scoring.fit import HEADCOUNT_BANDS, FitRule
from webleads.scoring.rules import Rule
from webleads.scoring.setup import Setup, current_setup, save
from webleads.web import scoring_forms as forms
from webleads.web.page import Ctx, HTTPProblem, pick, workspace_ctx
from webleads.web.settings_alerts import router as alerts_router
from webleads.web.settings_deliveries import router as deliveries_router
from webleads.web.settings_forms import Fields

router = APIRouter(include_in_schema=False)
router.include_router(alerts_router)
router.include_router(deliveries_router)

CtxDep = Annotated[Ctx, Depends(workspace_ctx)]
RuleId = Annotated[int, Path(ge=1, le=2 ** 62)]
Kind = Literal["rules", "fit"]
AnyRule = Rule | FitRule


def editor(ctx: Ctx) -> None:
    """Scoring, alerts and deliveries: admins and marketers (sales reps read, they do not
    change settings)."""
    ctx.require("admin", "marketer")


def _load(engine: Engine, workspace_id: int) -> Setup:
    now = datetime.now(UTC)
    with read_only(engine) as conn:  # seeded already: current_setup only reads
        if scoring_db.load_state(conn, workspace_id) is not None:
            return current_setup(conn, workspace_id, now=now)
    with engine.begin() as conn:  # first use: the default rules are written
        return current_setup(conn, workspace_id, now=now)


def _preview(engine: Engine, workspace_id: int, current: Setup, candidate: Setup
             ) -> previewing.Preview:
    with engine.connect() as conn:
        return previewing.preview(conn, workspace_id, current, candidate,
                                  now=datetime.now(UTC))


async def load(ctx: Ctx) -> Setup:
    return await run_in_threadpool(_load, ctx.engine, ctx.workspace_id)


async def preview(ctx: Ctx, current: Setup, candidate: Setup) -> previewing.Preview:
    return await run_in_threadpool(_preview, ctx.engine, ctx.workspace_id, current, candidate)


async def save_and_rescore(ctx: Ctx, candidate: Setup, action: str,
                           details: dict[str, Any]) -> Response:
    """Save, then rescore: in the background under ``webleads serve`` (its worker
    thread; the page answers at once), else in the request (embedded use)."""
    worker = ctx.web.rescores
    report = await run_in_threadpool(
        lambda: save(ctx.engine, ctx.workspace_id, candidate, actor=ctx.user.email,
                     action=action, details=details, now=datetime.now(UTC),
                     later=worker is not None))
    if worker is not None:
        worker.wake()
        return ctx.redirect("/settings/scoring", flash=str(ctx.t(
            "Saved. The scores are being computed again from past visits, in the "
            "background: accounts show their new scores within a minute or so.")))
    hits = report.hits if report else 0
    return ctx.redirect("/settings/scoring", flash=str(ctx.t(
        "Saved. The scores were computed again from %(hits)s past hits.",
        hits=ctx.t.number(hits))))


def _rescore_status(engine: Engine, workspace_id: int) -> background.RescoreStatus | None:
    with read_only(engine) as conn:
        return background.status(conn, workspace_id, now=datetime.now(UTC))


def _missing(ctx: Ctx) -> HTTPProblem:
    return HTTPProblem(404, str(ctx.t("This rule does not exist, or belongs to another "
                                      "workspace.")))


def _kind(ctx: Ctx, value: str) -> Kind:
    if value == "rules":
        return "rules"
    if value == "fit":
        return "fit"
    raise _missing(ctx)


def _find(ctx: Ctx, setup: Setup, kind: Kind, rule_id: int) -> AnyRule:
    items: tuple[AnyRule, ...] = setup.rules if kind == "rules" else setup.fit
    for rule in items:
        if rule.id == rule_id:
            return rule
    raise _missing(ctx)


def _with(setup: Setup, kind: Kind, rule: AnyRule | None, *, replacing: int | None = None,
          removing: int | None = None) -> Setup:
    """``setup`` with ``rule`` added (or in place of rule ``replacing``), or without rule
    ``removing``."""
    items: list[AnyRule] = list(setup.rules if kind == "rules" else setup.fit)
    if removing is not None:
        items = [r for r in items if r.id != removing]
    elif replacing is not None:
        items = [rule if r.id == replacing and rule is not None else r for r in items]
    elif rule is not None:
        items.append(rule)
    if kind == "rules":
        return replace(setup, rules=tuple(r for r in items if isinstance(r, Rule)))
    return replace(setup, fit=tuple(r for r in items if isinstance(r, FitRule)))


def rule_values(rule: AnyRule | None, kind: Kind) -> dict[str, Any]:
    """A rule as the values of its form (new: sensible defaults)."""
    if rule is None:
        return ({"points": "10", "enabled": "on", "types": ["pageview"], "cap": "1",
                 "per": "day"} if kind == "rules" else {"points": "10", "enabled": "on"})
    values: dict[str, Any] = {"label": rule.label, "label_fr": rule.label_fr or "",
                              "points": str(rule.points), "name": rule.name,
                              "enabled": "on" if rule.enabled else ""}
    when = rule.when.as_dict()
    for key, value in when.items():
        values[key] = list(value) if key in ("types", "source_class", "headcount",
                                             "category") else (
            ", ".join(value) if isinstance(value, list) else value)
    for key in ("returning", "in_target"):
        if key in when:
            values[key] = "yes" if when[key] else "no"
    if "min_engaged_ms" in when:
        values["min_engaged_s"] = f"{when['min_engaged_ms'] / 1000:g}"
    if isinstance(rule, Rule) and rule.cap is not None:
        values.update(cap=str(rule.cap), per=rule.per or "")
    return values


def threshold_values(setup: Setup) -> dict[str, str]:
    return {"half_life_days": f"{setup.half_life_days:g}", "grade_a": str(setup.grades.a),
            "grade_b": str(setup.grades.b), "grade_c": str(setup.grades.c),
            "engaged": f"{setup.stages.engaged:g}", "mql": f"{setup.stages.mql:g}"}


# -- the page --------------------------------------------------------------------------------

@router.get("/w/{ws}/settings/scoring")
async def scoring_page(ctx: CtxDep) -> Response:
    editor(ctx)
    setup = await load(ctx)
    return ctx.render("settings_rules/scoring.html", setup=setup,
                      values=threshold_values(setup), errors={}, preview=None,
                      rescoring=await run_in_threadpool(_rescore_status, ctx.engine,
                                                        ctx.workspace_id))


@router.post("/w/{ws}/settings/scoring/thresholds")
async def thresholds(ctx: CtxDep) -> Response:
    editor(ctx)
    setup = await load(ctx)
    f = Fields(await ctx.request.form(), ctx.t)
    action = pick(("preview", "save"), f.text("action", max_len=20), "preview")
    parsed = forms.parse_thresholds(f)
    if parsed is None:
        return ctx.render("settings_rules/scoring.html", status=400, setup=setup,
                          values=f.values, errors=f.errors, preview=None)
    half_life, grades, stage_thresholds = parsed
    candidate = replace(setup, half_life_days=half_life, grades=grades, stages=stage_thresholds)
    if action == "save":
        return await save_and_rescore(ctx, candidate, "scoring.thresholds", {
            "half_life_days": half_life, "grades": [grades.a, grades.b, grades.c],
            "engaged": stage_thresholds.engaged, "mql": stage_thresholds.mql})
    return ctx.render("settings_rules/scoring.html", setup=setup, values=f.values, errors={},
                      preview=await preview(ctx, setup, candidate))


# -- one rule: add, edit, remove -------------------------------------------------------------

def _form_page(ctx: Ctx, kind: Kind, rule: AnyRule | None, values: dict[str, Any],
               errors: dict[str, str], result: previewing.Preview | None,
               status: int = 200) -> Response:
    return ctx.render("settings_rules/rule_form.html", status=status, kind=kind, rule=rule,
                      values=values, errors=errors, preview=result,
                      headcount_bands=list(HEADCOUNT_BANDS.items()))


@router.get("/w/{ws}/settings/scoring/{kind}/new")
async def new_rule_page(ctx: CtxDep, kind: str) -> Response:
    editor(ctx)
    chosen = _kind(ctx, kind)
    return _form_page(ctx, chosen, None, rule_values(None, chosen), {}, None)


@router.get("/w/{ws}/settings/scoring/{kind}/{rule_id}")
async def edit_rule_page(ctx: CtxDep, kind: str, rule_id: RuleId) -> Response:
    editor(ctx)
    chosen = _kind(ctx, kind)
    rule = _find(ctx, await load(ctx), chosen, rule_id)
    return _form_page(ctx, chosen, rule, rule_values(rule, chosen), {}, None)


async def _submit(ctx: Ctx, kind: Kind, rule_id: int | None) -> Response:
    setup = await load(ctx)
    existing = _find(ctx, setup, kind, rule_id) if rule_id is not None else None
    f = Fields(await ctx.request.form(), ctx.t)
    action = pick(("preview", "save"), f.text("action", max_len=20), "preview")
    items: tuple[AnyRule, ...] = setup.rules if kind == "rules" else setup.fit
    others = [r for r in items if r.id != rule_id]
    if existing is not None:
        name = existing.name
    else:
        name = f.text("name", max_len=100) or forms.slug(f.text("label"),
                                                         (r.name for r in items))
    rule: AnyRule | None
    if kind == "rules":
        rule = forms.parse_behaviour(f, name, [r for r in others if isinstance(r, Rule)])
    else:
        rule = forms.parse_fit(f, name, [r for r in others if isinstance(r, FitRule)])
    if rule is None:
        return _form_page(ctx, kind, existing, f.values, f.errors, None, status=400)
    if existing is not None:
        rule = replace(rule, id=existing.id)
    candidate = _with(setup, kind, rule, replacing=rule_id)
    if action == "save":
        return await save_and_rescore(
            ctx, candidate, f"scoring.{'rule' if kind == 'rules' else 'fit'}."
            f"{'edit' if existing else 'add'}", {"rule": rule.as_dict()})
    return _form_page(ctx, kind, existing, f.values, {},
                      await preview(ctx, setup, candidate))


@router.post("/w/{ws}/settings/scoring/{kind}/new")
async def new_rule(ctx: CtxDep, kind: str) -> Response:
    editor(ctx)
    return await _submit(ctx, _kind(ctx, kind), None)


@router.post("/w/{ws}/settings/scoring/{kind}/{rule_id}")
async def edit_rule(ctx: CtxDep, kind: str, rule_id: RuleId) -> Response:
    editor(ctx)
    return await _submit(ctx, _kind(ctx, kind), rule_id)


@router.get("/w/{ws}/settings/scoring/{kind}/{rule_id}/remove")
async def remove_rule_page(ctx: CtxDep, kind: str, rule_id: RuleId) -> Response:
    editor(ctx)
    chosen = _kind(ctx, kind)
    setup = await load(ctx)
    rule = _find(ctx, setup, chosen, rule_id)
    result = await preview(ctx, setup, _with(setup, chosen, None, removing=rule_id))
    return ctx.render("settings_rules/remove.html", kind=chosen, rule=rule, preview=result)


@router.post("/w/{ws}/settings/scoring/{kind}/{rule_id}/remove")
async def remove_rule(ctx: CtxDep, kind: str, rule_id: RuleId) -> Response:
    editor(ctx)
    chosen = _kind(ctx, kind)
    setup = await load(ctx)
    rule = _find(ctx, setup, chosen, rule_id)
    return await save_and_rescore(
        ctx, _with(setup, chosen, None, removing=rule_id),
        f"scoring.{'rule' if chosen == 'rules' else 'fit'}.remove", {"rule": rule.as_dict()})
