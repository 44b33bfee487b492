"""``webleads fr``: import SIRENE, match accounts to French companies, look one up.

Wired into the main command with ``app.add_typer(fr_app, name="fr")``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy.engine import Engine

from webleads.db import fr as db
from webleads.db.engine import create_engine, read_only
from webleads.db.migrate import current_revision, head_revision, upgrade
from webleads.fr import match as matching
from webleads.fr import naf, recherche
from webleads.fr.messages import t
from webleads.fr.sirene import (
    ImportReport,
    LineError,
    SireneError,
    import_establishments,
    import_units,
)
from webleads.i18n import t as main_t
from webleads.settings import Settings, load_settings

fr_app = typer.Typer(no_args_is_help=True, add_completion=False,
                     help="French companies (INSEE SIRENE): import, match accounts, look up.")
out = Console()
err = Console(stderr=True)
SHOWN_ERRORS = 20


def _settings() -> Settings:
    try:
        return load_settings()
    except Exception as exc:  # pydantic's ValidationError names the variable
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


@contextmanager
def _engine(settings: Settings, *, migrate: bool) -> Iterator[Engine]:
    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        if migrate:
            upgrade(engine)
        elif current_revision(engine) != head_revision(engine):
            err.print(main_t(settings.lang, "schema_missing"))
            raise typer.Exit(1)
        yield engine
    finally:
        engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _byte_progress(lang: str, key: str) -> Iterator[Callable[[int, int | None], None]]:
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(t(lang, key), total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@contextmanager
def _error_sink(path: Path | None) -> Iterator[Callable[[LineError], None] | None]:
    """Write every bad line to ``path``, tab-separated: line, field, reason, value."""
    if path is None:
        yield None
        return
    with path.open("w", encoding="utf-8") as f:
        f.write("line\tfield\treason\tvalue\n")

        def write(error: LineError) -> None:
            value = error.value.replace("\t", " ").replace("\n", " ")
            f.write(f"{error.line}\t{error.field}\t{error.reason}\t{value}\n")

        yield write


def _print_errors(lang: str, report: ImportReport, sink: Path | None) -> None:
    for error in report.listed[:SHOWN_ERRORS]:
        err.print(_line_error(lang, error), markup=False)
    if report.errors > SHOWN_ERRORS:
        err.print(t(lang, "more_errors", count=report.errors - SHOWN_ERRORS))
    if report.errors and sink is not None:
        err.print(t(lang, "errors_written", path=sink), markup=False)


def _line_error(lang: str, error: LineError) -> str:
    return t(lang, "bad_line", line=error.line, field=error.field, value=error.value,
             reason=t(lang, f"reason_{error.reason}"))


FileArg = Annotated[Path, typer.Argument(help="The stock file: .csv, .csv.gz or .zip.",
                                         exists=True, dir_okay=False, readable=True)]
StrictOpt = Annotated[bool, typer.Option(help="Stop at the first bad line instead of "
                                         "reporting and skipping it.")]
ErrorsOpt = Annotated[Path | None, typer.Option("--errors-file", help="Write every bad "
                      "line (line, field, reason, value) to this file.", dir_okay=False)]


@fr_app.command("import-units")
def import_units_command(
    file: FileArg,
    active_only: Annotated[bool, typer.Option(help="Keep only active units (state A).")] = False,
    min_headcount: Annotated[str | None, typer.Option(help="Keep only units of this INSEE "
                             "headcount band or larger, e.g. 11 (10-19 employees).")] = None,
    strict: StrictOpt = False,
    errors_file: ErrorsOpt = None,
) -> None:
    """Import StockUniteLegale_utf8.csv (INSEE SIRENE legal units) into fr_companies."""
    settings = _settings()
    lang = settings.lang
    if min_headcount is not None and min_headcount not in naf.HEADCOUNT_BANDS:
        err.print(t(lang, "bad_headcount", value=min_headcount,
                    codes=", ".join(naf.HEADCOUNT_BANDS)))
        raise typer.Exit(2)
    with ExitStack() as stack:
        engine = stack.enter_context(_engine(settings, migrate=True))
        sink = stack.enter_context(_error_sink(errors_file))
        progress = stack.enter_context(_byte_progress(lang, "progress_units"))
        try:
            report = import_units(engine, file, now=_now(), active_only=active_only,
                                  min_headcount=min_headcount, strict=strict,
                                  progress=progress, on_error=sink)
        except SireneError as exc:
            _failed(lang, exc)
    _print_errors(lang, report, errors_file)
    out.print(t(lang, "units_done", rows=report.rows, imported=report.imported,
                filtered=report.filtered, refreshed=report.refreshed,
                non_diffusible=report.non_diffusible, errors=report.errors))


@fr_app.command("import-establishments")
def import_establishments_command(
    file: FileArg, strict: StrictOpt = False, errors_file: ErrorsOpt = None,
) -> None:
    """Import StockEtablissement_utf8.csv: head office postcode, city and trade name of
    the companies already imported (run import-units first)."""
    settings = _settings()
    lang = settings.lang
    with ExitStack() as stack:
        engine = stack.enter_context(_engine(settings, migrate=True))
        with read_only(engine) as conn, conn.begin():
            if db.count_companies(conn) == 0:
                err.print(t(lang, "no_companies"))
                raise typer.Exit(1)
        sink = stack.enter_context(_error_sink(errors_file))
        progress = stack.enter_context(_byte_progress(lang, "progress_establishments"))
        try:
            report = import_establishments(engine, file, now=_now(), strict=strict,
                                           progress=progress, on_error=sink)
        except SireneError as exc:
            _failed(lang, exc)
    _print_errors(lang, report, errors_file)
    out.print(t(lang, "establishments_done", rows=report.rows, imported=report.imported,
                unknown=report.unknown_siren, other=report.not_head_office,
                errors=report.errors))


def _failed(lang: str, exc: SireneError) -> NoReturn:
    if exc.error is not None:
        err.print(_line_error(lang, exc.error), markup=False)
        err.print(t(lang, "strict_stop"))
    else:
        err.print(t(lang, "import_failed", error=exc), markup=False)
    raise typer.Exit(1)


@fr_app.command("match")
def match_command(
    workspace: Annotated[str | None, typer.Option(help="Workspace id or name (default: "
                         "every workspace).")] = None,
    account: Annotated[int | None, typer.Option(help="Match this account only.")] = None,
    online: Annotated[bool, typer.Option(help="Also ask the public API 'recherche "
                      "d'entreprises' (sends company names out; rate-limited, cached) "
                      "when no imported company is sure enough.")] = False,
    api_url: Annotated[str, typer.Option(help="Base URL of the online API.")]
    = recherche.DEFAULT_BASE_URL,
    rate: Annotated[float, typer.Option(min=0.1, max=7.0, help="Online calls per second "
                    "at most.")] = recherche.DEFAULT_RATE,
    min_confidence: Annotated[float, typer.Option(min=0.0, max=1.0, help="Store matches "
                              "at least this sure.")] = matching.MIN_CONFIDENCE,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Find the French company (SIREN, NAF, headcount) of each account."""
    settings = _settings()
    lang = settings.lang
    with ExitStack() as stack:
        engine = stack.enter_context(_engine(settings, migrate=True))
        workspace_id = None
        if workspace is not None:
            with read_only(engine) as conn, conn.begin():
                workspace_id = db.workspace_id(conn, workspace)
            if workspace_id is None:
                err.print(t(lang, "unknown_workspace", ref=workspace))
                raise typer.Exit(1)
        client = stack.enter_context(recherche.RechercheClient(base_url=api_url, rate=rate)) \
            if online else None
        bar = stack.enter_context(Progress(TextColumn("{task.description}"), BarColumn(),
                                           MofNCompleteColumn(), console=err, transient=True))
        task = bar.add_task(t(lang, "progress_match"), total=None)
        report = matching.match_accounts(
            engine, now=_now(), workspace_id=workspace_id, account_id=account, online=client,
            min_confidence=min_confidence,
            progress=lambda done, total: bar.update(task, completed=done, total=total))
        calls = client.calls if client is not None else 0
        gave_up = client.gave_up if client is not None else None
    if as_json:
        print(json.dumps({**asdict(report), "online_calls": calls, "online_gave_up": gave_up}))
        return
    out.print(t(lang, "match_done", examined=report.examined,
                matched=sum(report.matched.values()), kept=report.kept,
                unmatched=report.unmatched, not_fr=report.skipped.get("not_fr", 0),
                not_org=report.skipped.get("not_organisation", 0)))
    out.print(t(lang, "match_methods", **{m: report.matched.get(m, 0)
                                          for m in ("domain", "name", "api")}))
    if online:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.online.items())) or "-"
        out.print(t(lang, "online_done", calls=calls, outcomes=outcomes))
        if gave_up:
            err.print(t(lang, "online_gave_up", outcome=gave_up))


@fr_app.command("company")
def company_command(
    query: Annotated[str, typer.Argument(metavar="SIREN_OR_NAME",
                                         help="A SIREN (9 digits) or a company name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show what is known of a French company, and the accounts matched to it."""
    settings = _settings()
    lang = settings.lang
    siren = "".join(query.split())
    with _engine(settings, migrate=False) as engine, read_only(engine) as conn, conn.begin():
        if len(siren) == 9 and siren.isdigit():
            found = db.company(conn, siren)
            listing = [] if found is None else [found]
        else:
            listing = [c.company for c in matching.search(conn, query)]
        accounts = db.accounts_of_company(conn, listing[0].siren) if len(listing) == 1 else []
    if as_json:
        print(json.dumps([_company_json(c, lang, accounts if len(listing) == 1 else [])
                          for c in listing]))
        return
    if not listing:
        err.print(t(lang, "company_none", query=query), markup=False)
        raise typer.Exit(1)
    if len(listing) == 1:
        _show_company(lang, listing[0], accounts)
        return
    out.print(t(lang, "company_more", query=query), markup=False)
    table = Table(t(lang, "f_siren"), t(lang, "f_name"), t(lang, "f_naf"),
                  t(lang, "f_headcount"), t(lang, "f_head_office"), t(lang, "f_state"))
    for c in listing:
        table.add_row(c.siren, c.name, naf.describe(c.naf, c.naf_version, lang),
                      naf.band_text(c.headcount_band, lang), _place(c),
                      t(lang, "state_active" if c.active else "state_ceased"))
    out.print(table, width=max(out.width, 140))


def _place(c: db.Company) -> str:
    return " ".join(filter(None, [c.postcode, c.city]))


def _show_company(lang: str, c: db.Company, accounts: list[db.MatchedAccount]) -> None:
    table = Table(show_header=False)
    rows = [
        ("f_siren", c.siren), ("f_name", c.name), ("f_sigle", c.sigle or ""),
        ("f_trade", c.trade_name or ""), ("f_naf", naf.describe(c.naf, c.naf_version, lang)),
        ("f_naf25", naf.describe(c.naf25, naf.NAF_2025, lang)),
        ("f_headcount", naf.band_text(c.headcount_band, lang)),
        ("f_category", c.category or ""),
        ("f_state", t(lang, "state_active" if c.active else "state_ceased")),
        ("f_head_office", " ".join(filter(None, [c.head_office_siret, _place(c)]))),
        ("f_source", c.source), ("f_updated", c.updated_at.strftime("%Y-%m-%d")),
    ]
    for key, value in rows:
        table.add_row(t(lang, key), value)
    for a in accounts:
        table.add_row(t(lang, "f_accounts"),
                      f"{a.workspace} / {a.name} ({a.method}, {a.confidence:.2f})")
    out.print(table, width=max(out.width, 120))


def _company_json(c: db.Company, lang: str, accounts: list[db.MatchedAccount]
                  ) -> dict[str, Any]:
    data: dict[str, Any] = asdict(c)
    data["updated_at"] = c.updated_at.isoformat()
    data["naf_label"] = naf.label(c.naf, c.naf_version, lang)
    data["headcount"] = naf.band_text(c.headcount_band, lang)
    data["accounts"] = [{"account_id": a.account_id, "workspace": a.workspace,
                         "name": a.name, "confidence": a.confidence, "method": a.method}
                        for a in accounts]
    return data
