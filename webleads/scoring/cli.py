"""Commands of the scoring: ``scoring export|import``, ``rescore``, ``accounts`` (the list
of a site's accounts by priority, ``why``, ``target add|remove``).
``register(app)`` adds them to ``webleads``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.engine import Connection, Engine

from webleads.clikit import _reading, _settings, err, out
from webleads.db import scoring as db
from webleads.db.engine import create_engine
from webleads.db.fr import workspace_id as find_workspace
from webleads.db.migrate import upgrade
from webleads.db.sites import workspace_ids
from webleads.scoring import document, explain
from webleads.scoring.config import apply_config
from webleads.scoring.incremental import default_config
from webleads.scoring.messages import problem_text, t
from webleads.scoring.rescore import rescore as run_rescore
from webleads.scoring.rules import RulesError
from webleads.settings import Settings

scoring_app = typer.Typer(no_args_is_help=True,
                          help="Scoring rules of a workspace, as TOML.")
accounts_app = typer.Typer(help="Accounts: the list by priority, why, targets.")
target_app = typer.Typer(no_args_is_help=True, help="The target-account list.")
accounts_app.add_typer(target_app, name="target")

WorkspaceOption = Annotated[str | None, typer.Option(
    "--workspace", help="Workspace id or name (default: the only workspace).")]


def register(app: typer.Typer) -> None:
    app.add_typer(scoring_app, name="scoring")
    app.command("rescore")(rescore)
    app.add_typer(accounts_app, name="accounts")


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _writing(settings: Settings) -> Iterator[Engine]:
    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


def _workspace(conn: Connection, ref: str | None, lang: str) -> int:
    if ref is not None:
        found = find_workspace(conn, ref)
        if found is None:
            err.print(t(lang, "unknown_workspace", ref=ref))
            raise typer.Exit(1)
        return found
    ids = workspace_ids(conn)
    if not ids:
        err.print(t(lang, "no_workspace"))
        raise typer.Exit(1)
    if len(ids) > 1:
        err.print(t(lang, "several_workspaces", names=", ".join(map(str, ids))))
        raise typer.Exit(2)
    return ids[0]


# -- scoring export / import ----------------------------------------------------------------

@scoring_app.command("export")
def export(workspace: WorkspaceOption = None) -> None:
    """Print the workspace's scoring rules as TOML (the defaults before the first score)."""
    settings = _settings()
    with _writing(settings) as engine, engine.begin() as conn:
        ws = _workspace(conn, workspace, settings.lang)
        state = db.workspace_states(conn, [ws], defaults=default_config(), now=_now())[ws]
        config = document.ScoringConfig(
            document.ScoringSettings(state.half_life_days, state.engaged_score), state.grades,
            db.load_rules(conn, ws), db.load_fit_rules(conn, ws))
    sys.stdout.write(document.dump(config))


@scoring_app.command("import")
def import_rules(
    file: Annotated[Path, typer.Argument(help="A TOML file ('-': standard input).")],
    workspace: WorkspaceOption = None,
) -> None:
    """Replace the workspace's rules with those of a TOML file, after checking every
    rule (nothing is imported when one is wrong)."""
    settings = _settings()
    lang = settings.lang
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(t(lang, "import_read", file=file, error=exc), markup=False)
        raise typer.Exit(1) from exc
    try:
        config = document.loads(text)
    except RulesError as exc:
        err.print(t(lang, "import_invalid", count=len(exc.problems), file=file), markup=False)
        for p in exc.problems:
            err.print("  " + problem_text(lang, p), markup=False)
        raise typer.Exit(1) from exc
    with _writing(settings) as engine, engine.begin() as conn:
        ws = _workspace(conn, workspace, lang)
        apply_config(conn, ws, config, now=_now())
        rules, fits = len(db.load_rules(conn, ws)), len(db.load_fit_rules(conn, ws))
    out.print(t(lang, "imported", workspace=ws, rules=rules, fit=fits), markup=False)


# -- rescore ----------------------------------------------------------------------------------

def rescore(
    site: Annotated[str | None, typer.Option("--site", help="Public key of a site: rescore "
                                             "its workspace.")] = None,
    workspace: WorkspaceOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Recompute the score ledger and the scores from stored hits (after a rule change)."""
    settings = _settings()
    lang = settings.lang
    with _writing(settings) as engine:
        site_id = workspace_id = None
        with engine.connect() as conn:
            if site is not None:
                found = db.site_by_key(conn, site)
                if found is None:
                    err.print(t(lang, "unknown_site", key=site))
                    raise typer.Exit(1)
                site_id = found[0]
                if not as_json:
                    err.print(t(lang, "rescore_site", workspace=found[1]))
            elif workspace is not None:
                workspace_id = _workspace(conn, workspace, lang)
        reports = run_rescore(engine, workspace_id=workspace_id, site_id=site_id, now=_now())
    if as_json:
        print(json.dumps([asdict(r) for r in reports]))
        return
    for r in reports:
        out.print(t(lang, "rescored", workspace=r.workspace_id, hits=r.hits, lines=r.lines))


# -- accounts -----------------------------------------------------------------------------

def _summary_json(s: explain.AccountSummary, lang: str) -> dict[str, Any]:
    return {"id": s.id, "name": s.name, "domain": s.domain, "country": s.country,
            "in_target": s.in_target, "score": s.score, "grade": s.grade,
            "priority": s.priority, "stage": s.stage, "owner": s.owner or None,
            "committee": s.committee, "interest": s.interest,
            "reasons": [r.text(lang) for r in s.reasons[:3]]}


@accounts_app.callback(invoke_without_command=True)
def accounts(
    ctx: typer.Context,
    site: Annotated[str | None, typer.Option("--site", help="Public key of the site.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Accounts to list at most.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List a site's accounts by priority (score × fit grade), with why."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings()
    lang = settings.lang
    if site is None:
        err.print(ctx.get_help())
        raise typer.Exit(2)
    with _reading(settings) as conn:
        found = db.site_by_key(conn, site)
        if found is None:
            err.print(t(lang, "unknown_site", key=site))
            raise typer.Exit(1)
        rows = explain.site_accounts(conn, found[0], now=_now(), limit=limit)
    if as_json:
        print(json.dumps([_summary_json(s, lang) for s in rows], ensure_ascii=False))
        return
    if not rows:
        out.print(t(lang, "accounts_none"))
        return
    table = Table()
    for key in ("col_account", "col_score", "col_grade", "col_priority", "col_stage",
                "col_owner", "col_committee", "col_reasons"):
        table.add_column(t(lang, key), justify="right" if key in (
            "col_score", "col_priority", "col_committee") else "left")
    for s in rows:
        table.add_row(s.name + (f" ({s.domain})" if s.domain and s.domain != s.name else ""),
                      f"{s.score:.1f}", s.grade, f"{s.priority:.1f}",
                      t(lang, f"stage_{s.stage}"), s.owner or "-", str(s.committee),
                      ", ".join(r.text(lang) for r in s.reasons[:3]))
    out.print(table)
    err.print(t(lang, "stage_note"))


@accounts_app.command("why")
def why(
    account: Annotated[int, typer.Argument(help="Account id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Why an account has its score: points per rule, and the decay."""
    settings = _settings()
    with _reading(settings) as conn:
        items = explain.why(conn, account, _now())
    if as_json:
        print(json.dumps([asdict(r) for r in items], ensure_ascii=False))
        return
    for r in items:
        out.print(r.text(settings.lang), markup=False)


def _target(refs: list[str], workspace: str | None, flag: bool) -> None:
    settings = _settings()
    lang = settings.lang
    missing = False
    with _writing(settings) as engine, engine.begin() as conn:
        ws = _workspace(conn, workspace, lang)
        for ref, names in db.set_target(conn, ws, refs, flag).items():
            if not names:
                err.print(t(lang, "target_none", ref=ref, workspace=ws), markup=False)
                missing = True
            else:
                out.print(t(lang, "target_set" if flag else "target_unset", ref=ref,
                            names=", ".join(names)), markup=False)
    if missing:
        raise typer.Exit(1)


@target_app.command("add")
def target_add(
    refs: Annotated[list[str], typer.Argument(metavar="NAME_OR_DOMAIN...",
                                              help="Account names or domains.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Put accounts on the target list (fit rule ``in_target``)."""
    _target(refs, workspace, True)


@target_app.command("remove")
def target_remove(
    refs: Annotated[list[str], typer.Argument(metavar="NAME_OR_DOMAIN...",
                                              help="Account names or domains.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Take accounts off the target list."""
    _target(refs, workspace, False)
