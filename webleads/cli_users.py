"""``webleads user add | list | password``: the people who use the dashboard."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from webleads.clikit import _settings, err, out
from webleads.db.engine import create_engine
from webleads.db.migrate import upgrade
from webleads.i18n import t
from webleads.users import ROLES, UserError, Users

user_app = typer.Typer(no_args_is_help=True, help="Users of the dashboard.")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")


def _password(lang: str, password_file: Path | None, generate: bool) -> tuple[str, bool]:
    """From a file (``-`` is standard input), generated, or typed twice."""
    if generate:
        return secrets.token_urlsafe(15), True
    if password_file is not None:
        text = sys.stdin.read() if str(password_file) == "-" else _read(lang, password_file)
        return text.rstrip("\r\n"), False
    if not sys.stdin.isatty():
        err.print(t(lang, "user_password_how"))
        raise typer.Exit(2)
    return typer.prompt(t(lang, "user_password_prompt"), hide_input=True,
                        confirmation_prompt=True), False


def _read(lang: str, path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        err.print(t(lang, "lookup_file", file=path, error=exc.strerror or exc))
        raise typer.Exit(1) from exc


@user_app.command("add")
def add(
    email: Annotated[str, typer.Argument(metavar="EMAIL")],
    admin: Annotated[bool, typer.Option("--admin", help="Install admin: every workspace, "
                                        "users, sites, privacy settings.")] = False,
    name: Annotated[str, typer.Option(help="Name shown in the dashboard.")] = "",
    workspace: Annotated[str | None, typer.Option(
        help="Workspace id or name (created when missing) to join.")] = None,
    role: Annotated[str, typer.Option(help="Role in that workspace: admin, marketer, "
                                      "sales.")] = "marketer",
    locale: Annotated[str | None, typer.Option(help="fr or en (default: the browser's).")] = None,
    password_file: Annotated[Path | None, typer.Option(
        help="Read the password from this file ('-': standard input).")] = None,
    generate: Annotated[bool, typer.Option(help="Generate a password and print it once.")] = False,
) -> None:
    """Create a user (the first one with --admin, or use the setup page of the dashboard)."""
    settings = _settings()
    lang = settings.lang
    if role not in ROLES:
        err.print(t(lang, "user_error", field="--role", error=t(lang, "user_invalid_role")))
        raise typer.Exit(2)
    password, generated = _password(lang, password_file, generate)
    engine = create_engine(settings.database_url)
    try:
        upgrade(engine)
        ws: int | str | None = int(workspace) if workspace and workspace.isdigit() else workspace
        user = Users(engine).create(email, password, name=name, install_admin=admin,
                                    workspace=ws, role=role, locale=locale,
                                    actor="cli")
    except UserError as exc:
        err.print(t(lang, "user_error", field=exc.field, error=t(lang, f"user_{exc.code}")))
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    out.print(t(lang, "user_created", email=escape(user.email),
                kind=t(lang, "user_kind_admin" if admin else "user_kind_member")))
    if generated:
        out.print(t(lang, "user_generated", password=password))


@user_app.command("list")
def list_users() -> None:
    """Users, their workspaces and roles."""
    from webleads.db import users as q
    from webleads.db.engine import read_only

    settings = _settings()
    engine = create_engine(settings.database_url)
    try:
        upgrade(engine)
        with read_only(engine) as conn, conn.begin():
            rows = [(u, q.memberships_of(conn, u)) for u in q.list_users(conn)]
    finally:
        engine.dispose()
    if not rows:
        out.print(t(settings.lang, "user_none"))
        return
    table = Table("id", "email", "name", "workspaces", "active")
    for user, memberships in rows:
        where = ("*" if user.install_admin else "") + ", ".join(
            f"{m.workspace_name} ({m.role})" for m in memberships)
        table.add_row(str(user.id), escape(user.email), escape(user.name), escape(where),
                      "yes" if user.active else "no")
    out.print(table)


@user_app.command("password")
def password(
    email: Annotated[str, typer.Argument(metavar="EMAIL")],
    password_file: Annotated[Path | None, typer.Option(
        help="Read the password from this file ('-': standard input).")] = None,
    generate: Annotated[bool, typer.Option(help="Generate a password and print it once.")] = False,
) -> None:
    """Set a user's password (their sessions end)."""
    from webleads.db import users as q

    settings = _settings()
    lang = settings.lang
    new, generated = _password(lang, password_file, generate)
    engine = create_engine(settings.database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            user = q.user_by_email(conn, email.strip().lower())
        if user is None:
            err.print(t(lang, "user_unknown", email=escape(email)))
            raise typer.Exit(1)
        Users(engine).set_password(user.id, new)
    except UserError as exc:
        err.print(t(lang, "user_error", field=exc.field, error=t(lang, f"user_{exc.code}")))
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    out.print(t(lang, "user_password_set", email=escape(user.email)))
    if generated:
        out.print(t(lang, "user_generated", password=new))
