"""Scoring benchmark: full rescore throughput, and the extra cost of incremental scoring
on the collect write path.  Not a test; see bench/README.md ("score").

    .venv/bin/python bench/score.py                 # 1,000,000 hits, about 2 minutes
    .venv/bin/python bench/score.py --hits 200000   # quicker

1. Generates a history on SQLite in a temporary file, inserting rows directly (no HTTP):
   accounts, sessions and hits over 180 days; 80 % of the sessions belong to an
   account.
2. Rescores the workspace twice (the second run replaces the ledger the first wrote,
   as after a rule change) and reports hits per second over every hit of the workspace.
3. Copies the database, then stores the same new batches of hits (existing accounts
   and visitors) into both copies with ``store.store_hits``: into one without scoring,
   into the other with scoring (``incremental.score_plan``, as the store calls it after
   inserting the hits), one transaction per batch,
   alternating between the copies.  It reports the ratio of the two times.

The last line is JSON: {"rescore_hits_per_s": ..., "incremental_overhead_ratio": ...}.
"""

from __future__ import annotations

import argparse
import inspect
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from webleads.db import dialect, store  # noqa: E402
from webleads.db.engine import create_engine  # noqa: E402
from webleads.db.migrate import upgrade  # noqa: E402
from webleads.db.schema import accounts, hits, sessions  # noqa: E402
from webleads.model import Client, Hit, HitType, Network, Site  # noqa: E402
from webleads.scoring.incremental import score_plan  # noqa: E402
from webleads.scoring.rescore import rescore  # noqa: E402
from webleads.sites import create_site  # noqa: E402

NOW = datetime(2026, 12, 1, tzinfo=UTC)
DAYS = 180
PAGES: list[tuple[str, str | None]] = [
    ("/", None), ("/pricing", None), ("/demo", None), ("/products/crm", "crm"),
    ("/products/erp", "erp"), ("/solutions/crm/sales", "crm"), ("/docs/install", "erp"),
    ("/customers/acme", None), ("/careers", None), ("/login", None), ("/blog/a", None),
    ("/blog/b", None), ("/about", None), ("/fr/tarifs", None),
]
PAGE_WEIGHTS = [12, 4, 2, 5, 4, 2, 3, 2, 2, 3, 6, 6, 2, 1]
TYPES: list[HitType] = ["pageview", "engagement", "download", "form", "event", "click"]
TYPE_WEIGHTS = [62, 25, 3, 2, 4, 4]


def network(i: int) -> Network:
    return Network(asn=100_000 + i, as_org=f"AS-ORG-{i}", org_name=f"Org {i}",
                   org_domain=f"org{i}.example", category="enterprise", confidence=0.9,
                   country="FR" if i % 3 else "DE")


def generate(engine: sa.Engine, site: Site, n_hits: int, seed: int,
             n_accounts: int | None = None) -> int:
    """Insert about ``n_hits`` hits with their accounts and sessions; returns the count."""
    rng = random.Random(seed)
    n_accounts = n_accounts or max(50, n_hits // 200)
    start = NOW - timedelta(days=DAYS)
    with engine.begin() as conn:
        conn.execute(sa.insert(accounts), [{
            "id": i + 1, "workspace_id": site.workspace_id, "org_key": f"org {i}",
            "name": f"Org {i}", "domain": f"org{i}.example", "asn": 100_000 + i,
            "category": "enterprise", "country": "FR" if i % 3 else "DE",
            "confidence": 0.9, "evidence": [], "visits": 0, "pageviews": 0, "engaged_ms": 0,
            "first_seen": start, "last_seen": NOW} for i in range(n_accounts)])
    def stamp(ts: datetime) -> str:  # what the SQLite driver receives (UTC, naive)
        return ts.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    session_rows: list[tuple[Any, ...]] = []
    hit_rows: list[tuple[Any, ...]] = []
    total = 0
    session_id = 0
    chunk = 100_000
    while total < n_hits:
        session_id += 1
        account = rng.randrange(n_accounts) + 1 if rng.random() < 0.8 else None
        visitor = f"v{account}-{rng.randrange(5)}" if account else f"isp-{rng.randrange(50_000)}"
        ts = start + timedelta(seconds=rng.randrange(DAYS * 86_400))
        n = min(rng.randint(2, 14), n_hits - total)
        first = ts
        for _ in range(n):
            ts += timedelta(seconds=rng.randint(3, 240))
            path, group = rng.choices(PAGES, PAGE_WEIGHTS)[0]
            kind = rng.choices(TYPES, TYPE_WEIGHTS)[0]
            engaged = rng.choice((2_000, 20_000, 75_000)) if kind == "engagement" else 0
            props = '{"href":"https://bench.example/f/brochure.pdf"}' \
                if kind in ("download", "click") else None
            name = "signup" if kind == "event" else "contact" if kind == "form" else None
            utm = "linkedin" if rng.random() < 0.03 else None
            hit_rows.append((
                site.id, session_id, account, None, visitor, stamp(ts), stamp(ts),
                kind, f"https://bench.example{path}", "", "", name, props, engaged, None,
                "198.18.0.0", None, None, None, "enterprise" if account else "isp", None,
                None, None, None, None, None, "paid" if utm else "direct", utm, utm, None,
                "spring" if utm else None, None, None, None, None, group))
        session_rows.append((
            session_id, site.id, visitor, account, None, stamp(first), stamp(ts), n, n, 0,
            "https://bench.example/", "", "direct", None,
            None, None, None, None, None, None, None, None, None))
        total += n
        if len(hit_rows) >= chunk:
            _flush(engine, session_rows, hit_rows)
    _flush(engine, session_rows, hit_rows)
    return total


def _flush(engine: sa.Engine, session_rows: list[tuple[Any, ...]],
           hit_rows: list[tuple[Any, ...]]) -> None:
    with engine.begin() as conn:
        dialect.bulk_insert(conn, sessions, store.SESSION_COLUMNS, session_rows)
        dialect.bulk_insert(conn, hits, store.HIT_COLUMNS, hit_rows)
    session_rows.clear()
    hit_rows.clear()


def new_batches(site: Site, n_accounts: int, count: int, size: int, seed: int
                ) -> list[list[Hit]]:
    rng = random.Random(seed)
    out = []
    ts = NOW - timedelta(hours=6)
    for _ in range(count):
        batch = []
        for _ in range(size):
            ts += timedelta(milliseconds=rng.randint(10, 400))
            i = rng.randrange(n_accounts)
            isp = rng.random() < 0.2
            net = Network(asn=65000, as_org="ISP", category="isp", confidence=0.5) if isp \
                else network(i)
            visitor = f"isp-{rng.randrange(50_000)}" if isp else f"v{i + 1}-{rng.randrange(5)}"
            client = Client(site=site, ip=None, user_agent="Mozilla/5.0", visitor_key=visitor,
                            network=net, ip_anon="198.18.0.0", device_type="desktop")
            path, group = rng.choices(PAGES, PAGE_WEIGHTS)[0]
            kind = rng.choices(TYPES, TYPE_WEIGHTS)[0]
            batch.append(Hit(client=client, type=kind, ts=ts, received_at=ts,
                             url=f"https://bench.example{path}", page_group=group,
                             engaged_ms=30_000 if kind == "engagement" else 0,
                             source_class="direct"))
        out.append(batch)
    return out


def incremental(db_without: str, db_with: str, batches: list[list[Hit]]) -> tuple[float, float]:
    """Seconds spent storing the batches without and with scoring (interleaved).

    Once ``store_hits`` scores by itself it takes ``score=False`` for the baseline; until
    then the bench calls ``score_plan`` after it, with the account and contact ids the
    store computed (caught by wrapping its two upserts)."""
    wired = "score" in inspect.signature(store.store_hits).parameters
    captured: dict[str, Any] = {}
    upsert_accounts, upsert_contacts = store._upsert_accounts, store._upsert_contacts

    def accounts_ids(conn: Any, plan: Any) -> Any:
        captured["accounts"] = upsert_accounts(conn, plan)
        return captured["accounts"]

    def contacts_ids(conn: Any, plan: Any) -> Any:
        captured["contacts"] = upsert_contacts(conn, plan)
        return captured["contacts"]

    if not wired:
        store._upsert_accounts = accounts_ids
        store._upsert_contacts = contacts_ids
    plain = create_engine(db_without, sqlite_synchronous="NORMAL")
    scored = create_engine(db_with, sqlite_synchronous="NORMAL")
    spent = [0.0, 0.0]
    store_hits: Any = store.store_hits
    try:
        for batch in batches:
            for k, engine in enumerate((plain, scored)):
                t0 = time.perf_counter()
                with engine.begin() as conn:
                    if wired:
                        store_hits(conn, batch, score=k == 1)
                    else:
                        plan = store_hits(conn, batch)
                        if k == 1:
                            score_plan(conn, plan, captured["accounts"], captured["contacts"])
                spent[k] += time.perf_counter() - t0  # the commit included
    finally:
        store._upsert_accounts = upsert_accounts
        store._upsert_contacts = upsert_contacts
        plain.dispose()
        scored.dispose()
    return spent[0], spent[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hits", type=int, default=1_000_000, help="hits of the history")
    parser.add_argument("--batches", type=int, default=200, help="incremental batches")
    parser.add_argument("--batch-size", type=int, default=100, help="hits per batch")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="webleads-bench-score-") as tmp:
        path = Path(tmp) / "history.db"
        url = f"sqlite:///{path}"
        engine = create_engine(url, sqlite_synchronous="NORMAL")
        upgrade(engine)
        site = create_site(engine, "Bench", "bench.example").site
        t0 = time.perf_counter()
        total = generate(engine, site, args.hits, args.seed)
        print(f"generated {total:,} hits in {time.perf_counter() - t0:.1f} s", flush=True)
        runs = []
        for label in ("first rescore (empty ledger)", "rescore replacing the ledger"):
            t0 = time.perf_counter()
            [report] = rescore(engine, workspace_id=site.workspace_id, now=NOW)
            seconds = time.perf_counter() - t0
            runs.append(total / seconds)
            print(f"{label}: {seconds:.2f} s, {total / seconds:,.0f} hits/s "
                  f"({report.hits:,} hits with an account, {report.lines:,} ledger lines)",
                  flush=True)
        with engine.connect() as conn:
            n_accounts = int(conn.execute(sa.select(sa.func.count()).select_from(accounts))
                             .scalar_one())
        engine.dispose()
        copy = Path(tmp) / "copy.db"
        shutil.copyfile(path, copy)
        batches = new_batches(site, n_accounts, args.batches, args.batch_size, args.seed)
        without, with_scoring = incremental(f"sqlite:///{copy}", url, batches)
        n = args.batches * args.batch_size
        ratio = with_scoring / without
        print(f"store_hits, {args.batches} batches of {args.batch_size}: "
              f"{without / n * 1e6:.1f} µs/hit without scoring, "
              f"{with_scoring / n * 1e6:.1f} µs/hit with scoring: ratio {ratio:.2f}",
              flush=True)
    print(json.dumps({"rescore_hits_per_s": round(runs[-1]),
                      "incremental_overhead_ratio": round(ratio, 3),
                      "hits": total, "engine": "sqlite"}))


if __name__ == "__main__":
    main()
