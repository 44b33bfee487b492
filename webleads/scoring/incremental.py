"""Score the hits of one stored batch, inside the collect transaction.

``db/store.py`` calls ``score_stored_hits`` right after inserting the batch's hits.
Per batch and workspace, it costs: one query of the workspaces' settings (seeded with
the default rules on first use), compiled rules from a cache (reloaded when the
workspace's ``rules_version`` changes), one query of the stored lines that fill the
caps the batch touches, one bulk insert of ledger lines (and one delete when late hits
push later lines out of a cap), and one upsert per score table.

On PostgreSQL, two writers cannot score the same account at once: the store's upsert of
``accounts`` earlier in the same transaction holds the account's row until commit, so
the second writer's cap query sees the first one's lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from sqlalchemy.engine import Connection

from webleads.db import scoring as db
from webleads.identify import Plan
from webleads.scoring import decay
from webleads.scoring.document import ScoringConfig, defaults
from webleads.scoring.engine import CapKey, Scorer, subject, sums
from webleads.scoring.matching import CompiledRule, CompiledRules
from webleads.scoring.model import ScoringInput

__all__ = ["ScoringInput", "inputs_from_plan", "score_plan", "score_stored_hits"]

_CACHE_MAX = 256
_compiled: dict[tuple[str, int, int], CompiledRules] = {}


@lru_cache(maxsize=1)
def default_config() -> ScoringConfig:
    return defaults()


def compiled_rules(conn: Connection, workspace_id: int, version: int) -> CompiledRules:
    """The workspace's rules, compiled once per rules version (per database)."""
    key = (conn.engine.url.render_as_string(hide_password=True), workspace_id, version)
    found = _compiled.get(key)
    if found is None:
        if len(_compiled) >= _CACHE_MAX:
            _compiled.clear()
        found = _compiled[key] = CompiledRules(db.load_rules(conn, workspace_id))
    return found


def score_stored_hits(conn: Connection, items: list[ScoringInput]) -> None:
    """Add the ledger lines and score sums of ``items`` (hits just stored) in the open
    transaction of ``conn``.  Hits with neither an account nor a contact do not score."""
    by_workspace: dict[int, list[ScoringInput]] = {}
    for item in items:
        if item.account_id is not None or item.contact_id is not None:
            by_workspace.setdefault(item.workspace_id, []).append(item)
    if not by_workspace:
        return
    latest = max(i.ts for i in items)
    states = db.workspace_states(conn, by_workspace, defaults=default_config(), now=latest)
    for workspace_id, batch in sorted(by_workspace.items()):
        state = states[workspace_id]
        newest = max(i.ts for i in batch)
        if decay.needs_rebase(newest, state.epoch, state.half_life_days):
            db.set_epoch(conn, workspace_id, decay.new_epoch(newest),
                         half_life_days=state.half_life_days)
            state = db.load_state(conn, workspace_id) or state
        rules = compiled_rules(conn, workspace_id, state.rules_version)
        scorer = Scorer(rules, state.epoch, state.half_life_days)
        batch.sort(key=lambda i: (i.ts, i.session_id))
        matched = [(hit, rules.matching(hit)) for hit in batch]
        _load_caps(conn, scorer, workspace_id, matched)
        for hit, found in matched:
            if found:
                scorer.add(hit, found)
        if scorer.removed:
            db.delete_lines(conn, scorer.removed)
        added = list(scorer.added.values())
        db.insert_lines(conn, added)
        db.add_sums(conn, workspace_id, *sums(added, scorer.removed.values()))


def _load_caps(conn: Connection, scorer: Scorer, workspace_id: int,
               matched: list[tuple[ScoringInput, list[CompiledRule]]]) -> None:
    """Load the stored lines of the caps that the batch's hits may fill: those of the
    (rule, account or contact, period) the batch's matches fall in, one query."""
    keys: set[CapKey] = set()
    accounts: set[int] = set()
    contacts: set[int] = set()
    for hit, found in matched:
        sub = subject(hit.account_id, hit.contact_id)
        for compiled in found:
            rule = compiled.rule
            if rule.per is None or sub is None:
                continue
            keys.add((compiled.rule_id, sub, decay.period_start(hit.ts, rule.per)))
            if hit.account_id is not None:
                accounts.add(hit.account_id)
            elif hit.contact_id is not None:
                contacts.add(hit.contact_id)
    if not keys:
        return
    periods = {r.per for r in scorer.rules.capped.values() if r.per is not None}
    start = min(day for _, _, day in keys)
    end = max(decay.period_end(day, per) for _, _, day in keys for per in periods)
    for line_id, line in db.capped_lines(conn, workspace_id, rule_ids={k[0] for k in keys},
                                         account_ids=accounts, contact_ids=contacts,
                                         start=start, end=end):
        key = scorer.cap_key(line)
        if key in keys:
            assert key is not None
            scorer.load_stored(line_id, line, key)


def inputs_from_plan(plan: Plan, account_ids: Mapping[tuple[int, str], int],
                     contact_ids: Mapping[tuple[int, str], int],
                     returning: set[int]) -> list[ScoringInput]:
    """The scoring inputs of a batch stored by ``db.store.store_hits``, from its plan and
    the ids the store gave its accounts and contacts (as ``_insert_hits`` resolves them).
    ``returning``: ``db.scoring.returning_sessions(conn, ids of plan.sessions)``."""
    out: list[ScoringInput] = []
    for hit, session in plan.hits:
        client = hit.client
        ws = client.site.workspace_id
        assert session.id is not None, "sessions are written before hits"
        props = hit.props
        href = props.get("href") if props and hit.type in ("click", "download") else None
        out.append(ScoringInput(
            workspace_id=ws, site_id=client.site.id,
            account_id=account_ids.get((ws, session.account_key)) if session.account_key
            else None,
            contact_id=contact_ids.get((ws, session.contact_email)) if session.contact_email
            else None,
            session_id=session.id, hit_id=None, visitor_key=client.visitor_key or "",
            ts=hit.ts, type=hit.type, url=hit.url, page_group=hit.page_group, name=hit.name,
            source_class=hit.source_class, utm_source=hit.utm_source,
            utm_medium=hit.utm_medium, utm_campaign=hit.utm_campaign,
            engaged_ms=hit.engaged_ms, returning=session.id in returning,
            href=href if isinstance(href, str) else None,
        ))
    return out


def score_plan(conn: Connection, plan: Plan, account_ids: Mapping[tuple[int, str], int],
               contact_ids: Mapping[tuple[int, str], int]) -> list[ScoringInput]:
    """Score a batch just stored by ``db.store.store_hits``, from its plan and the ids of
    its accounts and contacts; what the store calls after ``_insert_hits``.  Returns the
    scored inputs (the lifecycle hook works on the same list)."""
    returning = db.returning_sessions(conn, [
        s.id for s in plan.sessions if s.id is not None and (s.account_key or s.contact_email)])
    items = inputs_from_plan(plan, account_ids, contact_ids, returning)
    score_stored_hits(conn, items)
    return items
