"""The ``webleads`` command: serve, migrate, site, hits, demo."""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from webleads.clikit import _reading, _require_schema, _safe_url, _settings, err, out
from webleads.db import reads
from webleads.db.engine import create_engine
from webleads.db.migrate import current_revision, upgrade
from webleads.i18n import t
from webleads.model import PageGroupRule
from webleads.settings import Settings
from webleads.sites import SiteError, create_site, snippet

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="webleads-tracker: which organisations visit your site.")
site_app = typer.Typer(no_args_is_help=True, help="Tracked websites.")
app.add_typer(site_app, name="site")


def _migrate(settings: Settings) -> str:
    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        upgrade(engine)
        return current_revision(engine) or "-"
    finally:
        engine.dispose()


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    settings = _settings()
    revision = _migrate(settings)
    out.print(t(settings.lang, "migrated", revision=revision,
                url=_safe_url(settings.database_url)))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes.")] = 1,
) -> None:
    """Migrate the database, then serve the tag, collect endpoint and dashboard."""
    import uvicorn

    settings = _settings()
    _migrate(settings)
    out.print(t(settings.lang, "serving", host=host, port=port))
    common: dict[str, Any] = dict(host=host, port=port, loop="uvloop", http="httptools",
                                  proxy_headers=False, access_log=False,
                                  log_level=settings.log_level, timeout_graceful_shutdown=10)
    from webleads.processor import Supervised, drain_queue

    # uvicorn stops gracefully on SIGTERM, then raises the signal again: exit normally
    # instead, so that the processor child is stopped below.
    signal.signal(signal.SIGTERM, _exit_normally)
    if settings.processor == "inline":
        drain_queue(settings)  # what a former separate-mode run left queued
        child = None
    else:
        child = Supervised.start()  # the processor, on its own core
    shared = None
    if workers > 1 and not settings.metrics_dir:
        # Where the workers publish their counters for /metrics (webleads/metrics.py);
        # they read it from the environment they inherit.
        shared = tempfile.mkdtemp(prefix="webleads-metrics-")
        os.environ["WEBLEADS_METRICS_DIR"] = shared
    try:
        if workers == 1:
            from webleads.app import create_app

            uvicorn.run(create_app(settings, background=True), **common)
        else:
            uvicorn.run("webleads.app:app_from_env", factory=True, workers=workers, **common)
    finally:
        if child is not None:
            child.stop()
        if shared is not None:
            shutil.rmtree(shared, ignore_errors=True)


def _exit_normally(signum: int, frame: object) -> None:
    raise SystemExit(0)


@app.command()
def process(
    drain: Annotated[bool, typer.Option(help="Store what is queued, then exit.")] = False,
    parent: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Store the hits of the hit queue (WEBLEADS_PROCESSOR=separate); webleads serve
    starts it by itself."""
    import logging

    from webleads.processor import drain_queue, run_processor

    settings = _settings()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _require_schema(settings)
    if drain:
        n = drain_queue(settings)
        out.print(t(settings.lang, "processed", n=n))
    else:
        run_processor(settings, parent=parent)


def _page_groups(values: list[str], lang: str) -> list[PageGroupRule]:
    rules = []
    for value in values:
        name, sep, pattern = value.partition("=")
        if not sep or not name.strip() or not pattern.strip():
            err.print(t(lang, "page_group_error", value=value))
            raise typer.Exit(2)
        rules.append(PageGroupRule(name.strip(), pattern.strip()))
    return rules


@site_app.command("add")
def site_add(
    name: Annotated[str, typer.Argument(help="A name for the site.")],
    domain: Annotated[str, typer.Option(help="The site's domain; its sub-domains are "
                                        "allowed to send hits too.")],
    origin: Annotated[list[str] | None, typer.Option(help="Another allowed origin "
                      "(scheme://host[:port]); repeatable.")] = None,
    timezone: Annotated[str, typer.Option(help="Time zone of the site's reports.")] = "UTC",
    ignore: Annotated[list[str] | None, typer.Option(help="A network (CIDR) whose visits are "
                      "ignored, e.g. your offices; repeatable.")] = None,
    page_group: Annotated[list[str] | None, typer.Option(help="NAME=/path/glob: pages of a "
                          "product range; repeatable.")] = None,
    cookieless: Annotated[bool, typer.Option(help="Store nothing in browsers (daily-salted "
                          "hash instead of a visitor id).")] = False,
    respect_dnt: Annotated[bool, typer.Option(help="Ignore visitors sending Do-Not-Track or "
                           "Global Privacy Control.")] = True,
    store_ip: Annotated[bool, typer.Option(help="Also store raw IP addresses (off: only "
                        "truncated or hashed).")] = False,
    ip_mode: Annotated[str, typer.Option(help="Stored IP form: truncate or hash.")] = "truncate",
    privacy_mode: Annotated[str, typer.Option(help="audience (CNIL-exempt measurement, no "
                            "identification) or b2b (organisations identified).")] = "b2b",
    consent: Annotated[str, typer.Option(help="Hits before the visitor's consent: wait, "
                       "anonymous or ignore (consent not asked for).")] = "ignore",
    workspace: Annotated[str, typer.Option(help="Workspace of the site.")] = "default",
    base_url: Annotated[str, typer.Option(help="Public URL of this server, for the "
                        "snippet.")] = "http://localhost:8000",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a site; print its public key and the tag snippet to paste."""
    settings = _settings()
    if ip_mode not in ("truncate", "hash"):
        err.print(t(settings.lang, "site_error", error="--ip-mode: truncate or hash"))
        raise typer.Exit(2)
    _migrate(settings)
    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        made = create_site(
            engine, name, domain, origins=origin or [], timezone=timezone,
            ignored_networks=ignore or [], page_groups=_page_groups(page_group or [],
                                                                     settings.lang),
            identity_mode="cookieless" if cookieless else "cookie", respect_dnt=respect_dnt,
            store_raw_ip=store_ip, ip_mode=ip_mode,  # type: ignore[arg-type]
            privacy_mode=privacy_mode, consent=consent,  # type: ignore[arg-type]
            workspace=workspace,
        )
    except SiteError as exc:
        err.print(t(settings.lang, "site_error", error=exc))
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    site = made.site
    tag = snippet(site, base_url)
    if as_json:
        print(json.dumps({"key": site.key, "secret": made.secret, "id": site.id,
                          "name": site.name, "domain": site.domain, "snippet": tag}))
        return
    out.print(t(settings.lang, "site_created", name=site.name))
    out.print(t(settings.lang, "site_key", key=site.key))
    out.print(t(settings.lang, "site_secret", secret=made.secret))
    out.print(t(settings.lang, "site_snippet", domain=site.domain))
    print(tag)


@site_app.command("set")
def site_set(
    key: Annotated[str, typer.Argument(help="Public key of the site.")],
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    domain: Annotated[str | None, typer.Option(help="New domain.")] = None,
    origin: Annotated[list[str] | None, typer.Option(help="Allowed origins (replace the "
                      "current list); repeatable.")] = None,
    clear_origins: Annotated[bool, typer.Option(help="Remove every extra origin.")] = False,
    timezone: Annotated[str | None, typer.Option(help="Time zone of reports.")] = None,
    ignore: Annotated[list[str] | None, typer.Option(help="Ignored networks (replace the "
                      "current list); repeatable.")] = None,
    clear_ignore: Annotated[bool, typer.Option(help="Ignore no network.")] = False,
    page_group: Annotated[list[str] | None, typer.Option(help="NAME=/path/glob rules "
                          "(replace the current list); repeatable.")] = None,
    clear_page_groups: Annotated[bool, typer.Option(help="Remove every page group.")] = False,
    cookieless: Annotated[bool | None, typer.Option("--cookieless/--cookie",
                          help="Identity mode.")] = None,
    respect_dnt: Annotated[bool | None, typer.Option("--respect-dnt/--no-respect-dnt",
                           help="Honour Do-Not-Track and GPC.")] = None,
    store_ip: Annotated[bool | None, typer.Option("--store-ip/--no-store-ip",
                        help="Store raw IP addresses.")] = None,
    ip_mode: Annotated[str | None, typer.Option(help="truncate or hash.")] = None,
    privacy_mode: Annotated[str | None, typer.Option(help="audience or b2b.")] = None,
    consent: Annotated[str | None, typer.Option(help="wait, anonymous or ignore.")] = None,
    base_url: Annotated[str, typer.Option(help="Public URL of this server, for the "
                        "snippet.")] = "http://localhost:8000",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Change options of a site; options not given keep their value."""
    from webleads.sites import update_site

    settings = _settings()
    _require_schema(settings)
    changes: dict[str, Any] = {
        "name": name, "domain": domain, "timezone": timezone, "ip_mode": ip_mode,
        "respect_dnt": respect_dnt, "store_raw_ip": store_ip,
        "privacy_mode": privacy_mode, "consent": consent,
        "origins": [] if clear_origins else origin,
        "ignored_networks": [] if clear_ignore else ignore,
        "page_groups": [] if clear_page_groups else (
            _page_groups(page_group, settings.lang) if page_group else None),
        "identity_mode": None if cookieless is None else (
            "cookieless" if cookieless else "cookie"),
    }
    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        site = update_site(engine, key, **{k: v for k, v in changes.items() if v is not None})
    except SiteError as exc:
        err.print(t(settings.lang, "site_error", error=exc))
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    tag = snippet(site, base_url)
    if as_json:
        print(json.dumps({"key": site.key, "name": site.name, "domain": site.domain,
                          "origins": list(site.origins), "timezone": site.timezone,
                          "ignored_networks": list(site.ignored_networks),
                          "page_groups": [{"group": r.group, "pattern": r.pattern}
                                          for r in site.page_groups],
                          "identity_mode": site.identity_mode,
                          "respect_dnt": site.respect_dnt, "store_raw_ip": site.store_raw_ip,
                          "ip_mode": site.ip_mode, "privacy_mode": site.privacy_mode,
                          "consent": site.consent, "snippet": tag}))
        return
    out.print(t(settings.lang, "site_updated", name=site.name))
    if cookieless is not None or respect_dnt is not None or consent is not None:
        out.print(t(settings.lang, "site_snippet_changed", domain=site.domain))
        print(tag)


@site_app.command("list")
def site_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the sites."""
    settings = _settings()
    from webleads.db.sites import load_sites

    with _reading(settings) as conn:
        sites = load_sites(conn)
    if as_json:
        print(json.dumps([{"key": s.key, "name": s.name, "domain": s.domain,
                           "identity_mode": s.identity_mode} for s in sites]))
        return
    if not sites:
        out.print(t(settings.lang, "sites_none"))
        return
    table = Table("key", "name", "domain", "mode")
    for s in sites:
        table.add_row(s.key, s.name, s.domain, s.identity_mode)
    out.print(table)


@app.command()
def hits(
    site: Annotated[str, typer.Option(help="Public key of the site.")],
    last: Annotated[int, typer.Option(min=1, max=10_000, help="How many hits.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """Show the latest stored hits of a site with their enrichment."""
    settings = _settings()
    from webleads.db.sites import site_by_key

    with _reading(settings) as conn:
        found = site_by_key(conn, site)
        if found is not None:
            rows = reads.latest_hits(conn, found.id, limit=last)
            dropped = reads.drop_totals(conn, found.id)
    if found is None:
        err.print(t(settings.lang, "unknown_site", key=site))
        raise typer.Exit(1)
    _say_waiting(settings)
    if as_json:
        print(json.dumps([{k: _plain(v) for k, v in row.items()} for row in rows]))
        return
    if not rows:
        out.print(t(settings.lang, "hits_none", drops=dropped or 0))
        return
    table = Table("time (UTC)", "type", "url", "organisation / network", "country",
                  "device", "source", "group")
    for row in rows:
        org = row["org_name"] or row["as_org"] or ""
        if row["network_category"]:
            org = f"{org} ({row['network_category']})".strip()
        table.add_row(
            row["ts"].strftime("%Y-%m-%d %H:%M:%S"), row["type"], _short(row["url"]), org,
            row["country"] or "", " ".join(filter(None, [row["browser"], row["os"],
                                                        row["device_type"]])),
            " ".join(filter(None, [row["source_class"], row["source_name"]])),
            row["page_group"] or "",
        )
    out.print(table, width=max(out.width, 160))  # readable when piped (80 columns)


def _say_waiting(settings: Settings) -> None:
    """On standard error (the JSON output stays clean): acknowledged hits that the
    processor has not stored yet, which this list cannot show."""
    from webleads.db.hit_queue import waiting

    engine = create_engine(settings.database_url)
    try:
        n, oldest = waiting(engine)
    finally:
        engine.dispose()
    if n:
        age = max(0, round((datetime.now(UTC) - oldest).total_seconds())) if oldest else 0
        err.print(t(settings.lang, "hits_waiting", n=n, age=age))


@app.command()
def quarantine(
    last: Annotated[int, typer.Option(min=1, max=10_000, help="How many requests.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """Show the latest refused collect requests, with their reason and payload."""
    settings = _settings()
    with _reading(settings) as conn:
        rows = reads.quarantine_rows(conn, limit=last)
    for row in rows:
        row["payload"] = bytes(row["payload"]).decode("utf-8", "replace")
    if as_json:
        print(json.dumps([{k: _plain(v) for k, v in row.items()} for row in rows]))
        return
    if not rows:
        out.print(t(settings.lang, "quarantine_none"))
        return
    table = Table("time (UTC)", "endpoint", "status", "reason", "field", "site", "detail",
                  "payload")
    for row in rows:
        table.add_row(row["received_at"].strftime("%Y-%m-%d %H:%M:%S"), row["endpoint"],
                      str(row["status"]), row["reason"], row["field"] or "",
                      row["site_key"] or "", row["detail"], _short(row["payload"], 80))
    out.print(table, width=max(out.width, 160))


@app.command()
def demo(
    days: Annotated[int, typer.Option(min=1, max=365, help="Days of history.")] = 30,
    organisations: Annotated[int, typer.Option(min=1, max=5000,
                             help="Fictional visiting organisations.")] = 300,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same traffic).")] = 7,
) -> None:
    """Create a demo site and fill it with realistic traffic through the collect path."""
    import asyncio

    from rich.progress import Progress

    from webleads import demo_data
    from webleads.app import create_app
    from webleads.demo import DemoError, demo_networks, run_demo, seed_team

    settings = _settings()
    _migrate(settings)
    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    made = create_site(engine, demo_data.SITE_NAME, demo_data.SITE_DOMAIN,
                       timezone=demo_data.SITE_TIMEZONE, page_groups=demo_data.PAGE_GROUPS)
    seed_team(engine, made.site.workspace_id, now=datetime.now(UTC))
    # Inline: the demo's hits are in the reports when it ends, with no processor running.
    app_ = create_app(settings.model_copy(update={"processor": "inline"}), engine=engine,
                      resolver=demo_networks(organisations, seed))
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task(t(settings.lang, "demo_progress"), total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            report = asyncio.run(run_demo(app_, site_key=made.site.key,
                                          site_secret=made.secret, days=days,
                                          organisations=organisations, seed=seed,
                                          progress=progress))
        except DemoError as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
        finally:
            engine.dispose()
    out.print(t(settings.lang, "demo_done", hits=report.hits_sent, orgs=report.organisations,
                days=report.days, key=made.site.key, accepted=report.accepted,
                dropped=report.dropped))
    out.print(t(settings.lang, "demo_next", key=made.site.key))
    out.print(t(settings.lang, "demo_dashboard"))


def _short(url: str, width: int = 60) -> str:
    return url if len(url) <= width else url[: width - 1] + "…"


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def main() -> None:
    app()


if __name__ == "__main__":
    main()


# Commands about networks and identification live in their own module.
from webleads import cli_networks  # noqa: E402

cli_networks.register(app)

from webleads.fr.cli import fr_app  # noqa: E402

app.add_typer(fr_app, name="fr", help="French organisations: SIRENE, NAF, headcount.")

from webleads.outbox.cli import register as register_outbox  # noqa: E402

register_outbox(app)

from webleads.scoring.cli import register as register_scoring  # noqa: E402

register_scoring(app)

from webleads.lifecycle.cli import register as register_lifecycle  # noqa: E402

register_lifecycle(app)

from webleads.campaigns.cli import register as register_campaigns  # noqa: E402

register_campaigns(app)

from webleads.privacy.cli import register as register_privacy  # noqa: E402

register_privacy(app)

from webleads.cli_users import register as register_users  # noqa: E402

register_users(app)
