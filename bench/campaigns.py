"""Campaign reports benchmark: the campaign pages over a history of 1,000,000 hits.
Not a test (a tool for people, like the other benchmarks of bench/).

    .venv/bin/python bench/campaigns.py                    # SQLite, 1,000,000 hits
    .venv/bin/python bench/campaigns.py --engine both      # SQLite and PostgreSQL
    .venv/bin/python bench/campaigns.py --hits 200000      # quicker

1. Generates the history with bench/score.py's generator (accounts, sessions and hits
   over 180 days, 80 % of the sessions with an account), then gives 8 % of the sessions
   the utm_campaign of one of 12 campaigns (30 days each, one per product range or
   none) and 1 % an ad click id (the google campaign of those days); adds daily costs,
   MQL and SQL stage changes (10 % and 3 % of the accounts), 400 won deals (half of
   them with a campaign), 2,000 contacts, 1,000 tracked e-mail clicks and three
   conversion definitions.
2. Times, median of ``--runs``: the report of every campaign (``report_set``, what all
   pages start from), and the pages themselves, rendered by the application in-process
   (HTTP through the ASGI app, signed in): the list, the busiest campaign's page (its
   charts over time, conversions and product-range focus included), the comparison of
   all campaigns and the product ranges.

The budget is 500 ms per page (wall clock, median).  The CPU time of the process is
printed too: on a machine shared with other work, it says what the pages cost when
the wall clock also counts the wait for a core (the JSON carries the load average).
PostgreSQL's own CPU is not in that figure.  The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import score  # noqa: E402
from score import DAYS, NOW  # noqa: E402

from webleads.app import create_app  # noqa: E402
from webleads.campaigns.model import NewCampaign, validate  # noqa: E402
from webleads.campaigns.reports import report_set  # noqa: E402
from webleads.db import campaigns as db  # noqa: E402
from webleads.db import contacts_import as cdb  # noqa: E402
from webleads.db import dialect  # noqa: E402
from webleads.db.engine import create_engine  # noqa: E402
from webleads.db.migrate import upgrade  # noqa: E402
from webleads.db.schema import accounts, sessions  # noqa: E402
from webleads.db.schema_lifecycle import stage_history  # noqa: E402
from webleads.model import Site  # noqa: E402
from webleads.settings import Settings  # noqa: E402
from webleads.sites import create_site  # noqa: E402
from webleads.web.security import SESSION_COOKIE  # noqa: E402

BUDGET_MS = 500.0
CAMPAIGNS = 12
RANGES = ["crm", "erp", None]
PASSWORD = "bench password 123"


def generate(engine: sa.Engine, site: Site, n_hits: int, seed: int) -> int:
    """bench/score.py's history on SQLite; on PostgreSQL, the same rows with the
    timestamps the driver expects (score.py writes SQLite's text form)."""
    if engine.dialect.name == "sqlite":
        return score.generate(engine, site, n_hits, seed)
    original = dialect.bulk_insert

    def bulk_insert(conn: Any, table: sa.Table, columns: Any, rows: Any) -> None:
        stamps = [i for i, c in enumerate(columns) if c in (
            "ts", "received_at", "started_at", "last_seen")]
        fixed = [tuple(datetime.fromisoformat(v).replace(tzinfo=NOW.tzinfo)
                       if i in stamps and isinstance(v, str) else v
                       for i, v in enumerate(row)) for row in rows]
        original(conn, table, columns, fixed)

    score.dialect.bulk_insert = bulk_insert  # type: ignore[assignment]
    try:
        return score.generate(engine, site, n_hits, seed)
    finally:
        score.dialect.bulk_insert = original  # type: ignore[assignment]


def enrich_history(engine: sa.Engine, workspace_id: int, n_hits: int, seed: int) -> int:
    """Campaigns, their sessions, costs, stages, deals, contacts, clicks, definitions."""
    rng = random.Random(seed)
    start = (NOW - timedelta(days=DAYS)).date()
    made = []
    with engine.begin() as conn:
        for i in range(CAMPAIGNS):
            first = start + timedelta(days=15 * i)
            channel = "google" if i == 3 else ("email", "linkedin", "event")[i % 3]
            made.append(db.insert_campaign(conn, workspace_id, validate(NewCampaign(
                name=f"Campaign {i + 1:02d}", channel=channel, objective="mqls",
                starts_on=first, ends_on=first + timedelta(days=29),
                page_group=RANGES[i % 3], budget_cents=500_000,
                utm_campaign=f"camp-{i + 1:02d}")), now=NOW))
        s = sessions.c
        # 8 % of the sessions: one campaign's utm_campaign (capitalised, as people type).
        for i in range(CAMPAIGNS):
            conn.execute(sa.update(sessions).where(s.id % 100 < 8, s.id % CAMPAIGNS == i)
                         .values(utm_source="newsletter", utm_medium="email",
                                 utm_campaign=f"Camp-{i + 1:02d}", source_class="email"))
        # 1 %: an ad click without UTM values (google's campaign of those days).
        conn.execute(sa.update(sessions).where(s.id % 100 == 50).values(
            click_id_kind="gclid", source_class="paid"))
        for c in made:
            days = (c.ends_on - c.starts_on).days + 1
            db.put_costs(conn, [db.CostLine(c.id, c.starts_on + timedelta(days=d),
                                            rng.randrange(5_000, 40_000), "EUR")
                                for d in range(days)], now=NOW)
        account_ids = [int(a) for a in conn.execute(sa.select(accounts.c.id)).scalars()]
        t0 = NOW - timedelta(days=DAYS)
        changes = []
        for a in account_ids:
            r = rng.random()
            if r < 0.10:
                at = t0 + timedelta(seconds=rng.randrange(DAYS * 86_400))
                changes.append({"workspace_id": workspace_id, "account_id": a,
                                "from_stage": "engaged", "to_stage": "mql", "at": at,
                                "by": "auto", "reason": "bench"})
                if r < 0.03:
                    changes.append({"workspace_id": workspace_id, "account_id": a,
                                    "from_stage": "mql", "to_stage": "sql",
                                    "at": at + timedelta(days=3), "by": "rep",
                                    "reason": "bench"})
        conn.execute(stage_history.insert(), changes)
        deals = []
        for k in range(400):
            day = start + timedelta(days=rng.randrange(DAYS))
            campaign = made[rng.randrange(CAMPAIGNS)].id if k % 2 else None
            deals.append(db.NewDeal(day=day, amount_cents=rng.randrange(100_000, 5_000_000),
                                    currency="EUR", account_id=rng.choice(account_ids),
                                    contact_id=None, campaign_id=campaign, ref=f"bench-{k}",
                                    source="import"))
        db.insert_deals(conn, workspace_id, deals, now=NOW)
        lines = [cdb.ContactLine(f"person{k}@org{k % len(account_ids)}.example", f"P {k}",
                                 f"Org {k}", k % 4 != 0, f"org{k % len(account_ids)}.example",
                                 f"org{k % len(account_ids)}.example") for k in range(2000)]
        ids = cdb.upsert_contacts(conn, workspace_id, lines, now=NOW)
        cdb.attach_accounts(conn, workspace_id, {x.domain: [ids[x.email]] for x in lines})
        contact_ids = sorted(ids.values())
        for k in range(1000):
            c = made[k % CAMPAIGNS]
            at = datetime.combine(c.starts_on, datetime.min.time(), NOW.tzinfo) + timedelta(
                hours=k % 500)
            cdb.insert_click(conn, f"bench-nonce-{k:010d}", workspace_id=workspace_id,
                             campaign_id=c.id, contact_id=contact_ids[k % len(contact_ids)],
                             now=at, expires_at=at + timedelta(minutes=30))
        for name, kind, value in (("Signup", "event", "signup"),
                                  ("Pricing", "url", "/pricing*"), ("Contact", "form", "*")):
            db.insert_definition(conn, workspace_id, name=name, kind=kind, value=value, now=NOW)
        n = conn.execute(sa.select(sa.func.count()).select_from(sessions)
                         .where(s.utm_campaign.is_not(None))).scalar_one()
    return int(n)


def median_ms(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of ``fn`` (after one warm-up run)."""
    fn()  # warm caches (the database's and Python's imports)
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def measure(url: str, n_hits: int, seed: int, runs: int, label: str) -> dict[str, Any]:
    engine = create_engine(url, sqlite_synchronous="NORMAL")
    upgrade(engine)
    site = create_site(engine, "Bench", "bench.example").site
    ws = site.workspace_id
    t0 = time.perf_counter()
    total = generate(engine, site, n_hits, seed)
    tagged = enrich_history(engine, ws, n_hits, seed)
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    print(f"[{label}] generated {total:,} hits, {tagged:,} campaign sessions in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)

    def reports() -> object:
        with engine.connect() as conn:
            return report_set(conn, ws)

    figures: dict[str, Any] = {}
    figures["report_set_ms"], figures["report_set_cpu_ms"] = median_ms(reports, runs)
    rs = report_set(engine.connect(), ws)
    busiest = max(rs.reports, key=lambda r: r.sessions)
    print(f"[{label}] report_set (12 campaigns, every model): "
          f"{figures['report_set_ms']:.0f} ms; busiest campaign: {busiest.sessions:,} "
          f"sessions", flush=True)
    app = create_app(Settings(database_url=url, secret_key="bench", processor="inline"),
                     engine=engine)
    app.web.users.create("bench@example.com", PASSWORD, name="Bench", workspace=ws,
                         role="admin", locale="en")
    login = app.web.users.login("bench@example.com", PASSWORD, ip="127.0.0.1")
    assert login.token
    cookie = {SESSION_COOKIE: app.web.signer.session_cookie(login.token)}
    ids = "&".join(f"ids={r.campaign.id}" for r in rs.reports)
    pages = {"list_ms": f"/w/{ws}/campaigns", "detail_ms": f"/w/{ws}/campaigns/"
             f"{busiest.campaign.id}", "compare_ms": f"/w/{ws}/campaigns/compare?{ids}",
             "ranges_ms": f"/w/{ws}/campaigns/ranges"}

    async def fetch(client: httpx.AsyncClient, path: str) -> None:
        r = await client.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])

    async def run_pages() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                     cookies=cookie) as client:
            for key, path in pages.items():
                await fetch(client, path)  # warm
                wall, cpu = [], []
                for _ in range(runs):
                    t1, c1 = time.perf_counter(), time.process_time()
                    await fetch(client, path)
                    wall.append((time.perf_counter() - t1) * 1000)
                    cpu.append((time.process_time() - c1) * 1000)
                figures[key] = statistics.median(wall)
                figures[key.replace("_ms", "_cpu_ms")] = statistics.median(cpu)
                print(f"[{label}] GET {path.split('?')[0]}: median {figures[key]:.0f} ms "
                      f"(min {min(wall):.0f}, max {max(wall):.0f} over {runs} runs; CPU of "
                      f"this process {statistics.median(cpu):.0f} ms)", flush=True)

    asyncio.run(run_pages())
    engine.dispose()
    worst = max(figures[k] for k in pages)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"engine": label, "hits": total, "campaign_sessions": tagged,
            **{k: round(v, 1) for k, v in figures.items()}, "worst_page_ms": round(worst, 1),
            "within_budget": worst <= BUDGET_MS, "load_average": load,
            "cpus": os.cpu_count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hits", type=int, default=1_000_000, help="hits of the history")
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per measure")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    results = []
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="webleads-bench-campaigns-") as tmp:
            results.append(measure(f"sqlite:///{Path(tmp) / 'history.db'}", args.hits,
                                   args.seed, args.runs, "sqlite"))
    if args.engine in ("postgres", "both"):
        from webleads.testing.pgcluster import start_cluster

        cluster = start_cluster()
        try:
            results.append(measure(cluster.create_database("bench_campaigns"), args.hits,
                                   args.seed, args.runs, "postgres"))
        finally:
            cluster.stop()
    print(json.dumps({"budget_ms": BUDGET_MS, "day": date.today().isoformat(),
                      "results": results,
                      "within_budget": all(r["within_budget"] for r in results)}))


if __name__ == "__main__":
    main()
