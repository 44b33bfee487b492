"""SQL of the scoring: settings and rules per workspace, the ledger and its sums.

Writes run in the caller's transaction.  Sums are updated with atomic SQL
(``weight = weight + excluded.weight``); the ledger is appended in bulk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db import dialect
from webleads.db.schema import accounts, hits, sessions, sites
from webleads.db.schema_fr import account_fr, fr_companies
from webleads.db.schema_lifecycle import account_owners, account_stages, owners
from webleads.db.schema_scoring import (
    account_interest,
    account_scores,
    contact_scores,
    fit_rules,
    rescore_requests,
    score_ledger,
    scoring_rules,
    scoring_settings,
)
from webleads.scoring.decay import DEFAULT_EPOCH, weight
from webleads.scoring.decay import midnight as decay_midnight
from webleads.scoring.document import ScoringConfig
from webleads.scoring.fit import FitConditions, FitRule, Thresholds
from webleads.scoring.model import Line, ScoringInput, StoredHit
from webleads.scoring.rules import CONDITION_FIELDS, Conditions, Rule


@dataclass(frozen=True, slots=True)
class WorkspaceState:
    workspace_id: int
    half_life_days: float
    epoch: datetime
    rules_version: int
    engaged_score: float
    grades: Thresholds


# -- settings and rules --------------------------------------------------------------------

def _state(row: Any) -> WorkspaceState:
    return WorkspaceState(int(row.workspace_id), float(row.half_life_days), row.epoch,
                          int(row.rules_version), float(row.engaged_score),
                          Thresholds(int(row.grade_a), int(row.grade_b), int(row.grade_c)))


def workspace_states(conn: Connection, workspace_ids: Iterable[int], *, defaults: ScoringConfig,
                     now: datetime) -> dict[int, WorkspaceState]:
    """The scoring state of each workspace; a workspace seen for the first time gets the
    ``defaults`` (settings and rules).  Safe when two transactions do it at once."""
    ids = sorted(set(workspace_ids))
    s = scoring_settings.c
    read = dialect.timestamp_reader(conn)
    found = {int(r[0]): WorkspaceState(int(r[0]), float(r[1]), read(r[2]), int(r[3]),
                                       float(r[4]), Thresholds(int(r[5]), int(r[6]), int(r[7])))
             for r in dialect.fetch_all(
                 conn, "SELECT workspace_id, half_life_days, epoch, rules_version, "
                 "engaged_score, grade_a, grade_b, grade_c FROM scoring_settings "
                 f"WHERE workspace_id IN ({', '.join('?' * len(ids))})", ids)}
    missing = [w for w in ids if w not in found]
    for workspace_id in missing:
        settings = defaults.settings
        grades = defaults.grades or Thresholds()
        stmt = dialect.insert(conn, scoring_settings).values(
            workspace_id=workspace_id,
            half_life_days=settings.half_life_days if settings else 30.0,
            epoch=DEFAULT_EPOCH, rules_version=1,
            engaged_score=settings.engaged_score if settings else 20.0,
            grade_a=grades.a, grade_b=grades.b, grade_c=grades.c, updated_at=now,
        ).on_conflict_do_nothing(index_elements=["workspace_id"]).returning(s.workspace_id)
        if conn.execute(stmt).first() is not None:
            _write_rules(conn, workspace_id, defaults.rules or [], defaults.fit or [])
    if missing:
        found.update((int(r.workspace_id), _state(r)) for r in conn.execute(
            sa.select(scoring_settings).where(s.workspace_id.in_(missing))))
    return found


def _rule(row: Any) -> Rule:
    when: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                            for k, v in row.conditions.items() if k in CONDITION_FIELDS}
    return Rule(name=row.name, label=row.label, label_fr=row.label_fr, points=int(row.points),
                when=Conditions(**when), cap=row.cap, per=row.cap_period, enabled=row.enabled,
                id=int(row.id))


def _fit_rule(row: Any) -> FitRule:
    when: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                            for k, v in row.conditions.items()}
    return FitRule(name=row.name, label=row.label, label_fr=row.label_fr,
                   points=int(row.points), when=FitConditions(**when), enabled=row.enabled,
                   id=int(row.id))


def load_rules(conn: Connection, workspace_id: int) -> list[Rule]:
    r = scoring_rules.c
    return [_rule(row) for row in conn.execute(
        sa.select(scoring_rules).where(r.workspace_id == workspace_id)
        .order_by(r.position, r.id))]


def load_fit_rules(conn: Connection, workspace_id: int) -> list[FitRule]:
    f = fit_rules.c
    return [_fit_rule(row) for row in conn.execute(
        sa.select(fit_rules).where(f.workspace_id == workspace_id).order_by(f.position, f.id))]


def rules_by_id(conn: Connection, ids: Iterable[int]) -> dict[int, Rule]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {int(row.id): _rule(row) for row in conn.execute(
        sa.select(scoring_rules).where(scoring_rules.c.id.in_(wanted)))}


def _write_rules(conn: Connection, workspace_id: int, rules: Sequence[Rule] | None,
                 fits: Sequence[FitRule] | None) -> None:
    """Make the workspace's rules exactly these: by name, so a kept rule keeps its id
    (and its ledger lines their rule)."""
    if rules is not None:
        _replace(conn, scoring_rules, workspace_id, [
            {"name": x.name, "label": x.label, "label_fr": x.label_fr,
             "conditions": x.when.as_dict(), "points": x.points, "cap": x.cap,
             "cap_period": x.per, "enabled": x.enabled} for x in rules])
    if fits is not None:
        _replace(conn, fit_rules, workspace_id, [
            {"name": x.name, "label": x.label, "label_fr": x.label_fr,
             "conditions": x.when.as_dict(), "points": x.points, "enabled": x.enabled}
            for x in fits])


def _replace(conn: Connection, table: sa.Table, workspace_id: int,
             rows: list[dict[str, Any]]) -> None:
    c = table.c
    names = [r["name"] for r in rows]
    conn.execute(sa.delete(table).where(c.workspace_id == workspace_id, c.name.not_in(names)))
    if not rows:
        return
    stmt = dialect.insert(conn, table)
    update = {k: stmt.excluded[k] for k in rows[0] if k != "name"} | {
        "position": stmt.excluded.position}
    conn.execute(stmt.on_conflict_do_update(index_elements=["workspace_id", "name"],
                                            set_=update),
                 [{**r, "workspace_id": workspace_id, "position": i}
                  for i, r in enumerate(rows, 1)])


def save_config(conn: Connection, workspace_id: int, config: ScoringConfig, *,
                defaults: ScoringConfig, now: datetime) -> WorkspaceState:
    """Store an imported configuration (the sections it has replace the workspace's);
    returns the state before.  Weights are not recomputed here: see
    ``scoring.config.apply_config``."""
    state = workspace_states(conn, [workspace_id], defaults=defaults, now=now)[workspace_id]
    _write_rules(conn, workspace_id, config.rules, config.fit)
    values: dict[str, Any] = {"rules_version": scoring_settings.c.rules_version + 1,
                              "updated_at": now}
    if config.settings is not None:
        values["half_life_days"] = config.settings.half_life_days
        values["engaged_score"] = config.settings.engaged_score
    if config.grades is not None:
        values.update(grade_a=config.grades.a, grade_b=config.grades.b, grade_c=config.grades.c)
    conn.execute(sa.update(scoring_settings)
                 .where(scoring_settings.c.workspace_id == workspace_id).values(**values))
    return state


def set_epoch(conn: Connection, workspace_id: int, epoch: datetime, *,
              half_life_days: float) -> None:
    """Move the epoch: every weight of the workspace is computed again."""
    conn.execute(sa.update(scoring_settings)
                 .where(scoring_settings.c.workspace_id == workspace_id).values(epoch=epoch))
    reweigh(conn, workspace_id, epoch=epoch, half_life_days=half_life_days)


def reweigh(conn: Connection, workspace_id: int, *, epoch: datetime,
            half_life_days: float) -> None:
    """Compute the weight of every ledger line again (new epoch or half-life), then the
    sums."""
    read = dialect.timestamp_reader(conn)
    rows = dialect.fetch_all(conn, "SELECT id, points, ts FROM score_ledger "
                             "WHERE workspace_id = ?", [workspace_id])
    dialect.execute_many(conn, "UPDATE score_ledger SET weight = ? WHERE id = ?", [
        (weight(int(points), read(ts), epoch, half_life_days), int(id_))
        for id_, points, ts in rows])
    rebuild_sums(conn, workspace_id)


# -- the ledger ----------------------------------------------------------------------------

LEDGER_COLUMNS = ("workspace_id", "account_id", "contact_id", "rule_id", "site_id",
                  "session_id", "hit_id", "ts", "points", "weight", "page_group")


def capped_lines(conn: Connection, workspace_id: int, *, rule_ids: Iterable[int],
                 account_ids: Iterable[int], contact_ids: Iterable[int], start: date,
                 end: date) -> list[tuple[int, Line]]:
    """Stored lines of these rules for these accounts (and contacts without an account)
    between ``start`` and ``end`` (days, UTC): one query for a batch's caps.  (Accounts
    and contacts belong to one workspace: filtering on them lets the planner use the
    (account_id, ts) and (contact_id, ts) indexes.)"""
    rules, accs, cons = sorted(set(rule_ids)), sorted(set(account_ids)), sorted(set(contact_ids))
    if not rules or not (accs or cons):
        return []
    stamp, read = dialect.timestamp_converter(conn), dialect.timestamp_reader(conn)
    who = []
    params: list[Any] = [stamp(decay_midnight(start)), stamp(decay_midnight(end)), *rules]
    if accs:
        who.append(f"account_id IN ({', '.join('?' * len(accs))})")
        params += accs
    if cons:
        who.append(f"(account_id IS NULL AND contact_id IN ({', '.join('?' * len(cons))}))")
        params += cons
    rows = dialect.fetch_all(
        conn, f"SELECT id, {', '.join(LEDGER_COLUMNS)} FROM score_ledger "
        f"WHERE ts >= ? AND ts < ? "
        f"AND rule_id IN ({', '.join('?' * len(rules))}) AND ({' OR '.join(who)})", params)
    return [(int(r[0]), Line(r[1], r[2], r[3], r[4], r[5], r[6], r[7], read(r[8]), r[9], r[10],
                             r[11])) for r in rows]


def delete_lines(conn: Connection, ids: Iterable[int]) -> None:
    wanted = sorted(ids)
    for start in range(0, len(wanted), 500):
        conn.execute(sa.delete(score_ledger).where(score_ledger.c.id.in_(wanted[start:start
                                                                               + 500])))


def insert_lines(conn: Connection, lines: Iterable[Line]) -> None:
    stamp = dialect.timestamp_converter(conn)
    dialect.bulk_insert(conn, score_ledger, LEDGER_COLUMNS, [
        (x.workspace_id, x.account_id, x.contact_id, x.rule_id, x.site_id, x.session_id,
         x.hit_id, stamp(x.ts), x.points, x.weight, x.page_group) for x in lines])


_ADD = "ON CONFLICT ({key}) DO UPDATE SET weight = {t}.weight + excluded.weight, " \
       "points = {t}.points + excluded.points"


def add_sums(conn: Connection, workspace_id: int, account_sums: Mapping[int, list[int]],
             interest_sums: Mapping[tuple[int, str], list[int]],
             contact_sums: Mapping[int, list[int]]) -> None:
    """Add to the decay-invariant sums (rows in key order: no deadlock between writers)."""
    dialect.execute_many(
        conn, "INSERT INTO account_scores (account_id, workspace_id, weight, points) "
        "VALUES (?, ?, ?, ?) " + _ADD.format(key="account_id", t="account_scores"),
        [(k, workspace_id, w, p) for k, (w, p) in sorted(account_sums.items())])
    dialect.execute_many(
        conn, "INSERT INTO account_interest (account_id, page_group, workspace_id, weight, "
        "points) VALUES (?, ?, ?, ?, ?) "
        + _ADD.format(key="account_id, page_group", t="account_interest"),
        [(a, g, workspace_id, w, p) for (a, g), (w, p) in sorted(interest_sums.items())])
    dialect.execute_many(
        conn, "INSERT INTO contact_scores (contact_id, workspace_id, weight, points) "
        "VALUES (?, ?, ?, ?) " + _ADD.format(key="contact_id", t="contact_scores"),
        [(k, workspace_id, w, p) for k, (w, p) in sorted(contact_sums.items())])


def clear_ledger(conn: Connection, workspace_id: int) -> None:
    conn.execute(sa.delete(score_ledger).where(score_ledger.c.workspace_id == workspace_id))


def rebuild_sums(conn: Connection, workspace_id: int) -> None:
    """The sums of the workspace, computed again from its ledger (exact integer sums)."""
    for table in (account_scores, account_interest, contact_scores):
        conn.execute(sa.delete(table).where(table.c.workspace_id == workspace_id))
    lg = score_ledger.c
    _sums_from_ledger(conn, workspace_id, accounts=lg.account_id.is_not(None),
                      contacts=lg.contact_id.is_not(None))


def _sums_from_ledger(conn: Connection, workspace_id: int, *,
                      accounts: sa.ColumnElement[bool] | None,
                      contacts: sa.ColumnElement[bool] | None) -> None:
    """Insert the sums of the ledger lines of the workspace that ``accounts`` selects
    (account score and interest) and that ``contacts`` selects (contact score); their
    former rows must be gone."""
    lg = score_ledger.c
    w, p = sa.func.sum(lg.weight), sa.func.sum(lg.points)
    base = sa.select().where(lg.workspace_id == workspace_id)
    if accounts is not None:
        conn.execute(sa.insert(account_scores).from_select(
            ["account_id", "workspace_id", "weight", "points"],
            base.add_columns(lg.account_id, lg.workspace_id, w, p)
            .where(accounts).group_by(lg.account_id, lg.workspace_id)))
        conn.execute(sa.insert(account_interest).from_select(
            ["account_id", "page_group", "workspace_id", "weight", "points"],
            base.add_columns(lg.account_id, lg.page_group, lg.workspace_id, w, p)
            .where(accounts, lg.page_group.is_not(None), lg.page_group != "")
            .group_by(lg.account_id, lg.page_group, lg.workspace_id)))
    if contacts is not None:
        conn.execute(sa.insert(contact_scores).from_select(
            ["contact_id", "workspace_id", "weight", "points"],
            base.add_columns(lg.contact_id, lg.workspace_id, w, p)
            .where(contacts).group_by(lg.contact_id, lg.workspace_id)))


def _in_chunks(column: Any, ids: Sequence[int]) -> Iterator[sa.ColumnElement[bool]]:
    for start in range(0, len(ids), 500):
        yield column.in_(ids[start:start + 500])


def _subject_conditions(account_ids: Sequence[int], contact_ids: Sequence[int],
                        c: Any) -> list[sa.ColumnElement[bool]]:
    """Rows (of hits or of the ledger, columns ``c``) whose cap subject is one of these
    accounts, or one of these contacts without an account (``engine.subject``)."""
    # ``account_id + 0``: the contact index must find the rows, not (account_id, ...)
    # walking every row without an account (SQLite picks it without statistics).
    return [*_in_chunks(c.account_id, account_ids),
            *(sa.and_((c.account_id + 0).is_(None), cond)
              for cond in _in_chunks(c.contact_id, contact_ids))]


def lock_accounts(conn: Connection, account_ids: Sequence[int]) -> None:
    """PostgreSQL: hold these accounts' rows until commit, in the collect store's order
    (workspace, org_key), so that no batch scores them while their lines are rebuilt
    (the store's upsert of an account waits for this transaction, and the reverse).
    SQLite's write transaction already excludes every other writer."""
    if not dialect.is_postgres(conn) or not account_ids:
        return
    a = accounts.c
    ids = sorted(set(account_ids))
    conn.execute(sa.select(a.id).where(a.id.in_(ids))
                 .order_by(a.workspace_id, a.org_key).with_for_update())


def clear_subjects(conn: Connection, workspace_id: int, account_ids: Sequence[int],
                   contact_ids: Sequence[int]) -> set[int]:
    """Delete the ledger lines of these subjects; the contacts those lines named (their
    sums change too, whichever account the lines were under)."""
    lg = score_ledger.c
    named: set[int] = set()
    for cond in _subject_conditions(account_ids, contact_ids, lg):
        where = sa.and_(lg.workspace_id == workspace_id, cond)
        named.update(int(c) for c in conn.scalars(
            sa.select(lg.contact_id).where(where, lg.contact_id.is_not(None)).distinct()))
        conn.execute(sa.delete(score_ledger).where(where))
    return named


def subject_hits(conn: Connection, workspace_id: int, site_ids: Collection[int],
                 account_ids: Sequence[int], contact_ids: Sequence[int]) -> list[StoredHit]:
    """The stored hits of these subjects (what ``stored_hits`` gives a rescore, for them
    only), with the returning flag of their sessions."""
    h = hits.c
    columns = (h.id, h.site_id, h.account_id, h.contact_id, h.session_id, h.visitor_key, h.ts,
               h.type, h.url, h.page_group, h.name, h.source_class, h.utm_source,
               h.utm_medium, h.utm_campaign, h.engaged_ms, h.props)
    rows: dict[int, Any] = {}
    for cond in _subject_conditions(account_ids, contact_ids, h):
        # Accounts and contacts belong to one workspace: the (account_id, ts) and
        # contact indexes find their hits; a site condition would have SQLite walk
        # (site_id, ts) over the whole site instead.
        for row in conn.execute(sa.select(*columns).where(cond)):
            if row.site_id in site_ids:
                rows[int(row.id)] = row
    returning = returning_sessions(conn, {int(r.session_id) for r in rows.values()})
    out = []
    for (id_, site, acc, con, ses, vkey, ts, kind, url, group, name, source, u_source,
         u_medium, u_campaign, engaged, props) in (rows[k] for k in sorted(rows)):
        href = _href(props) if props is not None and kind in ("click", "download") else None
        out.append(StoredHit(workspace_id, site, acc, con, ses, id_, vkey, ts, kind, url, group,
                             name, source, u_source, u_medium, u_campaign, engaged,
                             int(ses) in returning, href))
    return out


def rebuild_subject_sums(conn: Connection, workspace_id: int, account_ids: Sequence[int],
                         contact_ids: Sequence[int]) -> None:
    """``rebuild_sums`` for these accounts (score, interest) and contacts (score) only."""
    lg = score_ledger.c
    for start in range(0, len(account_ids), 500):
        chunk = list(account_ids[start:start + 500])
        for table in (account_scores, account_interest):
            conn.execute(sa.delete(table).where(table.c.workspace_id == workspace_id,
                                                table.c.account_id.in_(chunk)))
        _sums_from_ledger(conn, workspace_id, accounts=lg.account_id.in_(chunk),
                          contacts=None)
    for start in range(0, len(contact_ids), 500):
        chunk = list(contact_ids[start:start + 500])
        conn.execute(sa.delete(contact_scores).where(
            contact_scores.c.workspace_id == workspace_id,
            contact_scores.c.contact_id.in_(chunk)))
        _sums_from_ledger(conn, workspace_id, accounts=None,
                          contacts=lg.contact_id.in_(chunk))


def rescore_asked_at(conn: Connection, workspace_id: int) -> datetime | None:
    """When a rescore of the workspace was last asked for (``rescore_requests``)."""
    found: datetime | None = conn.scalar(
        sa.select(rescore_requests.c.requested_at)
        .where(rescore_requests.c.workspace_id == workspace_id))
    return found


def rescore_done(conn: Connection, workspace_id: int, asked: datetime, hits: int) -> None:
    """The rescore asked for at ``asked`` is done (a later request stays pending)."""
    r = rescore_requests.c
    conn.execute(sa.update(rescore_requests).where(r.workspace_id == workspace_id,
                                                   r.requested_at == asked)
                 .values(done_at=asked, started_at=None, hits=hits, error=None))


# -- stored hits ---------------------------------------------------------------------------

def returning_sessions(conn: Connection, session_ids: Iterable[int]) -> set[int]:
    """Those of ``session_ids`` whose visitor had a session that started earlier: two
    indexed queries (the sessions, then their visitors' first start)."""
    wanted = sorted(set(session_ids))
    mine: list[tuple[int, int, str, Any]] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        mine += dialect.fetch_all(
            conn, "SELECT id, site_id, visitor_key, started_at FROM sessions "
            f"WHERE id IN ({', '.join('?' * len(chunk))})", chunk)
    keys: dict[int, set[str]] = {}
    for _, site_id, key, _ in mine:
        keys.setdefault(site_id, set()).add(key)
    first: dict[tuple[int, str], Any] = {}
    for site_id, visitor_keys in keys.items():
        ordered = sorted(visitor_keys)
        for start in range(0, len(ordered), 500):
            names = ordered[start:start + 500]
            for key, started in dialect.fetch_all(
                    conn, "SELECT visitor_key, min(started_at) FROM sessions "
                    f"WHERE site_id = ? AND visitor_key IN ({', '.join('?' * len(names))}) "
                    "GROUP BY visitor_key", [site_id, *names]):
                first[(site_id, key)] = started
    return {int(id_) for id_, site_id, key, started in mine if started > first[(site_id, key)]}


def returning_in_sites(conn: Connection, site_ids: Sequence[int]) -> set[int]:
    """Every returning session of these sites (see ``returning_sessions``).  One pass
    over the sessions at the driver level (stored times compare in their stored form:
    text of one fixed format on SQLite, timestamps on PostgreSQL)."""
    first: dict[tuple[int, str], Any] = {}
    rows = []
    for site_id in site_ids:
        for id_, key, started in dialect.fetch_all(
                conn, "SELECT id, visitor_key, started_at FROM sessions WHERE site_id = ?",
                [site_id]):
            k = (site_id, key)
            seen = first.get(k)
            if seen is None or started < seen:
                first[k] = started
            rows.append((id_, k, started))
    return {int(id_) for id_, k, started in rows if started > first[k]}


def workspace_sites(conn: Connection, workspace_id: int) -> list[int]:
    return [int(i) for i in conn.execute(
        sa.select(sites.c.id).where(sites.c.workspace_id == workspace_id)
        .order_by(sites.c.id)).scalars()]




def latest_scored_hit(conn: Connection, site_ids: Sequence[int]) -> datetime | None:
    """The time of the latest hit of these sites that can score (it has an account or a
    contact)."""
    if not site_ids:
        return None
    h = hits.c
    value: datetime | None = conn.execute(
        sa.select(sa.func.max(h.ts)).where(
            h.site_id.in_(site_ids), sa.or_(h.account_id.is_not(None),
                                            h.contact_id.is_not(None)))).scalar()
    return value


_HIT_SELECT = (
    "SELECT id, site_id, account_id, contact_id, session_id, visitor_key, ts, type, url, "
    "page_group, name, source_class, utm_source, utm_medium, utm_campaign, engaged_ms, props "
    "FROM hits WHERE (account_id IS NOT NULL OR contact_id IS NOT NULL)"
)


def stored_inputs(conn: Connection, workspace_id: int, site_ids: Sequence[int],
                  returning: set[int], *, min_id: int = 0, chunk: int = 20_000
                  ) -> Iterator[ScoringInput]:
    """The hits of these sites that belong to an account or a contact, as scoring inputs
    (hits with an id above ``min_id``)."""
    return _stored(conn, workspace_id, site_ids, returning, ScoringInput, min_id=min_id,
                   chunk=chunk)


def stored_hits(conn: Connection, workspace_id: int, site_ids: Sequence[int],
                returning: set[int], *, chunk: int = 20_000) -> Iterator[StoredHit]:
    """The same as ``stored_inputs``, as named tuples (what a rescore reads)."""
    return _stored(conn, workspace_id, site_ids, returning, StoredHit, min_id=0, chunk=chunk)


_T = TypeVar("_T")


def _stored(conn: Connection, workspace_id: int, site_ids: Sequence[int], returning: set[int],
            make: Callable[..., _T], *, min_id: int, chunk: int) -> Iterator[_T]:
    """Read at the driver level in chunks, in one pass over the table (``site_id + 0``
    keeps SQLite from walking the (site_id, ts) index, twice slower for a whole site)."""
    if not site_ids:
        return
    read = dialect.timestamp_reader(conn)
    driver = conn.connection.driver_connection
    assert driver is not None
    sql = (_HIT_SELECT + f" AND site_id + 0 IN ({', '.join('?' * len(site_ids))})"
           " AND id > ?")
    if dialect.is_postgres(conn):
        sql = sql.replace("?", "%s")
    # A server-side cursor on PostgreSQL, so that a big history streams.
    cur = driver.cursor(name="webleads_rescore") if dialect.is_postgres(conn) \
        else driver.cursor()
    try:
        cur.execute(sql, (*site_ids, min_id))
        while rows := cur.fetchmany(chunk):
            for (id_, site, acc, con, ses, vkey, ts, kind, url, group, name, source,
                 u_source, u_medium, u_campaign, engaged, props) in rows:
                href = None
                if props is not None and (kind == "click" or kind == "download"):
                    href = _href(props)
                yield make(workspace_id, site, acc, con, ses, id_, vkey, read(ts), kind, url,
                           group, name, source, u_source, u_medium, u_campaign, engaged,
                           ses in returning, href)
    finally:
        cur.close()


def _href(props: Any) -> str | None:
    if isinstance(props, str):
        try:
            props = json.loads(props)
        except ValueError:
            return None
    value = props.get("href") if isinstance(props, dict) else None
    return value if isinstance(value, str) else None


def max_hit_id(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(hits.c.id), 0))).scalar_one())


# -- reads ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AccountFacts:
    """An account of a site with what the score and the fit grade need."""

    id: int
    workspace_id: int
    name: str
    domain: str | None
    country: str | None
    category: str
    in_target: bool
    naf: str | None
    headcount_band: str | None
    weight: int
    points: int
    stage: str | None = None  # the lifecycle stage, once the account has one
    owner: str | None = None  # its owner's name


def site_accounts(conn: Connection, site_id: int) -> list[AccountFacts]:
    """The accounts that have sessions on the site, with their sums and firmographics."""
    a, sc, af, fc = accounts.c, account_scores.c, account_fr.c, fr_companies.c
    on_site = (sa.select(sessions.c.account_id).where(sessions.c.site_id == site_id,
                                                       sessions.c.account_id.is_not(None))
               .distinct().subquery())
    st, ao, ow = account_stages.c, account_owners.c, owners.c
    stmt = (sa.select(a.id, a.workspace_id, a.name, a.domain, a.country, a.category,
                      a.in_target, fc.naf, fc.headcount_band,
                      sa.func.coalesce(sc.weight, 0), sa.func.coalesce(sc.points, 0),
                      st.stage, ow.name)
            .select_from(accounts.join(on_site, on_site.c.account_id == a.id)
                         .outerjoin(account_scores, sc.account_id == a.id)
                         .outerjoin(account_fr, af.account_id == a.id)
                         .outerjoin(fr_companies, fc.siren == af.siren)
                         .outerjoin(account_stages, st.account_id == a.id)
                         .outerjoin(account_owners, ao.account_id == a.id)
                         .outerjoin(owners, ow.id == ao.owner_id))
            .order_by(a.id))
    return [AccountFacts(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8],
                         int(r[9]), int(r[10]), r[11], r[12]) for r in conn.execute(stmt)]


def reason_sums(conn: Connection, account_ids: Iterable[int]
                ) -> dict[int, list[tuple[int | None, int, int, int]]]:
    """Per account: (rule id, points per line, lines, sum of weights), one query."""
    wanted = sorted(set(account_ids))
    out: dict[int, list[tuple[int | None, int, int, int]]] = {a: [] for a in wanted}
    lg = score_ledger.c
    for start in range(0, len(wanted), 500):
        stmt = (sa.select(lg.account_id, lg.rule_id, lg.points, sa.func.count(),
                          sa.func.sum(lg.weight))
                .where(lg.account_id.in_(wanted[start:start + 500]))
                .group_by(lg.account_id, lg.rule_id, lg.points))
        for acc, rule, points, n, w in conn.execute(stmt):
            out[int(acc)].append((None if rule is None else int(rule), int(points), int(n),
                                  int(w)))
    return out


def committee(conn: Connection, account_ids: Iterable[int], *, since: datetime
              ) -> dict[int, int]:
    """Distinct visitors of each account since ``since`` (index hits(account_id, ts))."""
    wanted = sorted(set(account_ids))
    out = dict.fromkeys(wanted, 0)
    h = hits.c
    for start in range(0, len(wanted), 500):
        stmt = (sa.select(h.account_id, sa.func.count(sa.distinct(h.visitor_key)))
                .where(h.account_id.in_(wanted[start:start + 500]), h.ts >= since)
                .group_by(h.account_id))
        out.update((int(a), int(n)) for a, n in conn.execute(stmt))
    return out


def interest(conn: Connection, account_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Per account: page group -> sum of weights."""
    wanted = sorted(set(account_ids))
    out: dict[int, dict[str, int]] = {a: {} for a in wanted}
    i = account_interest.c
    for start in range(0, len(wanted), 500):
        for acc, group, w in conn.execute(
                sa.select(i.account_id, i.page_group, i.weight)
                .where(i.account_id.in_(wanted[start:start + 500]))):
            out[int(acc)][group] = int(w)
    return out


def account_sum(conn: Connection, account_id: int) -> tuple[int, int, int] | None:
    """(workspace, weight, points) of an account, None when it has no score yet."""
    row = conn.execute(sa.select(account_scores.c.workspace_id, account_scores.c.weight,
                                 account_scores.c.points)
                       .where(account_scores.c.account_id == account_id)).first()
    return None if row is None else (int(row[0]), int(row[1]), int(row[2]))


def contact_sum(conn: Connection, contact_id: int) -> tuple[int, int, int] | None:
    row = conn.execute(sa.select(contact_scores.c.workspace_id, contact_scores.c.weight,
                                 contact_scores.c.points)
                       .where(contact_scores.c.contact_id == contact_id)).first()
    return None if row is None else (int(row[0]), int(row[1]), int(row[2]))


def load_state(conn: Connection, workspace_id: int) -> WorkspaceState | None:
    row = conn.execute(sa.select(scoring_settings)
                       .where(scoring_settings.c.workspace_id == workspace_id)).first()
    return None if row is None else _state(row)


def account_workspace(conn: Connection, account_id: int) -> int | None:
    found = conn.execute(sa.select(accounts.c.workspace_id)
                         .where(accounts.c.id == account_id)).scalar()
    return None if found is None else int(found)


# -- targets -------------------------------------------------------------------------------

def set_target(conn: Connection, workspace_id: int, refs: Iterable[str], flag: bool
               ) -> dict[str, list[str]]:
    """Mark (or unmark) accounts as targets, by name or domain (case-insensitive).
    Returns {ref: names of the accounts it matched}."""
    a = accounts.c
    out: dict[str, list[str]] = {}
    for ref in refs:
        key = ref.strip().lower()
        match = sa.or_(sa.func.lower(a.name) == key, sa.func.lower(a.domain) == key,
                       a.org_key == key)
        rows = conn.execute(sa.select(a.id, a.name).where(a.workspace_id == workspace_id, match)
                            .order_by(a.id)).all()
        if rows:
            conn.execute(sa.update(accounts).where(a.id.in_([r[0] for r in rows]))
                         .values(in_target=flag))
        out[ref] = [r[1] for r in rows]
    return out


def site_workspace(conn: Connection, site_id: int) -> int | None:
    found = conn.execute(sa.select(sites.c.workspace_id).where(sites.c.id == site_id)).scalar()
    return None if found is None else int(found)


def site_by_key(conn: Connection, key: str) -> tuple[int, int] | None:
    """(site id, workspace id) of the site with this public key."""
    row = conn.execute(sa.select(sites.c.id, sites.c.workspace_id)
                       .where(sites.c.key == key)).first()
    return None if row is None else (int(row[0]), int(row[1]))
