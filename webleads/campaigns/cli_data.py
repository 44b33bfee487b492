"""``webleads campaigns contacts | deals | conversions | summaries ...``: the data
campaigns are measured with (added to ``webleads campaigns`` by cli.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from webleads.campaigns import tracked
from webleads.campaigns.cli import (
    Workspace,
    _bad,
    _campaign,
    _now,
    _workspace,
    _writing,
    campaigns_app,
)
from webleads.campaigns.contacts import import_contacts
from webleads.campaigns.conversions import validate as validate_conversion
from webleads.campaigns.deals import add_deal, import_deals
from webleads.campaigns.messages import t
from webleads.campaigns.model import format_cents
from webleads.campaigns.summary import send_summaries
from webleads.clikit import _reading, _settings, err, out
from webleads.db import campaigns as db
from webleads.db.engine import create_engine
from webleads.db.migrate import upgrade

contacts_app = typer.Typer(no_args_is_help=True,
                           help="Contacts and their tracked e-mail links.")
deals_app = typer.Typer(no_args_is_help=True, help="Won deals and their revenue.")
conversions_app = typer.Typer(no_args_is_help=True, help="What counts as a conversion.")
summaries_app = typer.Typer(no_args_is_help=True, help="End-of-campaign summary e-mails.")
campaigns_app.add_typer(contacts_app, name="contacts")
campaigns_app.add_typer(deals_app, name="deals")
campaigns_app.add_typer(conversions_app, name="conversions")
campaigns_app.add_typer(summaries_app, name="summaries")

SkipInvalid = Annotated[bool, typer.Option(
    "--skip-invalid", help="Import the good lines and report the bad ones (by default, one "
    "bad line and nothing is imported).")]


def _import(file: Path, workspace: int | None, skip_invalid: bool,
            importer: Callable[..., Any]) -> tuple[str, Any]:
    """Run a CSV importer on ``file``; exit 1 listing every error unless skipping."""
    settings = _settings()
    lang = settings.lang
    text = _read(file, lang)
    with _writing(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        result = importer(conn, ws, text, now=_now(), skip_invalid=skip_invalid)
    if result.errors and not skip_invalid:
        for e in result.errors:
            err.print(str(e), soft_wrap=True)
        err.print(t(lang, "import_error", count=len(result.errors)))
        raise typer.Exit(1)
    return lang, result


def _skipped(lang: str, result: Any) -> None:
    if result.errors:
        err.print(t(lang, "contacts_skipped", skipped=result.skipped))
        for e in result.errors:
            err.print(str(e), soft_wrap=True)


def _read(path: Path, lang: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(t(lang, "file_error", file=path, error=exc))
        raise typer.Exit(1) from None


@contacts_app.command("import")
def contacts_import(
    file: Annotated[Path, typer.Argument(help="CSV with the columns email,name,organisation,"
                                         "consent (consent: yes or no).")],
    skip_invalid: SkipInvalid = False,
    workspace: Workspace = None,
) -> None:
    """Import contacts; each error names its line and field."""
    lang, result = _import(file, workspace, skip_invalid, import_contacts)
    out.print(t(lang, "contacts_done", lines=result.lines, created=result.created,
                updated=result.updated, attached=result.attached))
    _skipped(lang, result)


def _expiry(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"expires: {value!r} is not a date (YYYY-MM-DD)") from None
    return day if day.tzinfo else day.replace(tzinfo=UTC)


Base = Annotated[str, typer.Option(help="The public address of webleads, where /r/ links "
                                   "are served, e.g. https://tracker.example.com.")]
Expires = Annotated[str | None, typer.Option(help="Last validity, YYYY-MM-DD (default: 90 "
                                             "days after the campaign's end).")]


@contacts_app.command("link")
def contacts_link(
    campaign: Annotated[str, typer.Argument(help="Name, id or utm_campaign.")],
    email: Annotated[str, typer.Argument(help="The contact's e-mail.")],
    url: Annotated[str, typer.Argument(help="The landing page (on a site of the workspace).")],
    base: Base,
    source: Annotated[str, typer.Option(help="utm_source.")] = "newsletter",
    expires: Expires = None,
    workspace: Workspace = None,
) -> None:
    """Print the tracked e-mail link of one contact for a campaign."""
    settings = _settings()
    lang = settings.lang
    with _writing(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        found = _campaign(conn, ws, campaign, lang)
        try:
            link = tracked.build_email_link(conn, found, email, url, base=base,
                                            secret=settings.secret_key, now=_now(),
                                            source=source, expires=_expiry(expires))
        except ValueError as exc:
            raise _bad(lang, exc) from None
    out.print(t(lang, "tracked_link", email=email.strip().lower(),
                expires=link.expires.date().isoformat()))
    out.print(link.url, soft_wrap=True)


@contacts_app.command("links")
def contacts_links(
    campaign: Annotated[str, typer.Argument(help="Name, id or utm_campaign.")],
    url: Annotated[str, typer.Argument(help="The landing page (on a site of the workspace).")],
    base: Base,
    output: Annotated[Path, typer.Option(help="CSV to write (email,name,organisation,link), "
                                         "for your e-mailing tool's mail merge.")],
    source: Annotated[str, typer.Option(help="utm_source.")] = "newsletter",
    expires: Expires = None,
    workspace: Workspace = None,
) -> None:
    """Write the tracked link of every consenting contact to a CSV file."""
    settings = _settings()
    lang = settings.lang
    with _writing(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        found = _campaign(conn, ws, campaign, lang)
        try:
            made = tracked.links_for_contacts(conn, found, url, base=base,
                                              secret=settings.secret_key, now=_now(),
                                              source=source, expires=_expiry(expires))
        except ValueError as exc:
            raise _bad(lang, exc) from None
    if not made:
        err.print(t(lang, "tracked_links_none"))
        raise typer.Exit(1)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["email", "name", "organisation", "link"])
    for contact, link in made:
        writer.writerow([contact.email, contact.name, contact.organisation, link.url])
    output.write_text(buffer.getvalue(), encoding="utf-8")
    out.print(t(lang, "tracked_links_done", count=len(made), file=output))


@deals_app.command("add")
def deals_add(
    day: Annotated[str, typer.Option(help="The day it was won, YYYY-MM-DD.")],
    amount: Annotated[str, typer.Option(help="e.g. 12000 or 11999.90")],
    account: Annotated[str | None, typer.Option(help="The account's domain, e.g. "
                                                "acme.fr.")] = None,
    email: Annotated[str | None, typer.Option(help="Or the contact's e-mail.")] = None,
    currency: Annotated[str, typer.Option(help="Three-letter code.")] = "EUR",
    campaign: Annotated[str | None, typer.Option(help="Credit it in full to this campaign "
                                                 "(default: attributed by model).")] = None,
    note: Annotated[str, typer.Option(help="Free text.")] = "",
    workspace: Workspace = None,
) -> None:
    """Record a won deal."""
    settings = _settings()
    lang = settings.lang
    cells = {"day": day, "amount": amount, "currency": currency, "account": account or "",
             "email": email or "", "campaign": campaign or "", "note": note}
    with _writing(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        try:
            made = add_deal(conn, ws, cells, now=_now(), source="import")
        except ValueError as exc:
            raise _bad(lang, exc) from None
    out.print(t(lang, "deal_added", amount=format_cents(made.amount_cents, made.currency),
                day=made.day.isoformat()))


@deals_app.command("import")
def deals_import(
    file: Annotated[Path, typer.Argument(help="CSV with the columns day,account (domain) or "
                                         "email,amount,currency and optionally campaign,"
                                         "ref,note.")],
    skip_invalid: SkipInvalid = False,
    workspace: Workspace = None,
) -> None:
    """Import won deals; importing a file twice adds nothing."""
    lang, result = _import(file, workspace, skip_invalid, import_deals)
    out.print(t(lang, "deals_done", lines=result.lines, added=result.added, known=result.known))
    _skipped(lang, result)


@deals_app.command("list")
def deals_list(workspace: Workspace = None) -> None:
    """The workspace's won deals, newest first."""
    settings = _settings()
    lang = settings.lang
    with _reading(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        found = db.list_deals(conn, ws)
    if not found:
        out.print(t(lang, "deals_none"))
        return
    table = Table("id", "day", "account", "contact", "amount", "campaign")
    for d in found:
        table.add_row(str(d.id), d.day.isoformat(), d.account_name or "-",
                      d.contact_email or "-", format_cents(d.amount_cents, d.currency),
                      d.campaign_name or "-")
    out.print(table)


@conversions_app.command("add")
def conversions_add(
    name: str,
    kind: Annotated[str, typer.Option(help="event, url, form, stage or deal.")],
    value: Annotated[str, typer.Option(help="The event's name, a URL pattern such as "
                                       "/thanks*, the form's name (* for any), a stage "
                                       "(mql, sql, opportunity, customer).")] = "*",
    workspace: Workspace = None,
) -> None:
    """Define a conversion."""
    settings = _settings()
    lang = settings.lang
    with _writing(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        try:
            clean, chosen, val = validate_conversion(name, kind, value)
            made = db.insert_definition(conn, ws, name=clean, kind=chosen, value=val,
                                        now=_now())
        except ValueError as exc:
            raise _bad(lang, exc) from None
    out.print(t(lang, "conversion_added", name=made.name, kind=made.kind, value=made.value))


@conversions_app.command("list")
def conversions_list(workspace: Workspace = None) -> None:
    """The conversions defined in the workspace."""
    settings = _settings()
    lang = settings.lang
    with _reading(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        found = db.list_definitions(conn, ws)
    if not found:
        out.print(t(lang, "conversions_none"))
        return
    table = Table("id", "name", "kind", "value")
    for d in found:
        table.add_row(str(d.id), d.name, d.kind, d.value)
    out.print(table)


@conversions_app.command("remove")
def conversions_remove(name: str, workspace: Workspace = None) -> None:
    """Remove a conversion (by name or id)."""
    settings = _settings()
    lang = settings.lang
    with _writing(settings) as conn:
        ws = _workspace(conn, lang, workspace)
        found = next((d for d in db.list_definitions(conn, ws)
                      if d.name.lower() == name.strip().lower() or str(d.id) == name.strip()),
                     None)
        if found is None:
            err.print(t(lang, "no_conversion", name=name))
            raise typer.Exit(1)
        db.delete_definition(conn, ws, found.id)
    out.print(t(lang, "conversion_removed", name=found.name))


@summaries_app.command("send")
def summaries_send() -> None:
    """Put the summaries of campaigns that ended lately in the outbox (what ``serve``
    does hourly); idempotent."""
    settings = _settings()
    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        upgrade(engine)
        made = send_summaries(engine, _now(), allow_private=settings.allow_private_destinations)
    finally:
        engine.dispose()
    out.print(t(settings.lang, "summaries_done", count=made))
