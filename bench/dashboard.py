"""Dashboard benchmark: server time of each main page and fragment on a large history.
Not a test; see bench/README.md ("dashboard").

    .venv/bin/python bench/dashboard.py                  # 1,000,000 hits, 10,000 accounts
    .venv/bin/python bench/dashboard.py --hits 100000    # quicker

1. Generates a history on SQLite in a temporary file (bench/score.py's generator: 180
   days, 80 % of the sessions from an account), then rescores it so that accounts have
   scores, grades and stages.
2. Calls the ASGI application in-process (httpx.ASGITransport: no network, no client
   in the timing) as a logged-in admin, each page ``--runs`` times after one warm-up
   call, and reports the p50 and p95 server time, next to the same figures for
   ``/healthz`` measured in the same run (the ratio says how much of the time is the
   page's own work).  The first call of the Overview is reported apart: it may build
   the daily rollups of the period.

Targets (issue 5): Accounts and Account page p95 <= 150 ms; Overview over 90 days
<= 300 ms.  The last line is JSON: {"pages": {name: {"p50_ms", "p95_ms", ...}}, ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from score import NOW, generate  # noqa: E402

from webleads.app import create_app  # noqa: E402
from webleads.db.engine import create_engine  # noqa: E402
from webleads.db.migrate import upgrade  # noqa: E402
from webleads.db.schema import accounts, hits  # noqa: E402
from webleads.scoring.rescore import rescore  # noqa: E402
from webleads.settings import Settings  # noqa: E402
from webleads.sites import create_site  # noqa: E402
from webleads.web.security import SESSION_COOKIE  # noqa: E402

TARGETS_MS = {"accounts": 150, "accounts_filtered": 150, "account_heavy": 150,
              "account_typical": 150, "overview_90d": 300}


def pages(ws: int, site_id: int, heavy: int, typical: int) -> dict[str, str]:
    w = f"/w/{ws}"
    return {
        "healthz": "/healthz",
        "accounts": f"{w}/accounts",
        "accounts_filtered": f"{w}/accounts?score=10&country=FR&sort=last_seen&period=30",
        "accounts_page_5": f"{w}/accounts?page=5",
        "account_heavy": f"{w}/account/{heavy}",
        "account_typical": f"{w}/account/{typical}",
        "account_sessions_more": f"{w}/account/{heavy}/sessions",
        "overview_90d": f"{w}/overview?site={site_id}&period=90d",
        "overview_30d": f"{w}/overview?site={site_id}&period=30d",
        "live": f"{w}/live",
        "funnel": f"{w}/funnel?site={site_id}",
        "campaigns": f"{w}/campaigns",
        "settings_sites": f"{w}/settings/sites",
        "settings_deliveries": f"{w}/settings/deliveries",
    }


async def measure(app: Any, cookie: str, targets: dict[str, str], runs: int
                  ) -> dict[str, dict[str, Any]]:
    transport = httpx.ASGITransport(app=app)
    out: dict[str, dict[str, Any]] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                 cookies={SESSION_COOKIE: cookie},
                                 headers={"accept": "text/html"}) as client:
        for name, url in targets.items():
            t0 = time.perf_counter()
            first = await client.get(url)
            first_ms = (time.perf_counter() - t0) * 1000
            if first.status_code != 200:
                out[name] = {"status": first.status_code, "url": url}
                print(f"{name:24} {url}: HTTP {first.status_code} (not measured)", flush=True)
                continue
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                response = await client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            times.sort()
            p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
            out[name] = {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1),
                         "first_ms": round(first_ms, 1), "bytes": len(first.content),
                         "url": url}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hits", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30, help="measured calls per page")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="webleads-bench-dashboard-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'history.db'}"
        engine = create_engine(url, sqlite_synchronous="NORMAL")
        upgrade(engine)
        site = create_site(engine, "Bench", "bench.example", timezone="Europe/Paris").site
        t0 = time.perf_counter()
        total = generate(engine, site, args.hits, args.seed, n_accounts=args.accounts)
        print(f"generated {total:,} hits, {args.accounts:,} accounts in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        rescore(engine, workspace_id=site.workspace_id, now=NOW)
        print(f"rescored in {time.perf_counter() - t0:.1f} s", flush=True)
        with engine.connect() as conn:
            per_account = (sa.select(hits.c.account_id, sa.func.count().label("n"))
                           .where(hits.c.account_id.is_not(None))
                           .group_by(hits.c.account_id).order_by(sa.desc("n")))
            ranked = conn.execute(per_account).all()
            heavy, typical = int(ranked[0].account_id), int(ranked[len(ranked) // 2].account_id)
            n_accounts = conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar()
        print(f"account pages: heaviest {heavy} ({ranked[0].n:,} hits), "
              f"median {typical} ({ranked[len(ranked) // 2].n:,} hits); {n_accounts:,} accounts",
              flush=True)
        app = create_app(Settings(database_url=url, secret_key="bench-secret",
                                  processor="inline"), engine=engine)
        app.web.users.create("bench@example.com", "bench password 1", install_admin=True,
                             workspace=site.workspace_id, locale="fr")
        login = app.web.users.login("bench@example.com", "bench password 1", ip="127.0.0.1")
        assert login.token
        cookie = app.web.signer.session_cookie(login.token)
        results = asyncio.run(measure(app, cookie, pages(site.workspace_id, site.id, heavy,
                                                         typical), args.runs))
        engine.dispose()
    base = results.get("healthz", {}).get("p50_ms") or 0.0
    print(f"\n{'page':24} {'first':>9} {'p50':>9} {'p95':>9} {'x healthz':>10} target")
    verdicts = {}
    for name, row in results.items():
        if "p95_ms" not in row:
            continue
        target = TARGETS_MS.get(name)
        ok = None if target is None else row["p95_ms"] <= target
        verdicts[name] = ok
        ratio = row["p50_ms"] / base if base else 0
        print(f"{name:24} {row['first_ms']:8.1f}ms {row['p50_ms']:8.1f}ms {row['p95_ms']:8.1f}ms "
              f"{ratio:9.0f}x {'' if target is None else f'<= {target} ms: '}"
              f"{'' if ok is None else ('ok' if ok else 'MISSED')}")
    print(json.dumps({"pages": results, "targets_ms": TARGETS_MS,
                      "all_targets_met": all(v for v in verdicts.values() if v is not None)
                      and all(n in verdicts for n in TARGETS_MS),
                      "hits": total, "accounts": args.accounts, "engine": "sqlite"}))


if __name__ == "__main__":
    main()
