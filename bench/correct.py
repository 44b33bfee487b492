"""Correction benchmark: "this is an ISP" on an account, on a large history, as the
account page makes it (the override, a re-identification narrowed to the corrected
network, a rescore of the accounts and contacts touched), against the same correction
made the whole way (every hit of the workspace re-identified, then the workspace
rescored), in the same run.  Then a rescore after a rule change, whole (one
transaction: what every other writer waits behind on SQLite) against the background
one (slices of accounts: its longest transaction).  Not a test; see bench/README.md
("corrections").

    .venv/bin/python bench/correct.py                  # 1,000,000 hits, 10,000 accounts
    .venv/bin/python bench/correct.py --hits 100000    # quicker

The history is bench/score.py's (180 days, 80 % of the sessions from an account),
each account's hits given its own ASN, on SQLite in a temporary file.  Two accounts of
the same size are corrected: the median one the targeted way, its neighbour in the
ranking the whole way.  Both must leave the same kind of result (hits moved, account
emptied, score gone).  The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from score import NOW, generate  # noqa: E402

from webleads.db.engine import create_engine  # noqa: E402
from webleads.db.migrate import upgrade  # noqa: E402
from webleads.db.overrides import upsert_override  # noqa: E402
from webleads.db.reidentify import reidentify  # noqa: E402
from webleads.db.schema import accounts, hits  # noqa: E402
from webleads.db.schema_scoring import account_scores  # noqa: E402
from webleads.networks.overrides import OverrideBook  # noqa: E402
from webleads.networks.resolver import NullResolver  # noqa: E402
from webleads.scoring.background import rescore_in_slices  # noqa: E402
from webleads.scoring.rescore import rescore  # noqa: E402
from webleads.sites import create_site  # noqa: E402
from webleads.web.account_correct import Correction, correct  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hits", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    now = NOW + timedelta(hours=1)
    with tempfile.TemporaryDirectory(prefix="webleads-bench-correct-") as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'history.db'}",
                               sqlite_synchronous="NORMAL")
        upgrade(engine)
        site = create_site(engine, "Bench", "bench.example", timezone="Europe/Paris").site
        ws = site.workspace_id
        t0 = time.perf_counter()
        total = generate(engine, site, args.hits, args.seed, n_accounts=args.accounts)
        with engine.begin() as conn:  # each account's hits on its own network
            conn.execute(sa.update(hits).where(hits.c.account_id.is_not(None)).values(
                asn=hits.c.account_id + 99_999, network_confidence=0.9,
                org_name=sa.literal("Org ") + sa.cast(hits.c.account_id - 1, sa.String)))
            conn.execute(sa.update(hits).where(hits.c.account_id.is_(None)).values(
                network_confidence=0.5))
        print(f"generated {total:,} hits, {args.accounts:,} accounts in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        book = OverrideBook(engine)
        book.refresh(force=True)
        t0 = time.perf_counter()
        first = reidentify(engine, NullResolver(), book, workspace_id=ws)
        rescore(engine, workspace_id=ws, now=now)
        print(f"whole re-identification (moved {first.hits_changed}) and rescore in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        with engine.connect() as conn:
            ranked = conn.execute(
                sa.select(hits.c.account_id, sa.func.count().label("n"))
                .where(hits.c.account_id.is_not(None)).group_by(hits.c.account_id)
                .order_by(sa.desc("n"), hits.c.account_id)).all()
        middle = len(ranked) // 2
        targeted_id, targeted_hits = int(ranked[middle][0]), int(ranked[middle][1])
        whole_id, whole_hits = int(ranked[middle + 1][0]), int(ranked[middle + 1][1])

        def asn_of(account_id: int) -> int:
            with engine.connect() as conn:
                return int(conn.scalar(sa.select(accounts.c.asn)
                                       .where(accounts.c.id == account_id)) or 0)

        # The targeted way: what the account page does.
        t0 = time.perf_counter()
        outcome = correct(engine, workspace_id=ws, account_id=targeted_id,
                          correction=Correction("isp", f"AS{asn_of(targeted_id)}"),
                          actor="bench@example.com", now=now)
        targeted_s = time.perf_counter() - t0
        # The whole way: the same kind of override, every hit read, everything rescored.
        t0 = time.perf_counter()
        override = Correction("isp", f"AS{asn_of(whole_id)}").override(ws, "bench")
        with engine.begin() as conn:
            upsert_override(conn, override, now=now, created_by="bench@example.com")
        book.refresh(force=True)
        whole = reidentify(engine, NullResolver(), book, workspace_id=ws)
        rescore(engine, workspace_id=ws, now=now)
        whole_s = time.perf_counter() - t0
        # A rule change: the whole rescore, then the background one in slices.
        t0 = time.perf_counter()
        rescore(engine, workspace_id=ws, now=now)
        whole_rescore_s = time.perf_counter() - t0
        slices: list[float] = []  # the seconds of each slice's transaction
        t0 = time.perf_counter()
        rescore_in_slices(engine, ws, now=now, heartbeat=slices.append)
        sliced_s = time.perf_counter() - t0
        with engine.connect() as conn:
            left = {int(i): int(n) for i, n in conn.execute(
                sa.select(hits.c.account_id, sa.func.count())
                .where(hits.c.account_id.in_([targeted_id, whole_id]))
                .group_by(hits.c.account_id))}
            scored = {int(i) for i in conn.scalars(
                sa.select(account_scores.c.account_id)
                .where(account_scores.c.account_id.in_([targeted_id, whole_id]),
                       account_scores.c.points != 0))}
        engine.dispose()
    ok = (outcome.report.hits_changed == targeted_hits and not left and not scored
          and whole.hits_changed == whole_hits)
    print(f"\ncorrection of an account of {targeted_hits:,} hits, targeted: "
          f"{targeted_s * 1000:,.0f} ms ({outcome.report.hits_seen:,} hits read)")
    print(f"correction of an account of {whole_hits:,} hits, whole: "
          f"{whole_s * 1000:,.0f} ms ({whole.hits_seen:,} hits read)")
    print(f"whole / targeted: {whole_s / targeted_s:,.0f}x; results as expected: {ok}")
    print(f"\nrescore after a rule change, whole: {whole_rescore_s:.1f} s in one transaction; "
          f"in the background: {sliced_s:.1f} s in {len(slices)} transactions, the longest "
          f"{max(slices) * 1000:,.0f} ms")
    print(json.dumps({"hits": total, "accounts": args.accounts,
                      "targeted_ms": round(targeted_s * 1000, 1),
                      "whole_ms": round(whole_s * 1000, 1),
                      "speedup": round(whole_s / targeted_s, 1),
                      "targeted_hits_read": outcome.report.hits_seen,
                      "whole_hits_read": whole.hits_seen,
                      "rescore_whole_s": round(whole_rescore_s, 1),
                      "rescore_background_s": round(sliced_s, 1),
                      "rescore_background_slices": len(slices),
                      "rescore_background_longest_ms": round(max(slices) * 1000), "ok": ok}))
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
