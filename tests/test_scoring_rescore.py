"""Rescore == incremental, on a generated history: several accounts, visitors, contacts
and days, hits arriving late (out of order across batches), and rule changes between
batches (after a change, a rescore is the reference; the incremental path from then on
must match a rescore at the end)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.test_scoring_db import (
    GLOBEX,
    ISP,
    T0,
    assert_rescore_gives_the_same,
    hit,
    ledger,
    score_batch,
    set_rules,
)
from webleads.db import scoring as db
from webleads.model import Hit, HitType, Network, Site
from webleads.scoring import document
from webleads.scoring.incremental import default_config
from webleads.scoring.rescore import rescore
from webleads.sites import NewSite

ORGS = [Network(asn=64600 + i, as_org=f"AS-{i}", org_name=f"Org {i} SA",
                org_domain=f"org{i}.example", category="enterprise", confidence=0.9,
                country="FR" if i % 2 else "DE") for i in range(5)] + [GLOBEX]
PAGES: list[tuple[str, str | None, int]] = [  # path, page group, weight
    ("/", None, 8), ("/pricing", None, 4), ("/fr/tarifs", None, 2), ("/demo", None, 2),
    ("/products/crm", "crm", 5), ("/products/erp", "erp", 4), ("/solutions/crm/x", "crm", 2),
    ("/docs/install", "erp", 3), ("/customers/acme", None, 2), ("/careers", None, 2),
    ("/login", None, 2), ("/blog/post", None, 4),
]

KINDS: list[HitType] = ["pageview", "engagement", "download", "form", "event", "identify"]


def history(site: Site, seed: int) -> list[Hit]:
    rng = random.Random(seed)
    visitors: list[tuple[str, Network, str | None]] = []
    for i, org in enumerate(ORGS):
        for j in range(rng.randint(2, 4)):
            email = f"p{j}@{org.org_domain}" if j == 0 and i % 2 == 0 else None
            visitors.append((f"o{i}v{j}", org, email))
    for j in range(4):  # consumer networks: no account; two give an e-mail address
        visitors.append((f"isp{j}", ISP, f"home{j}@gmail.com" if j < 2 else None))
    out: list[Hit] = []
    for day in range(24):
        for vkey, network, email in rng.sample(visitors, rng.randint(3, len(visitors))):
            at = timedelta(days=day, hours=rng.randint(7, 18), minutes=rng.randint(0, 59))
            utm = rng.choice([None, None, None, "linkedin", "google"])
            source = "paid" if utm == "google" else "social" if utm else "direct"
            for n in range(rng.randint(1, 6)):
                at += timedelta(seconds=rng.randint(5, 400))
                path, group, _ = rng.choices(PAGES, weights=[w for _, _, w in PAGES])[0]
                kind = rng.choices(KINDS, weights=[60, 20, 5, 3, 5, 2 if email else 0])[0]
                out.append(hit(
                    site, vkey, at, network=network, kind=kind, path=path, group=group,
                    engaged=rng.choice([1_000, 30_000, 90_000]) if kind == "engagement" else 0,
                    utm_source=utm if n == 0 else None, source=source if n == 0 else "internal",
                    name=rng.choice(["signup", "video"]) if kind == "event" else
                    "contact" if kind == "form" else None,
                    href=rng.choice(["https://example.com/a.pdf", "https://example.com/b.zip"])
                    if kind == "download" else None,
                    email=email if kind in ("identify", "form") else None))
    return sorted(out, key=lambda h: h.ts)


def batches(hits: list[Hit], count: int, seed: int) -> list[list[Hit]]:
    """Consecutive batches, with about one hit in eight arriving one to three batches
    late (a late beacon, a retried request, an import)."""
    rng = random.Random(seed)
    size = len(hits) // count + 1
    out: list[list[Hit]] = [hits[i:i + size] for i in range(0, len(hits), size)]
    for i in range(len(out) - 1):
        late = [h for h in out[i] if rng.random() < 0.12]
        for h in late:
            out[i].remove(h)
            out[min(len(out) - 1, i + rng.randint(1, 3))].append(h)
    return [b for b in out if b]


CHANGE_A = (document.dump(default_config())
            .replace("points = 20\ncap = 1", "points = 35\ncap = 2", 1)  # pricing
            .replace("name = 'product'\nlabel = 'product page'\nlabel_fr = 'page produit'\n"
                     "points = 5\ncap = 5\nper = 'day'",
                     "name = 'product'\nlabel = 'product page'\nlabel_fr = 'page produit'\n"
                     "points = 5\ncap = 3\nper = 'week'")
            .replace("name = 'docs'\n", "name = 'docs'\nenabled = false\n")
            + "\n[[rules]]\nname = 'signup'\nlabel = 'signed up'\npoints = 12\ncap = 1\n"
              "per = 'month'\nwhen = { types = ['event'], event = ['signup'] }\n"
              "\n[[rules]]\nname = 'crm-range'\nlabel = 'CRM range'\npoints = 2\n"
              "when = { page_group = ['crm'], types = ['pageview'] }\n")
CHANGE_B = CHANGE_A.replace("half_life_days = 30.0", "half_life_days = 2.0")


def test_the_changes_change_something() -> None:
    a, b = document.loads(CHANGE_A), document.loads(CHANGE_B)
    base = default_config()
    assert a.rules and base.rules and b.settings
    assert len(a.rules) == len(base.rules) + 2
    changed = {r.name for r in a.rules} - {r.name for r in base.rules} | {
        x.name for x, y in zip(a.rules, base.rules, strict=False) if x != y}
    assert {"pricing", "product", "docs", "signup", "crm-range"} <= changed
    assert b.settings.half_life_days == 2.0


@pytest.mark.parametrize("seed", [11])
def test_rescore_equals_incremental_with_rule_changes(engine: Engine, site: NewSite,
                                                      seed: int,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    evicted: list[int] = []
    delete = db.delete_lines

    def counting(conn: Any, ids: Any) -> None:
        ids = list(ids)
        evicted.extend(ids)
        delete(conn, ids)

    monkeypatch.setattr(db, "delete_lines", counting)
    parts = batches(history(site.site, seed), 30, seed)
    assert len(parts) == 30
    now = T0 + timedelta(days=30)

    for i, batch in enumerate(parts[:10]):
        score_batch(engine, batch, via_plan=i % 2 == 1)
    assert_rescore_gives_the_same(engine, now)

    set_rules(engine, CHANGE_A)  # rescore is the reference after a change
    rescore(engine, now=now)
    for i, batch in enumerate(parts[10:20]):
        score_batch(engine, batch, via_plan=i % 2 == 0)
    assert_rescore_gives_the_same(engine, now)

    set_rules(engine, CHANGE_B)  # a 2-day half-life: 24 days are 12 half-lives
    rescore(engine, now=now)
    for i, batch in enumerate(parts[20:]):
        score_batch(engine, batch, via_plan=i % 3 == 0)
    assert_rescore_gives_the_same(engine, now)

    lines = ledger(engine)
    rules = {r[3] for r in lines}
    assert {"pricing", "product", "signup", "crm-range", "returning", "careers", "engaged",
            "pdf-download", "form"} <= rules
    assert "docs" not in rules
    assert any(r[1] is None and r[2] is not None for r in lines)  # contact-only lines
    assert evicted, "late hits pushed later lines out of their caps"
    assert len(lines) > 300
