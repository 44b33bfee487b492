"""Commands about networks and identification: lookup, import, data status, overrides,
reidentify and the identification funnel.  ``register(app)`` adds them to ``webleads``."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from webleads.clikit import _reading, _settings, err, out
from webleads.i18n import t
from webleads.model import Network
from webleads.settings import Settings

import_app = typer.Typer(no_args_is_help=True, help="Import data files.")
data_app = typer.Typer(no_args_is_help=True, help="Data shipped and imported.")
networks_app = typer.Typer(no_args_is_help=True, help="Networks: overrides and corrections.")
override_app = typer.Typer(no_args_is_help=True,
                           help="A workspace's own networks (first in precedence).")
networks_app.add_typer(override_app, name="override")


def register(app: typer.Typer) -> None:
    app.command()(lookup)
    app.command()(funnel)
    app.add_typer(import_app, name="import")
    app.add_typer(data_app, name="data")
    app.add_typer(networks_app, name="networks")


# -- lookup --------------------------------------------------------------------------------

def _resolver(settings: Settings, workspace: int | None) -> Any:
    """The global resolver, with the workspace's overrides when a database is there."""
    from webleads.app import make_resolver

    resolver = make_resolver(settings)
    overrides: Any = None
    if workspace is not None:
        from webleads.db import overrides as q
        from webleads.networks.overrides import OverrideSet

        with _reading(settings) as conn:
            overrides = OverrideSet(q.load_overrides(conn, workspace))

    def lookup(ip: str) -> Network | None:
        network = resolver.lookup(ip)
        if overrides:
            found = overrides.match(ip, network.asn if network else None)
            if found is not None:
                return found.apply(network) or Network(
                    category="unknown", confidence=1.0,
                    evidence=(f"override: {found.target} office (excluded)",), role="office")
        return network

    return lookup


def lookup(
    ips: Annotated[list[str] | None, typer.Argument(metavar="IP...", help="Addresses.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="One address per line "
                                              "('-': standard input).")] = None,
    workspace: Annotated[int | None, typer.Option(
        help="Apply this workspace's overrides too.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Identify IP addresses: network, organisation, category, confidence, evidence."""
    settings = _settings()
    resolve = _resolver(settings, workspace)
    items: list[tuple[str, str]] = [(f"argument {i}", ip) for i, ip in enumerate(ips or [], 1)]
    if file is not None:
        try:
            text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            err.print(t(settings.lang, "lookup_file", file=file, error=exc))
            raise typer.Exit(2) from exc
        items += [(f"{file}:{n}", line.strip()) for n, line in enumerate(text.splitlines(), 1)
                  if line.strip() and not line.lstrip().startswith("#")]
    if not items:
        err.print(t(settings.lang, "lookup_nothing"))
        raise typer.Exit(2)
    table = Table("ip", "asn", "network", "organisation", "category", "confidence",
                  "country", "evidence")
    bad = 0
    for where, ip in items:
        network = resolve(ip)
        if network is None:
            bad += 1
            err.print(t(settings.lang, "lookup_bad", where=where, value=ip))
            continue
        if as_json:
            print(json.dumps(_network_json(ip, network), ensure_ascii=False))
            continue
        table.add_row(ip, f"AS{network.asn}" if network.asn else "", network.as_org or "",
                      network.org_name or "", network.category, f"{network.confidence:.2f}",
                      network.country or "", "; ".join(network.evidence))
    if not as_json:
        _wide().print(table)
    if bad:
        raise typer.Exit(1)


def _wide() -> Console:
    """Tables stay readable when piped (rich would fold them to 80 columns)."""
    console = Console()
    return console if console.width >= 160 else Console(width=160)


def _network_json(ip: str, network: Network) -> dict[str, Any]:
    return {"ip": ip, "asn": network.asn, "as_org": network.as_org,
            "organisation": network.org_name, "domain": network.org_domain,
            "category": network.category, "confidence": network.confidence,
            "country": network.country, "role": network.role,
            "evidence": list(network.evidence)}


# -- import networks -------------------------------------------------------------------------

@import_app.command("networks")
def import_networks_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The data file.")],
    fmt: Annotated[str, typer.Option("--format", help="mmdb, dbip-asn-csv, iptoasn-tsv, "
                                     "ip2location-asn-csv, ipinfo-lite-csv, aws-json, "
                                     "google-json, azure-json, oracle-json, cloudflare, "
                                     "cidr-list, overrides-csv, rpsl.")],
    provider: Annotated[str | None, typer.Option(help="Published ranges: whose they are "
                                                 "(cidr-list: required).")] = None,
    kind: Annotated[str | None, typer.Option(help="cidr-list: hosting, bot, anonymizer "
                                             "or cdn.")] = None,
    workspace: Annotated[int, typer.Option(help="overrides-csv: the workspace.")] = 1,
    i_have_the_right: Annotated[bool, typer.Option(
        "--i-have-the-right", help="rpsl: you confirm you may use registry data this way "
        "(registry terms forbid marketing use).")] = False,
) -> None:
    """Import network data (validated line by line) as a layer of the identifier."""
    from webleads.networks.importers import FORMATS, ImportFormatError, count_lines
    from webleads.networks.imports import import_networks

    settings = _settings()
    if fmt not in FORMATS:
        err.print(t(settings.lang, "import_format", value=fmt, formats=", ".join(FORMATS)))
        raise typer.Exit(2)
    engine = None
    if FORMATS[fmt] == "overrides":
        engine = _engine(settings, workspace)
    line_format = fmt.endswith(("-csv", "-tsv")) or fmt in ("cidr-list", "rpsl")
    total = count_lines(file) if line_format else None
    started = datetime.now(UTC)
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=err, transient=True) as bar:
            task = bar.add_task(t(settings.lang, "import_reading", file=file.name), total=total)
            result = import_networks(
                file, fmt, data_dir=settings.data_dir, engine=engine, workspace_id=workspace,
                provider=provider, kind=kind, acknowledge_registry_terms=i_have_the_right,
                progress=lambda n: bar.advance(task, n))
    except ImportFormatError as exc:
        err.print(t(settings.lang, "import_error", error=str(exc)))
        raise typer.Exit(1) from exc
    except ValueError as exc:
        err.print(t(settings.lang, "import_error", error=str(exc)))
        raise typer.Exit(2) from exc
    finally:
        if engine is not None:
            engine.dispose()
    seconds = (datetime.now(UTC) - started).total_seconds()
    out.print(t(settings.lang, "import_done", ranges=result.ranges, layer=result.layer,
                seconds=f"{seconds:.1f}", target=result.path or f"workspace {workspace}"))


# -- data status -----------------------------------------------------------------------------

@data_app.command("status")
def data_status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Each data source in use: layer, date, size, ranges, licence and attribution."""
    from webleads.networks.sources import status_rows

    settings = _settings()
    rows = status_rows(settings.data_dir, enabled=settings.network_data == "shipped")
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        out.print(t(settings.lang, "data_none"))
        return
    table = Table("source", "layer", "date", "entries", "size", "licence")
    for row in rows:
        table.add_row(f"{row['name']}" + ("" if row["shipped"] else " *"), row["layer"],
                      str(row["date"])[:10], f"{row['ranges']:,}",
                      f"{row['size'] / 1e6:.1f} MB", row["licence"])
    _wide().print(table)
    if not all(row["shipped"] for row in rows):
        out.print(t(settings.lang, "data_imported_mark"))
    for row in rows:
        if row["attribution"]:
            out.print(f"- {row['attribution']}")


# -- overrides -------------------------------------------------------------------------------

@override_app.command("add")
def override_add(
    target: Annotated[str, typer.Argument(metavar="CIDR|ASN", help="192.0.2.0/24 or AS64500.")],
    role: Annotated[str, typer.Option(help="customer, office, partner, competitor, isp or "
                                      "organisation.")],
    organisation: Annotated[str | None, typer.Option(help="Name of the organisation.")] = None,
    domain: Annotated[str | None, typer.Option(help="Its web domain.")] = None,
    category: Annotated[str | None, typer.Option(help="enterprise, education, government, "
                                                 "isp, mobile, hosting, anonymizer, bot.")] = None,
    note: Annotated[str, typer.Option(help="Why (shown with the evidence).")] = "",
    workspace: Annotated[int, typer.Option(help="The workspace.")] = 1,
    apply: Annotated[bool, typer.Option(help="Re-identify stored hits now.")] = True,
) -> None:
    """Add (or replace) an override: the workspace's own knowledge of a network."""
    from webleads.db.overrides import upsert_override
    from webleads.networks.overrides import Override

    settings = _settings()
    is_asn = target.upper().removeprefix("AS").isdigit()
    try:
        override = Override(
            workspace_id=workspace, role=role, organisation=organisation, domain=domain,
            category=category, note=note,
            cidr=None if is_asn else target,
            asn=int(target.upper().removeprefix("AS")) if is_asn else None)
    except ValueError as exc:
        err.print(t(settings.lang, "override_invalid", error=str(exc)))
        raise typer.Exit(2) from exc
    engine = _engine(settings, workspace)
    try:
        with engine.begin() as conn:
            new_id = upsert_override(conn, override, now=datetime.now(UTC), created_by="cli")
        out.print(t(settings.lang, "override_added", id=new_id, target=override.target,
                    role=role))
        if apply:
            _reidentify(settings, engine, workspace)
    finally:
        engine.dispose()


@override_app.command("list")
def override_list(
    workspace: Annotated[int, typer.Option(help="The workspace.")] = 1,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The workspace's overrides."""
    from webleads.db.overrides import load_overrides

    settings = _settings()
    with _reading(settings) as conn:
        found = load_overrides(conn, workspace)
    if as_json:
        print(json.dumps([{"id": o.id, "target": o.target, "role": o.role,
                           "organisation": o.organisation, "domain": o.domain,
                           "category": o.category, "note": o.note} for o in found],
                         ensure_ascii=False))
        return
    if not found:
        out.print(t(settings.lang, "override_none"))
        return
    table = Table("id", "network", "role", "organisation", "domain", "category", "note")
    for o in found:
        table.add_row(str(o.id), o.target, o.role, o.organisation or "", o.domain or "",
                      o.category or "", o.note)
    out.print(table)


@override_app.command("remove")
def override_remove(
    override_id: Annotated[int, typer.Argument(metavar="ID")],
    workspace: Annotated[int, typer.Option(help="The workspace.")] = 1,
    apply: Annotated[bool, typer.Option(help="Re-identify stored hits now.")] = True,
) -> None:
    """Remove an override."""
    from webleads.db.overrides import delete_override

    settings = _settings()
    engine = _engine(settings)
    try:
        with engine.begin() as conn:
            removed = delete_override(conn, workspace, override_id)
        if not removed:
            err.print(t(settings.lang, "override_unknown", id=override_id))
            raise typer.Exit(1)
        out.print(t(settings.lang, "override_removed", id=override_id))
        if apply:
            _reidentify(settings, engine, workspace)
    finally:
        engine.dispose()


@networks_app.command("reidentify")
def reidentify_command(
    workspace: Annotated[int | None, typer.Option(help="Only this workspace.")] = None,
) -> None:
    """Re-resolve the networks of stored hits (after an override or new data)."""
    settings = _settings()
    engine = _engine(settings)
    try:
        _reidentify(settings, engine, workspace)
    finally:
        engine.dispose()


def _engine(settings: Settings, workspace: int | None = None) -> Any:
    """A writing engine; with ``workspace``, checks that the workspace exists."""
    from webleads.clikit import _require_schema
    from webleads.db.engine import create_engine
    from webleads.db.overrides import workspace_exists

    _require_schema(settings)
    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    if workspace is not None:
        with engine.connect() as conn:
            exists = workspace_exists(conn, workspace)
        if not exists:
            engine.dispose()
            err.print(t(settings.lang, "unknown_workspace", id=workspace))
            raise typer.Exit(1)
    return engine


def _reidentify(settings: Settings, engine: Any, workspace: int | None) -> None:
    from webleads.app import make_resolver
    from webleads.db.reidentify import reidentify
    from webleads.networks.overrides import OverrideBook

    book = OverrideBook(engine)
    book.refresh(force=True)
    report = reidentify(engine, make_resolver(settings), book, workspace_id=workspace)
    out.print(t(settings.lang, "reidentified", hits=report.hits_seen,
                changed=report.hits_changed, created=report.accounts_created,
                emptied=report.accounts_emptied))


# -- funnel ----------------------------------------------------------------------------------

def funnel(
    site: Annotated[str, typer.Option(help="Public key of the site.")],
    start: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD); "
                                              "default: 30 days ago.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD); "
                                            "default: today.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The identification funnel of a site: hits -> human -> business -> identified."""
    from webleads.db.funnel import funnel as compute
    from webleads.db.sites import site_by_key

    settings = _settings()
    try:
        last = date.fromisoformat(end) if end else datetime.now(UTC).date()
        first = date.fromisoformat(start) if start else last - timedelta(days=29)
    except ValueError as exc:
        err.print(t(settings.lang, "funnel_bad_date", error=str(exc)))
        raise typer.Exit(2) from exc
    with _reading(settings) as conn:
        found = site_by_key(conn, site)
        if found is None:
            err.print(t(settings.lang, "unknown_site", key=site))
            raise typer.Exit(1)
        result = compute(conn, site_id=found.id,
                         start=datetime.combine(first, time.min, UTC),
                         end=datetime.combine(last, time.max, UTC))
    stages = [("received", result.received), ("human", result.human),
              ("stored", result.stored), ("business", result.business),
              ("identified_hits", result.identified_hits), ("identified", result.identified),
              ("in_target", result.in_target)]
    if as_json:
        print(json.dumps({"site": site, "from": first.isoformat(), "to": last.isoformat(),
                          **dict(stages), "by_category": result.by_category}))
        return
    table = Table(t(settings.lang, "funnel_stage"), t(settings.lang, "funnel_count"), "%")
    top = result.received or 1
    for name, value in stages:
        # Organisations are not hits: no share of the hits received for them.
        share = "" if name in ("identified", "in_target") else f"{100 * value / top:.1f}"
        table.add_row(t(settings.lang, f"funnel_{name}"), f"{value:,}", share)
    out.print(t(settings.lang, "funnel_title", site=site, first=first, last=last))
    out.print(table)
    out.print(", ".join(f"{k}: {v:,}" for k, v in sorted(result.by_category.items())))
