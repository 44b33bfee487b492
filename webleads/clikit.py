"""What every ``webleads`` command module shares: the consoles, the settings, and
database access for commands (sub-command modules import this, never ``webleads.cli``,
so that they can be imported in any order)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy.engine import Connection

from webleads.db.engine import create_engine, read_only
from webleads.db.migrate import current_revision
from webleads.i18n import t
from webleads.settings import Settings, load_settings

out = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    try:
        return load_settings()
    except Exception as exc:  # pydantic's ValidationError names the variable
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


def _require_schema(settings: Settings) -> None:
    """Read-only commands do not migrate; they say so when the schema is missing."""
    engine = create_engine(settings.database_url)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    if revision is None:
        err.print(t(settings.lang, "schema_missing"))
        raise typer.Exit(1)


@contextmanager
def _reading(settings: Settings) -> Iterator[Connection]:
    """A read-only connection for a command; the engine is disposed whatever happens."""
    _require_schema(settings)
    engine = create_engine(settings.database_url)
    try:
        with read_only(engine) as conn, conn.begin():
            yield conn
    finally:
        engine.dispose()


def _safe_url(url: str) -> str:
    import sqlalchemy as sa

    return sa.make_url(url).render_as_string(hide_password=True)


def pick_workspace(conn: Connection, workspace: int | None, lang: str,
                   say: Callable[..., str]) -> int:
    """The workspace a command works on: the one given (it must exist), else the only one.
    ``say(lang, key, **values)`` is the calling module's translator, which has the keys
    ``unknown_workspace`` (exit 1), ``no_workspace`` (exit 1), ``which_workspace`` (exit 2)."""
    from webleads.db.sites import workspace_ids

    known = workspace_ids(conn)
    if workspace is not None:
        if workspace not in known:
            err.print(say(lang, "unknown_workspace", id=workspace))
            raise typer.Exit(1)
        return workspace
    if not known:
        err.print(say(lang, "no_workspace"))
        raise typer.Exit(1)
    if len(known) > 1:
        err.print(say(lang, "which_workspace", ids=", ".join(map(str, known))))
        raise typer.Exit(2)
    return known[0]
