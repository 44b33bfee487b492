"""``webleads privacy export | erase | record | retention``, ``webleads purge`` and
``webleads audit``.  ``register(app)`` adds them to the ``webleads`` command."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import Engine

from webleads.clikit import _settings, err, out
from webleads.db import privacy as db
from webleads.db.engine import create_engine, read_only
from webleads.db.migrate import upgrade
from webleads.privacy import audit, record, retention, subjects
from webleads.privacy.messages import t
from webleads.settings import Settings

privacy_app = typer.Typer(no_args_is_help=True,
                          help="Data subjects, retention and the record of processing.")

Workspace = Annotated[int | None, typer.Option(help="Only this workspace (default: all).")]
By = Annotated[str, typer.Option(help="Who acts, for the audit log.")]


def register(app: typer.Typer) -> None:
    app.add_typer(privacy_app, name="privacy")
    app.command("purge")(purge)
    app.command("audit")(audit_log)


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


def _email(settings: Settings, email: str) -> str:
    if not subjects.valid(email):
        err.print(t(settings.lang, "bad_email", email=email), markup=False)
        raise typer.Exit(2)
    return subjects.normalise(email)


@privacy_app.command("export")
def export(
    email: Annotated[str, typer.Argument(help="The data subject's e-mail address.")],
    as_json: Annotated[bool, typer.Option("--json", help="The full JSON export.")] = False,
    workspace: Workspace = None,
    by: By = "cli",
) -> None:
    """Everything held about an e-mail address (GDPR art. 15 and 20)."""
    settings = _settings()
    address = _email(settings, email)
    now = _now()
    with _engine(settings) as engine:
        data = subjects.export_for(engine, address, workspace_id=workspace, by=by, now=now)
    if as_json:
        typer.echo(subjects.to_json(data))
    else:
        typer.echo(subjects.summary(data, lang=settings.lang, now=now))


@privacy_app.command("erase")
def erase(
    email: Annotated[str, typer.Argument(help="The data subject's e-mail address.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    workspace: Workspace = None,
    by: By = "cli",
) -> None:
    """Erase everything held about an e-mail address (GDPR art. 17)."""
    settings = _settings()
    lang = settings.lang
    address = _email(settings, email)
    if not yes:
        if not sys.stdin.isatty():
            err.print(t(lang, "erase_needs_yes"), markup=False)
            raise typer.Exit(2)
        if not typer.confirm(t(lang, "erase_confirm", email=address)):
            out.print(t(lang, "erase_cancelled"), markup=False)
            raise typer.Exit(1)
    with _engine(settings) as engine:
        report = subjects.erase_subject(engine, address, workspace_id=workspace, by=by,
                                        now=_now())
    if not report.found:
        out.print(t(lang, "nothing_held", email=address), markup=False)
    else:
        out.print(t(lang, "erased", email=address, contacts=report.contacts,
                    visitors=report.visitors, sessions=report.sessions, hits=report.hits,
                    lines=report.ledger_lines, messages=report.messages,
                    accounts=report.accounts_recounted), markup=False)
        if report.text_hits or report.quarantine:
            out.print(t(lang, "erased_text", hits=report.text_hits,
                        sessions=report.text_sessions_deleted, quarantine=report.quarantine),
                      markup=False)
    if report.staff_kept:
        out.print(t(lang, "erase_kept_staff", count=report.staff_kept), markup=False)


def _site_id(settings: Settings, engine: Engine, key: str | None) -> int | None:
    if key is None:
        return None
    with read_only(engine) as conn:
        found = db.site_id_by_key(conn, key)
    if found is None:
        err.print(t(settings.lang, "no_site", key=key), markup=False)
        raise typer.Exit(1)
    return found


@privacy_app.command("retention")
def retention_cmd(
    site: Annotated[str | None, typer.Option(help="The site's key (default: all).")] = None,
    hits_days: Annotated[int | None, typer.Option(help="Keep raw hits this many days.")] = None,
    sessions_days: Annotated[int | None, typer.Option(help="Keep sessions this many days.")
                             ] = None,
    contacts_days: Annotated[int | None, typer.Option(
        help="Keep contacts not seen for this many days.")] = None,
    by: By = "cli",
) -> None:
    """Show the retention periods, or set those of one site (--site)."""
    settings = _settings()
    lang = settings.lang
    with _engine(settings) as engine:
        site_id = _site_id(settings, engine, site)
        changes = (hits_days, sessions_days, contacts_days)
        if any(v is not None for v in changes):
            if site_id is None:
                err.print(t(lang, "no_site", key="-"), markup=False)
                raise typer.Exit(2)
            with read_only(engine) as conn:
                current = retention.retention_of(db.site_rows(conn, site_id=site_id)[0])
            wanted = retention.Retention(
                current.hits_days if hits_days is None else hits_days,
                current.sessions_days if sessions_days is None else sessions_days,
                current.contacts_days if contacts_days is None else contacts_days)
            try:
                retention.set_retention(engine, site_id, wanted, by=by, now=_now())
            except ValueError:
                err.print(t(lang, "bad_days"), markup=False)
                raise typer.Exit(2) from None
            out.print(t(lang, "retention_set", site=site), markup=False)
        with read_only(engine) as conn:
            rows = db.site_rows(conn, site_id=site_id)
    for row in rows:
        keep = retention.retention_of(row)
        out.print(t(lang, "retention", site=row.key, hits=keep.hits_days,
                    sessions=keep.sessions_days, contacts=keep.contacts_days), markup=False)


@privacy_app.command("record")
def record_cmd(
    lang: Annotated[str | None, typer.Option(help="fr or en (default: WEBLEADS_LANG).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="md or json.")] = "md",
) -> None:
    """The record of processing (GDPR art. 30), from this installation's configuration."""
    settings = _settings()
    language = "fr" if (lang or settings.lang).lower().startswith("fr") else "en"
    if fmt not in ("md", "json"):
        err.print("--format: md or json", markup=False)
        raise typer.Exit(2)
    with _engine(settings) as engine, read_only(engine) as conn:
        facts = record.gather(conn, data_dir=settings.data_dir,
                              network_data=settings.network_data)
    if fmt == "json":
        typer.echo(json.dumps(record.to_dict(facts, lang=language), ensure_ascii=False,
                              indent=2))
    else:
        typer.echo(record.render(facts, lang=language))


def purge(
    site: Annotated[str | None, typer.Option(help="Only this site (its key).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, delete nothing.")
                       ] = False,
    by: By = "cli",
) -> None:
    """Delete what is older than each site's retention; daily aggregates are kept."""
    settings = _settings()
    lang = settings.lang
    with _engine(settings) as engine:
        site_id = _site_id(settings, engine, site)
        report = retention.purge(engine, now=_now(), site_id=site_id, dry_run=dry_run, by=by)
    for s in report.sites:
        key = "purge_dry" if dry_run else "purged"
        out.print(t(lang, key, site=s.key, hits=s.hits, sessions=s.sessions,
                    visitors=s.visitors, hits_before=s.hits_before.date().isoformat()),
                  markup=False)
    out.print(t(lang, "purge_dry_contacts" if dry_run else "purged_contacts",
                contacts=report.contacts), markup=False)


def audit_log(
    last: Annotated[int, typer.Option(min=1, help="How many entries (newest first).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
    workspace: Workspace = None,
) -> None:
    """The audit log of administrative and privacy actions."""
    settings = _settings()
    lang = settings.lang
    with _engine(settings) as engine, read_only(engine) as conn:
        rows = audit.entries(conn, last=last, workspace_id=workspace)
    if as_json:
        for e in rows:
            typer.echo(json.dumps({"id": e.id, "workspace_id": e.workspace_id,
                                   "at": e.at.isoformat(), "actor": e.actor,
                                   "action": e.action, "target": e.target,
                                   "details": e.details}, ensure_ascii=False, sort_keys=True))
        return
    if not rows:
        out.print(t(lang, "audit_none"), markup=False)
        return
    table = Table()
    for col in ("col_at", "col_workspace", "col_actor", "col_action", "col_target",
                "col_details"):
        table.add_column(t(lang, col))
    for e in rows:
        table.add_row(*(escape(x) for x in (
            e.at.strftime("%Y-%m-%d %H:%M:%S"), str(e.workspace_id or "-"), e.actor, e.action,
            e.target, json.dumps(e.details, sort_keys=True))))
    out.print(table)
