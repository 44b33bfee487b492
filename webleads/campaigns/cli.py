"""``webleads campaigns add | list | link | report`` and ``webleads campaigns costs
import``; ``register(app)`` adds them, and the commands of cli_data.py (contacts,
deals, conversions, summaries), to the ``webleads`` command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.engine import Connection

from webleads.campaigns import links
from webleads.campaigns.attribution import Model, parse_model
from webleads.campaigns.costs import import_costs
from webleads.campaigns.messages import t
from webleads.campaigns.model import (
    Campaign,
    NewCampaign,
    format_cents,
    parse_cents,
    parse_objective,
    validate,
)
from webleads.campaigns.reports import campaign_reports
from webleads.clikit import _reading, _settings, err, out, pick_workspace
from webleads.db import campaigns as db
from webleads.db.engine import create_engine
from webleads.db.migrate import upgrade
from webleads.settings import Settings

campaigns_app = typer.Typer(no_args_is_help=True,
                            help="Campaigns: links, costs, attribution and reports.")
costs_app = typer.Typer(no_args_is_help=True, help="Costs of campaigns.")
campaigns_app.add_typer(costs_app, name="costs")

Workspace = Annotated[int | None, typer.Option(help="The workspace (needed when there are "
                                               "several).")]


def register(app: typer.Typer) -> None:
    from webleads.campaigns import cli_data  # noqa: F401 - adds its commands

    app.add_typer(campaigns_app, name="campaigns")


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _writing(settings: Settings) -> Iterator[Connection]:
    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def _workspace(conn: Connection, lang: str, workspace: int | None) -> int:
    return pick_workspace(conn, workspace, lang, t)


def _campaign(conn: Connection, ws: int, name: str, lang: str) -> Campaign:
    """The workspace's campaign of that name (or UTM value), or exit 1 saying so."""
    found = db.find_campaign(conn, ws, name)
    if found is None:
        err.print(t(lang, "no_campaign", name=name))
        raise typer.Exit(1)
    return found


def _bad(lang: str, error: object) -> typer.Exit:
    err.print(t(lang, "bad_input", error=error))
    return typer.Exit(2)


@campaigns_app.command("add")
def add(
    name: str,
    channel: Annotated[str, typer.Option(help="email, linkedin, google, event ... (a click "
                                         "id of google, bing, linkedin or facebook "
                                         "matches the campaign of that channel).")],
    objective: Annotated[str, typer.Option(help="visits, identified_accounts, mqls, "
                                           "meetings or revenue.")],
    starts: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    ends: Annotated[str, typer.Option("--to", help="Last day (included), YYYY-MM-DD.")],
    range_: Annotated[str | None, typer.Option("--range", help="The product range (page "
                                               "group) in focus.")] = None,
    budget: Annotated[str | None, typer.Option(help="e.g. 5000 or 4999.90")] = None,
    currency: Annotated[str, typer.Option(help="Three-letter code.")] = "EUR",
    utm_campaign: Annotated[str | None, typer.Option(
        "--utm-campaign", help="The utm_campaign value of its links (default: the name "
        "in lower case with dashes).")] = None,
    notes: Annotated[str, typer.Option(help="Free text.")] = "",
    workspace: Workspace = None,
) -> None:
    """Add a campaign."""
    settings = _settings()
    lang = settings.lang
    try:
        new = validate(NewCampaign(
            name=name, channel=channel, objective=parse_objective(objective),
            starts_on=_day("from", starts), ends_on=_day("to", ends), page_group=range_,
            budget_cents=parse_cents(budget) if budget else None, currency=currency,
            utm_campaign=utm_campaign or "", notes=notes))
    except ValueError as exc:
        raise _bad(lang, exc) from None
    with _writing(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        try:
            made = db.insert_campaign(conn, ws, new, now=_now())
        except ValueError as exc:
            raise _bad(lang, exc) from None
    out.print(t(lang, "added", name=made.name, id=made.id, key=made.utm_campaign))


def _day(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"--{option}: {value!r} is not a date (YYYY-MM-DD)") from None


@campaigns_app.command("list")
def list_(workspace: Workspace = None) -> None:
    """The campaigns of the workspace, in order of start."""
    settings = _settings()
    lang = settings.lang
    with _reading(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        found = db.list_campaigns(conn, ws)
    if not found:
        out.print(t(lang, "none"))
        return
    table = Table(*(t(lang, f"col_{c}") for c in ("id", "name", "channel", "range",
                                                   "objective", "dates", "budget", "utm")))
    for c in found:
        table.add_row(str(c.id), c.name, c.channel, c.page_group or "-", c.objective,
                      f"{c.starts_on} → {c.ends_on}", format_cents(c.budget_cents, c.currency),
                      c.utm_campaign)
    out.print(table)


@costs_app.command("import")
def costs_import(
    file: Annotated[Path, typer.Argument(help="CSV with the columns day,campaign,amount,"
                                         "currency (campaign: name or utm_campaign).")],
    workspace: Workspace = None,
) -> None:
    """Import daily costs; one bad line and nothing is imported."""
    settings = _settings()
    lang = settings.lang
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(t(lang, "file_error", file=file, error=exc))
        raise typer.Exit(1) from None
    with _writing(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        result = import_costs(conn, ws, text, now=_now())
    if result.errors:
        for e in result.errors:
            err.print(str(e))
        err.print(t(lang, "costs_error", count=len(result.errors)))
        raise typer.Exit(1)
    totals = ", ".join(format_cents(v, k) for k, v in sorted(result.total_cents.items()))
    out.print(t(lang, "costs_done", lines=result.lines, days=result.days, totals=totals or "-"))


@campaigns_app.command("link")
def link(
    campaign: Annotated[str, typer.Argument(help="Name, id or utm_campaign.")],
    url: Annotated[str, typer.Argument(help="The landing page.")],
    source: Annotated[str, typer.Option(help="utm_source: who shows the link.")] = "newsletter",
    medium: Annotated[str, typer.Option(help="utm_medium: email, cpc, social ...")] = "email",
    content: Annotated[str | None, typer.Option(help="utm_content.")] = None,
    term: Annotated[str | None, typer.Option(help="utm_term.")] = None,
    base: Annotated[str | None, typer.Option(help="The public address of webleads, for "
                                             "the short link.")] = None,
    workspace: Workspace = None,
) -> None:
    """Print the UTM link of a landing page and a short link /l/CODE to it."""
    settings = _settings()
    lang = settings.lang
    with _writing(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        found = _campaign(conn, ws, campaign, lang)
        try:
            made = links.create_link(conn, found, url, source=source, medium=medium,
                                     content=content, term=term, now=_now())
        except ValueError as exc:
            raise _bad(lang, exc) from None
    out.print(t(lang, "link_utm", url=made.url), soft_wrap=True)
    path = links.SHORT_PREFIX + made.code
    if base:
        out.print(t(lang, "link_short", url=base.rstrip("/") + path), soft_wrap=True)
    else:
        out.print(t(lang, "link_short_path", path=path), soft_wrap=True)


@campaigns_app.command("report")
def report(
    campaign: Annotated[str | None, typer.Argument(help="One campaign (default: all, side "
                                                   "by side).")] = None,
    model: Annotated[str, typer.Option(help="first_touch, last_touch, linear, "
                                       "position_based or time_decay.")] = "position_based",
    lookback: Annotated[int, typer.Option("--lookback-days", min=0)] = 90,
    half_life: Annotated[float, typer.Option("--half-life-days", min=0.01)] = 7.0,
    as_json: Annotated[bool, typer.Option("--json", help="JSON with every model.")] = False,
    workspace: Workspace = None,
) -> None:
    """What each campaign brought: visits, accounts, MQLs, cost, credits."""
    settings = _settings()
    lang = settings.lang
    try:
        chosen: Model = parse_model(model)
    except ValueError as exc:
        raise _bad(lang, exc) from None
    with _reading(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        wanted = None
        if campaign is not None:
            wanted = _campaign(conn, ws, campaign, lang).id
        reports = [r for r in campaign_reports(conn, ws, lookback=timedelta(days=lookback),
                                               half_life=timedelta(days=half_life))
                   if wanted is None or r.campaign.id == wanted]
    if as_json:
        out.print_json(json.dumps({"workspace": ws, "model": chosen, "lookback_days": lookback,
                                   "half_life_days": half_life,
                                   "campaigns": [r.as_dict() for r in reports]}))
        return
    if not reports:
        out.print(t(lang, "none"))
        return
    out.print(t(lang, "report_title", ws=ws, model=chosen, lookback=lookback))
    table = Table(*(t(lang, f"col_{c}") for c in (
        "name", "range", "dates", "sessions", "accounts", "new", "mqls", "sqls", "clicks",
        "won", "revenue", "cost", "cpm", "roi", "credit")))
    for r in reports:
        c = r.campaign
        roi = r.roi(chosen)
        table.add_row(c.name, c.page_group or "-", f"{c.starts_on} → {c.ends_on}",
                      str(r.sessions), str(r.identified_accounts), str(r.new_accounts),
                      str(r.mqls), str(r.sqls), str(r.clicks + r.email_clicks),
                      str(r.won_deals), format_cents(r.revenue(chosen), c.currency),
                      format_cents(r.cost_cents, c.currency),
                      format_cents(r.cost_per_mql_cents, c.currency),
                      "-" if roi is None else f"{roi:+.0%}", f"{r.credits[chosen]:.2f}")
    out.print(table)
