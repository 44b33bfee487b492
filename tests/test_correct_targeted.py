"""A correction reads and rescores only what it can change, and ends exactly where a
whole re-identification and a whole rescore end; on both engines.

Two databases get the same generated history (organisations on their own ASN and /24,
an ISP, identified visitors whose e-mail names an account or is free mail, hits over
five weeks scored by the default rules as they arrive).  The first takes the correction
as the account page makes it (``web.account_correct.correct``: the override, a
re-identification narrowed to the corrected network, a rescore of the accounts and
contacts touched); the second takes the same override, then the whole workspace
re-identified and rescored (what a correction did before).  Hits, sessions, accounts,
the ledger and every score sum must be identical.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webleads.db import store
from webleads.db.engine import create_engine
from webleads.db.migrate import upgrade
from webleads.db.overrides import upsert_override
from webleads.db.reidentify import reidentify
from webleads.db.schema import accounts, hits, sessions
from webleads.db.schema_scoring import (
    account_interest,
    account_scores,
    contact_scores,
    score_ledger,
)
from webleads.model import Client, Hit, HitType, Network, Site
from webleads.networks.overrides import OverrideBook
from webleads.networks.resolver import NullResolver
from webleads.scoring.rescore import rescore
from webleads.sites import create_site
from webleads.web.account_correct import Correction, correct

T0 = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=36)
ORGS = [Network(asn=64600 + i, as_org=f"ORG{i}-AS", org_name=f"Org {i}",
                org_domain=f"org{i}.example", category="enterprise", confidence=0.9,
                country="FR", evidence=("test ranges",)) for i in range(6)]
ISP = Network(asn=65000, as_org="HOME-ISP", category="isp", confidence=0.6, country="FR")
PAGES = ["/", "/pricing", "/product", "/docs", "/blog/a", "/contact", "/demo"]
KINDS: list[HitType] = ["pageview"] * 6 + ["engagement", "download", "click"]


def block(i: int) -> str:
    return f"203.0.{113 + i}.0" if i < 6 else "198.51.100.0"


def history(site: Site, seed: int = 7) -> list[list[Hit]]:
    """Batches of hits as a collect would store them, oldest first."""
    rng = random.Random(seed)
    visitors = []
    for v in range(48):
        net = rng.randrange(7)  # 6: the ISP
        email = None
        if v % 5 == 0:
            email = f"p{v}@org{rng.randrange(6)}.example"  # an e-mail naming an account
        elif v % 7 == 0:
            email = f"p{v}@gmail.com"  # free mail, at home: scores for the contact alone
            net = 6
        visitors.append((f"visitor-{v:03d}", net, email))
    out: list[Hit] = []
    for day in range(35):
        for key, net, email in rng.sample(visitors, 9):
            network = ORGS[net] if net < 6 else ISP
            client = Client(site=site, ip=None, user_agent="Mozilla/5.0", visitor_key=key,
                            network=network, ip_anon=block(net), browser="Firefox",
                            os="Linux", device_type="desktop", country="FR")
            ts = T0 + timedelta(days=day, minutes=rng.randrange(600))
            for n in range(rng.randint(1, 6)):
                kind = rng.choice(KINDS)
                at = ts + timedelta(minutes=n * 2)
                props = {"href": "https://a.example/f/brochure.pdf"} if kind in (
                    "download", "click") else None
                out.append(Hit(client=client, type=kind, ts=at, received_at=at,
                               url=f"https://a.example{rng.choice(PAGES)}",
                               engaged_ms=rng.choice((5_000, 40_000)) if kind == "engagement"
                               else 0, props=props))
            if email and rng.random() < 0.5:
                out.append(Hit(client=client, type="identify", ts=ts + timedelta(minutes=20),
                               received_at=ts + timedelta(minutes=20),
                               url="https://a.example/contact", email=email))
    out.sort(key=lambda h: h.ts)
    return [out[i:i + 40] for i in range(0, len(out), 40)]


@pytest.fixture
def twin(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A second database of the same engine."""
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'twin.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").create_database(
            "twin_" + uuid.uuid4().hex[:12])
    eng = create_engine(url, sqlite_synchronous="NORMAL")
    upgrade(eng)
    yield eng
    eng.dispose()


def fill(engine: Engine) -> Site:
    """The history, then made what a whole re-identification leaves (collect and
    re-identification disagree on a few hits of sessions identified midway by an
    e-mail naming another account; a correction leaves those alone, a whole run moves
    them: from the fixed point, both must agree)."""
    site = create_site(engine, "Example", "a.example").site
    for batch in history(site):
        with engine.begin() as conn:
            store.store_hits(conn, batch)
    reidentify(engine, NullResolver(), OverrideBook.of([]), workspace_id=site.workspace_id)
    rescore(engine, workspace_id=site.workspace_id, now=NOW)
    return site


def snapshot(engine: Engine) -> dict[str, Any]:
    def table(t: sa.Table, *skip: str) -> list[tuple[Any, ...]]:
        cols = [c for c in t.columns if c.name not in skip]
        with engine.connect() as conn:
            return sorted((tuple(r) for r in conn.execute(sa.select(*cols))), key=repr)

    return {"hits": table(hits, "received_at"), "sessions": table(sessions),
            "accounts": table(accounts),
            # Lines made incrementally and by a rescore differ in id and hit_id only.
            "ledger": Counter(table(score_ledger, "id", "hit_id")),
            "account_scores": table(account_scores), "interest": table(account_interest),
            "contact_scores": table(contact_scores)}


def account_of(engine: Engine, org: int) -> int:
    with engine.connect() as conn:
        found = conn.scalar(sa.select(accounts.c.id).where(accounts.c.org_key == f"org {org}"))
    assert found is not None
    return int(found)


CORRECTIONS = {
    "isp_by_asn": (0, Correction("isp", f"AS{ORGS[0].asn}")),
    "wrong_company_by_block": (1, Correction("wrong_company", "203.0.114.0/24",
                                             organisation="Right Company",
                                             domain="right.example")),
    "office_by_block": (2, Correction("office", "203.0.115.0/24")),
    "wrong_company_by_asn_to_an_existing_account": (
        3, Correction("wrong_company", f"AS{ORGS[3].asn}", organisation="Org 4",
                      domain="org4.example")),
}


@pytest.mark.parametrize("name", [*sorted(CORRECTIONS), "isp_by_asn, rescored whole"])
def test_a_targeted_correction_ends_where_a_whole_one_does(
        engine: Engine, twin: Engine, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if name.endswith(", rescored whole"):
        # Too many accounts touched: the workspace is rescored whole, same result.
        from webleads.scoring import rescore as rescore_module

        monkeypatch.setattr(rescore_module, "TARGET_MAX", 0)
        name = name.split(",")[0]
    org, correction = CORRECTIONS[name]
    site, other = fill(engine), fill(twin)
    assert snapshot(engine) == snapshot(twin)  # the same history on both
    with engine.connect() as conn:
        total = int(conn.scalar(sa.select(sa.func.count()).select_from(hits)) or 0)
    scored_before = snapshot(engine)["account_scores"]

    outcome = correct(engine, workspace_id=site.workspace_id,
                      account_id=account_of(engine, org), correction=correction,
                      actor="test@example.com", now=NOW)

    override = correction.override(other.workspace_id, f"account page: {correction.kind}")
    with twin.begin() as conn:
        upsert_override(conn, override, now=NOW, created_by="test@example.com")
    book = OverrideBook(twin)
    book.refresh(force=True)
    whole = reidentify(twin, NullResolver(), book, workspace_id=other.workspace_id)
    rescore(twin, workspace_id=other.workspace_id, now=NOW)

    report = outcome.report
    assert report.hits_changed == whole.hits_changed > 0
    assert report.hits_seen < total == whole.hits_seen  # only the corrected network read
    after, reference = snapshot(engine), snapshot(twin)
    for key in reference:
        assert after[key] == reference[key], key
    assert after["account_scores"] != scored_before  # the points did follow the hits
