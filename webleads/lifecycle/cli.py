"""``webleads stage | owners | assign | alerts | digest | account`` and
``webleads accounts late``: adding, listing, changing and removing; every command that
names a rule or an owner works inside one workspace (``--workspace``).
``register(app)`` adds them to the ``webleads`` command."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, TypeVar

import typer
from rich.table import Table
from sqlalchemy.engine import Connection, Engine

from webleads.clikit import _reading, _settings, err, out, pick_workspace
from webleads.db import lifecycle as db
from webleads.db.engine import create_engine
from webleads.db.migrate import upgrade
from webleads.lifecycle import actions
from webleads.lifecycle.digest import build_digests, default_day
from webleads.lifecycle.messages import t
from webleads.lifecycle.model import DEFAULT_TIMEZONE
from webleads.settings import Settings

stage_app = typer.Typer(no_args_is_help=True, help="Lifecycle stages of accounts.")
owners_app = typer.Typer(no_args_is_help=True, help="Sales owners of accounts.")
assign_app = typer.Typer(no_args_is_help=True, help="Assignment of accounts to owners.")
rule_app = typer.Typer(no_args_is_help=True, help="Assignment rules (first match wins).")
assign_app.add_typer(rule_app, name="rule")
alerts_app = typer.Typer(no_args_is_help=True, help="Alert rules.")
digest_app = typer.Typer(no_args_is_help=True, help="The daily digest per owner.")
account_app = typer.Typer(no_args_is_help=True, help="One account: first touch.")

Workspace = Annotated[int | None, typer.Option(help="The workspace (needed when there are "
                                               "several).")]
_T = TypeVar("_T")


def register(app: typer.Typer) -> None:
    app.add_typer(stage_app, name="stage")
    app.add_typer(owners_app, name="owners")
    app.add_typer(assign_app, name="assign")
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(digest_app, name="digest")
    app.add_typer(account_app, name="account")
    # ``webleads accounts`` belongs to the scoring; ``late`` joins it.
    from webleads.scoring.cli import accounts_app
    accounts_app.command("late")(late)


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _writing(settings: Settings) -> Iterator[Connection]:
    engine = _engine(settings)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def _engine(settings: Settings) -> Engine:
    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    upgrade(engine)
    return engine


def _workspace(conn: Connection, lang: str, workspace: int | None) -> int:
    return pick_workspace(conn, workspace, lang, t)


def _checked(lang: str, call: Callable[[], _T]) -> _T:
    """Run a use case; bad input and unknown accounts end the command with a message."""
    try:
        return call()
    except actions.NotFound as exc:
        err.print(t(lang, f"no_{exc.what}", id=exc.key))
        raise typer.Exit(1) from None
    except ValueError as exc:
        err.print(f"{t(lang, 'bad_input', field='')}{exc}")
        raise typer.Exit(2) from None


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


# -- stages --------------------------------------------------------------------------------

@stage_app.command("set")
def stage_set(
    account_id: Annotated[int, typer.Argument(metavar="ACCOUNT_ID")],
    stage: Annotated[str, typer.Argument(help="anonymous, engaged, mql, sql, opportunity, "
                                         "customer, disqualified or lost.")],
    by: Annotated[str, typer.Option(help="Who moves the account.")] = "cli",
    reason: Annotated[str, typer.Option(help="Why (kept in the history).")] = "",
) -> None:
    """Set an account's stage by hand (automatic transitions then leave it alone)."""
    settings = _settings()
    lang = settings.lang
    with _writing(settings) as conn:
        previous, new = _checked(lang, lambda: actions.move_stage(
            conn, account_id, stage, by=by, reason=reason, now=_now()))
    out.print(t(lang, "stage_set", id=account_id, previous=previous or "-", stage=new, by=by))


@stage_app.command("history")
def stage_history(account_id: Annotated[int, typer.Argument(metavar="ACCOUNT_ID")]) -> None:
    """Every stage change of an account, oldest first."""
    settings = _settings()
    lang = settings.lang
    with _reading(settings) as conn:
        lines = db.history(conn, account_id)
    if not lines:
        out.print(t(lang, "history_none", id=account_id))
        return
    table = Table(*(t(lang, f"col_{c}") for c in ("at", "from", "to", "by", "reason")))
    for x in lines:
        table.add_row(_when(x.at), x.from_stage or "-", x.to_stage, x.by, x.reason)
    out.print(table)


@stage_app.command("thresholds")
def stage_thresholds(
    engaged: Annotated[float | None, typer.Option(help="Score at which an account becomes "
                                                  "engaged (default 10).")] = None,
    mql: Annotated[float | None, typer.Option(help="Score at which an account becomes an "
                                              "MQL (default 50).")] = None,
    workspace: Workspace = None,
) -> None:
    """Show the score thresholds of the automatic stages, or change them."""
    settings = _settings()
    lang = settings.lang
    if engaged is None and mql is None:
        with _reading(settings) as conn:
            ws = _workspace(conn, lang, workspace)
            found = db.read_settings(conn, ws).thresholds
    else:
        with _writing(settings) as conn:
            ws = _workspace(conn, lang, workspace)
            found = _checked(lang, lambda: actions.set_thresholds(
                conn, ws, engaged=engaged, mql=mql, now=_now()))
    out.print(t(lang, "thresholds", ws=ws, engaged=f"{found.engaged:g}", mql=f"{found.mql:g}"))


@stage_app.command("sla")
def stage_sla(
    hours: Annotated[list[str] | None, typer.Argument(
        metavar="[STAGE=HOURS]...", help="e.g. mql=12 sql=48; STAGE=off removes the SLA of "
        "that stage.")] = None,
    workspace: Workspace = None,
) -> None:
    """Show the first-touch SLA per stage, or change it for the stages given."""
    settings = _settings()
    lang = settings.lang
    if not hours:
        with _reading(settings) as conn:
            ws = _workspace(conn, lang, workspace)
            sla = db.read_settings(conn, ws).sla_hours
    else:
        changes = _checked(lang, lambda: actions.parse_sla(hours))
        with _writing(settings) as conn:
            ws = _workspace(conn, lang, workspace)
            sla = _checked(lang, lambda: actions.update_sla(conn, ws, changes, now=_now()))
    if not sla:
        out.print(t(lang, "sla_none", ws=ws))
        return
    table = Table(t(lang, "col_stage"), t(lang, "col_hours"))
    for stage in (s for s in actions.STAGES if s in sla):
        table.add_row(stage, f"{sla[stage]:g}")
    out.print(t(lang, "sla_title", ws=ws))
    out.print(table)


# -- owners and assignment -----------------------------------------------------------------

@owners_app.command("add")
def owners_add(
    name: str, email: str,
    team: Annotated[str | None, typer.Option(help="A team, for round robin.")] = None,
    language: Annotated[str, typer.Option(help="fr or en: the language of their "
                                          "alerts.")] = "en",
    workspace: Workspace = None,
) -> None:
    """Add a sales owner."""
    settings = _settings()
    lang = settings.lang
    with _writing(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        new = _checked(lang, lambda: actions.add_owner(conn, ws, name=name, email=email,
                                                       team=team, language=language,
                                                       now=_now()))
    out.print(t(lang, "owner_added", name=name, email=email, id=new))


@owners_app.command("list")
def owners_list(workspace: Workspace = None) -> None:
    """The workspace's owners."""
    settings = _settings()
    lang = settings.lang
    with _reading(settings) as conn:
        found = db.list_owners(conn, _workspace(conn, lang, workspace))
    if not found:
        out.print(t(lang, "owners_none"))
        return
    table = Table(*(t(lang, f"col_{c}") for c in ("id", "name", "email", "team", "language",
                                                   "active")))
    for o in found:
        table.add_row(str(o.id), o.name, o.email, o.team or "", o.language,
                      "yes" if o.active else "no")
    out.print(table)


def _owner_active(email: str, workspace: int | None, *, active: bool) -> None:
    settings = _settings()
    lang = settings.lang
    with _writing(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        _checked(lang, lambda: actions.set_owner_active(conn, ws, email, active=active,
                                                        now=_now()))
    out.print(t(lang, "owner_activated" if active else "owner_deactivated", email=email))


@owners_app.command("deactivate")
def owners_deactivate(email: str, workspace: Workspace = None) -> None:
    """Give an owner no new account (round robin skips them); their accounts stay theirs."""
    _owner_active(email, workspace, active=False)


@owners_app.command("activate")
def owners_activate(email: str, workspace: Workspace = None) -> None:
    """Let a deactivated owner get new accounts again."""
    _owner_active(email, workspace, active=True)


@rule_app.command("add")
def assign_rule_add(
    kind: Annotated[str, typer.Argument(help="territory, sector, target or round_robin.")],
    owner: Annotated[str | None, typer.Option(help="The owner's e-mail.")] = None,
    team: Annotated[str | None, typer.Option(help="A team (round robin).")] = None,
    country: Annotated[list[str] | None, typer.Option(help="ISO country (repeat).")] = None,
    postcode: Annotated[list[str] | None, typer.Option(help="Postcode prefix, e.g. 75 "
                                                       "(repeat).")] = None,
    naf: Annotated[list[str] | None, typer.Option(help="NAF prefix, e.g. 62 (repeat).")] = None,
    target: Annotated[bool, typer.Option("--target", help="Accounts of the target "
                                         "list.")] = False,
    workspace: Workspace = None,
) -> None:
    """Add an assignment rule (tried after the existing ones)."""
    settings = _settings()
    lang = settings.lang
    conditions: dict[str, Any] = {k: v for k, v in (
        ("countries", country), ("postcodes", postcode), ("naf", naf)) if v}
    if target:
        conditions["target"] = True
    with _writing(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        new = _checked(lang, lambda: actions.add_assignment_rule(
            conn, ws, kind=kind, conditions=conditions, owner_email=owner, team=team,
            now=_now()))
    out.print(t(lang, "rule_added", id=new))


@rule_app.command("list")
def assign_rule_list(workspace: Workspace = None) -> None:
    """Assignment rules, in the order they are tried."""
    settings = _settings()
    lang = settings.lang
    with _reading(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        rules = db.list_assignment_rules(conn, ws)
        names = {o.id: o.email for o in db.list_owners(conn, ws)}
    if not rules:
        out.print(t(lang, "rules_none"))
        return
    table = Table(*(t(lang, f"col_{c}") for c in ("id", "position", "kind", "conditions",
                                                   "owner", "team")))
    for r in rules:
        table.add_row(str(r.id), str(r.position), r.kind, json.dumps(r.conditions),
                      names.get(r.owner_id or 0, ""), r.team or "")
    out.print(table)


@rule_app.command("remove")
def assign_rule_remove(rule_id: Annotated[int, typer.Argument(metavar="ID")],
                       workspace: Workspace = None) -> None:
    """Remove an assignment rule (accounts keep their owner)."""
    settings = _settings()
    lang = settings.lang
    with _writing(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        _checked(lang, lambda: actions.remove_assignment_rule(conn, ws, rule_id, now=_now()))
    out.print(t(lang, "assignment_removed", id=rule_id))


# -- alerts and digests --------------------------------------------------------------------

@alerts_app.command("add")
def alerts_add(
    kind: Annotated[str, typer.Argument(help="becomes_mql, score_crosses, target_visits, "
                                        "hot_page or score_jump.")],
    channel: Annotated[str, typer.Option(help="email, slack, teams or webhook.")],
    destination: Annotated[str, typer.Option(help="An address, a URL, or 'owner' (the "
                                             "account owner's e-mail).")],
    threshold: Annotated[float | None, typer.Option(help="score_crosses: the score.")] = None,
    pages: Annotated[str | None, typer.Option(help="hot_page: path globs, comma-separated "
                                              "(default /pricing*,/contact*,/demo*,"
                                              "/tarifs*).")] = None,
    points: Annotated[float | None, typer.Option(help="score_jump: points (20).")] = None,
    hours: Annotated[float | None, typer.Option(help="score_jump: window (24).")] = None,
    cooldown: Annotated[float, typer.Option(help="Hours before the same rule fires again "
                                            "for an account.")] = 24.0,
    quiet: Annotated[str | None, typer.Option(help="Quiet hours, e.g. 20:00-08:00.")] = None,
    timezone: Annotated[str, typer.Option(help="Time zone of the quiet hours and of the "
                                          "digest's day.")] = DEFAULT_TIMEZONE,
    digest: Annotated[bool, typer.Option("--digest", help="Into the daily digest instead "
                                         "of at once.")] = False,
    language: Annotated[str, typer.Option(help="fr or en (the owner's own for "
                                          "'owner').")] = "en",
    workspace: Workspace = None,
) -> None:
    """Add an alert rule."""
    settings = _settings()
    lang = settings.lang
    params: dict[str, Any] = {k: v for k, v in (
        ("threshold", threshold), ("pages", pages), ("points", points), ("hours", hours))
        if v is not None}
    with _writing(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        new = _checked(lang, lambda: actions.add_alert_rule(
            conn, ws, kind=kind, params=params, channel=channel, destination=destination,
            language=language, cooldown_hours=cooldown, quiet_hours=quiet, timezone=timezone,
            digest=digest, now=_now()))
    out.print(t(lang, "rule_added", id=new))


@alerts_app.command("list")
def alerts_list(workspace: Workspace = None) -> None:
    """The workspace's alert rules."""
    settings = _settings()
    lang = settings.lang
    with _reading(settings) as conn:
        rules = db.list_alert_rules(conn, _workspace(conn, lang, workspace))
    if not rules:
        out.print(t(lang, "rules_none"))
        return
    table = Table(*(t(lang, f"col_{c}") for c in ("id", "kind", "params", "channel",
                                                   "destination", "cooldown", "quiet",
                                                   "digest", "enabled")))
    for r in rules:
        table.add_row(str(r.id), r.kind, json.dumps(r.params), r.channel, r.destination,
                      f"{r.cooldown_hours:g}", f"{r.quiet_hours} {r.timezone}"
                      if r.quiet_hours else "", "yes" if r.digest else "",
                      "yes" if r.enabled else "no")
    out.print(table)


def _alert_change(rule_id: int, workspace: int | None,
                  change: Literal["remove", "enable", "disable"]) -> None:
    settings = _settings()
    lang = settings.lang
    with _writing(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        if change == "remove":
            _checked(lang, lambda: actions.remove_alert_rule(conn, ws, rule_id, now=_now()))
        else:
            _checked(lang, lambda: actions.enable_alert_rule(
                conn, ws, rule_id, enabled=change == "enable", now=_now()))
    out.print(t(lang, {"remove": "alert_removed", "enable": "alert_enabled",
                       "disable": "alert_disabled"}[change], id=rule_id))


@alerts_app.command("remove")
def alerts_remove(rule_id: Annotated[int, typer.Argument(metavar="ID")],
                  workspace: Workspace = None) -> None:
    """Remove an alert rule, its cooldowns and its waiting digest events."""
    _alert_change(rule_id, workspace, "remove")


@alerts_app.command("disable")
def alerts_disable(rule_id: Annotated[int, typer.Argument(metavar="ID")],
                   workspace: Workspace = None) -> None:
    """Stop an alert rule from firing (kept, with its settings)."""
    _alert_change(rule_id, workspace, "disable")


@alerts_app.command("enable")
def alerts_enable(rule_id: Annotated[int, typer.Argument(metavar="ID")],
                  workspace: Workspace = None) -> None:
    """Let a disabled alert rule fire again."""
    _alert_change(rule_id, workspace, "enable")


@digest_app.command("send")
def digest_send(
    day: Annotated[str | None, typer.Option("--date", help="The day (YYYY-MM-DD); "
                                            "default: yesterday.")] = None,
) -> None:
    """Enqueue the daily digests (once per owner and day, however often it runs)."""
    settings = _settings()
    lang = settings.lang
    chosen = None
    if day is not None:
        try:
            chosen = date.fromisoformat(day)
        except ValueError:
            err.print(t(lang, "bad_date", value=day))
            raise typer.Exit(2) from None
    now = _now()
    engine = _engine(settings)
    try:
        count = build_digests(engine, now, day=chosen,
                              allow_private=settings.allow_private_destinations)
    finally:
        engine.dispose()
    out.print(t(lang, "digests", count=count, day=(chosen or default_day(now)).isoformat()))


# -- first touch ---------------------------------------------------------------------------

@account_app.command("touch")
def touch(account_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Record the first touch of an account in its stage (its SLA is met)."""
    settings = _settings()
    lang = settings.lang
    with _writing(settings) as conn:
        _checked(lang, lambda: actions.touch(conn, account_id, now=_now()))
    out.print(t(lang, "touched", id=account_id))


def late(
    workspace: Workspace = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Accounts whose first-touch SLA passed without a touch."""
    settings = _settings()
    lang = settings.lang
    with _writing(settings) as conn:
        found = actions.late_accounts(conn, now=_now(), workspace_id=workspace)
    if as_json:
        print(json.dumps([{"account_id": x.account_id, "name": x.name, "stage": x.stage,
                           "since": x.since.isoformat(), "hours_late": round(x.hours_late, 1),
                           "owner": x.owner} for x in found], ensure_ascii=False))
        return
    if not found:
        out.print(t(lang, "late_none"))
        return
    table = Table(*(t(lang, f"col_{c}") for c in ("id", "account", "stage", "since", "late",
                                                   "owner")))
    for x in found:
        table.add_row(str(x.account_id), x.name, x.stage, _when(x.since),
                      f"{x.hours_late:.1f}", x.owner or "")
    out.print(table)
