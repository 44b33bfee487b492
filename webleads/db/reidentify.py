"""Retroactive corrections: stored hits, sessions and accounts re-identified with today's
network data and the workspaces' overrides (``webleads networks reidentify``).

For each stored hit:

- the address to resolve is the raw ``ip`` when the site stores it, else ``ip_anon`` when
  it is an address (truncate mode keeps the /24 or /48 network, which resolves to the
  same network in practice), else none (hash mode);
- its network is the resolver's answer for that address; without an address, or when the
  resolver has no answer, the network stored on the hit stands;
- the workspace's overrides come on top, as at collect: a CIDR override needs an address,
  an ASN override applies to every hit of that ASN (hash mode included).  An ``office``
  override means the hit should not have been stored: it is kept with its network, but
  leaves its account (``hits_excluded``);
- its account is that of its network (``identify.account_key``, joined by domain like the
  store does), except where the e-mail gave the account: e-mail beats IP, so a session
  whose account is its contact's (``contacts.account_id``, set from the e-mail domain)
  keeps it, and so do its hits that carry it.

A session's account is the account of its earliest hit (by time) that has one, and its
network category that of its earliest hit.  Every account touched is recounted from its
sessions (visits) and hits (pageviews, engaged time, first and last seen); an account
left with neither gets zero counters and stays (notes may hang on it): ``accounts_emptied``.

Hits are read in pages of primary keys.  A page with nothing to change costs one read
transaction; a page with changes is read again and written in one write transaction
(accounts, hits, sessions, recounts), so the run can stop anywhere and be run again, and
a second run changes nothing.  Accounts are locked first, in ``(workspace, org_key)``
order like the collect writer's upsert (no lock cycle with it); a session the writer
changed meanwhile keeps the writer's account.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from webleads.db import dialect
from webleads.db.engine import read_only
from webleads.db.schema import Id, accounts, contacts, hits, sessions, sites
from webleads.identify import account_key
from webleads.model import Network, NetworkCategory
from webleads.networks.overrides import Override, OverrideBook
from webleads.networks.resolver import NetworkResolver

PAGE = 5000  # hits per page (and per write transaction)
CHUNK = 500  # ids per IN list
CACHE_MAX = 200_000  # distinct networks remembered

Ref = tuple[int, str]  # an account: (workspace, org_key)
_Row = Row[*tuple[Any, ...]]
# The network columns of a hit: asn, as_org, org_name, network_category, network_confidence.
Columns = tuple[int | None, str | None, str | None, str | None, float | None]


@dataclass(frozen=True, slots=True)
class ReidentifyReport:
    hits_seen: int
    hits_changed: int
    sessions_changed: int
    accounts_created: int
    accounts_emptied: int  # accounts left with no hits and no sessions
    accounts_recounted: int  # accounts whose counters changed (emptied ones included)
    hits_excluded: int  # hits under an ``office`` override: kept, without an account
    # Where the changes fell (what a targeted rescore recomputes): every account that
    # lost or gained hits or sessions, and the sessions of the changed hits.
    accounts_touched: tuple[int, ...] = field(default=(), repr=False, compare=False)
    sessions_touched: tuple[int, ...] = field(default=(), repr=False, compare=False)


def reidentify(
    engine: Engine, resolver: NetworkResolver, overrides: OverrideBook, *,
    workspace_id: int | None = None, progress: Callable[[int], None] | None = None,
    batch_size: int = PAGE, only: Override | None = None,
) -> ReidentifyReport:
    """Re-identify every stored hit of ``workspace_id`` (every workspace when None).

    ``progress`` is called after each page with the number of hits it held."""
    with read_only(engine) as conn, conn.begin():
        workspace_of = _sites(conn, workspace_id)
    run = _Run(resolver, overrides, workspace_of)
    # The sites known now: a site created meanwhile collects with today's overrides.
    scope = sorted(workspace_of)
    narrow = _narrowing(only)
    after = 0
    touched: set[int] = set()  # sites whose stored hits changed
    while scope:  # one page a turn, until a page comes back empty
        with read_only(engine) as conn, conn.begin():
            rows = _page(conn, scope, after, limit=batch_size, narrow=narrow)
            changed = bool(rows) and bool(run.plan(conn, rows, count=True).changes)
        if not rows:
            break
        last = int(rows[-1].id)
        if changed:
            # Read again in the write transaction: the same range, or (narrowed) the
            # same hits by id rather than a second scan of the table.
            again = narrow if narrow is None else hits.c.id.in_([int(r.id) for r in rows])
            with engine.begin() as conn:
                run.apply(conn, _page(conn, scope, after, upto=last, narrow=again))
            touched.update(int(r.site_id) for r in rows)
        after = last
        if progress is not None:
            progress(len(rows))
        if narrow is not None and len(rows) < batch_size:
            break  # a short page: the scan reached the end (no empty page read to know)
    if touched:
        # The overview's daily rollups counted the old identification: built again
        # when next needed (webleads/db/rollup_store.py).
        from webleads.db.rollup_store import forget

        with engine.begin() as conn:
            for site_id in sorted(touched):
                forget(conn, site_id)
    return run.report()


def hits_to_check(conn: Connection, *, workspace_id: int | None = None) -> int:
    """How many hits ``reidentify`` will read (for a progress bar)."""
    stmt = sa.select(sa.func.count()).select_from(hits)
    if workspace_id is not None:
        stmt = stmt.where(hits.c.site_id.in_(
            sa.select(sites.c.id).where(sites.c.workspace_id == workspace_id)))
    return int(conn.execute(stmt).scalar_one())


# -- reads -------------------------------------------------------------------------------

def _sites(conn: Connection, workspace_id: int | None) -> dict[int, int]:
    stmt = sa.select(sites.c.id, sites.c.workspace_id)
    if workspace_id is not None:
        stmt = stmt.where(sites.c.workspace_id == workspace_id)
    return {int(s): int(w) for s, w in conn.execute(stmt)}


def _narrowing(only: Override | None) -> sa.ColumnElement[bool] | None:
    """The hits an override of ``only``'s network may change, as a condition.

    With the networks stored on the hits kept (a correction resolves nothing), a hit's
    identification can only change where the new override applies: the hits of its ASN,
    or those whose address is in its CIDR.  The condition may take more (an IPv4 CIDR
    is matched on the text of its leading whole bytes; the exact test is the override's
    own, on each hit read); None (every hit) for what text cannot narrow: IPv6, or a
    network shorter than /8."""
    if only is None:
        return None
    h = hits.c
    if only.asn is not None:
        return h.asn == only.asn
    net = ipaddress.ip_network(only.cidr or "", strict=False)
    if net.version != 4 or net.prefixlen < 8:
        return None
    prefix = ".".join(str(net.network_address).split(".")[:net.prefixlen // 8]) + "."
    return sa.or_(h.ip.startswith(prefix, autoescape=True),
                  h.ip_anon.startswith(prefix, autoescape=True))


def _page(conn: Connection, scope: list[int], after: int, *, limit: int | None = None,
          upto: int | None = None, narrow: sa.ColumnElement[bool] | None = None
          ) -> Sequence[_Row]:
    h, s = hits.c, sessions.c
    stmt = (
        sa.select(h.id, h.site_id, h.session_id, h.ts, h.ip, h.ip_anon, h.asn, h.as_org,
                  h.org_name, h.network_category, h.network_confidence, h.country,
                  h.account_id, s.account_id.label("session_account"),
                  contacts.c.account_id.label("mail_account"))
        .select_from(hits.join(sessions, s.id == h.session_id)
                     .outerjoin(contacts, contacts.c.id == s.contact_id))
        # ``site_id + 0``: pages are ranges of the primary key; SQLite would otherwise
        # walk the (site_id, ts) index over the whole site and sort, for every page.
        .where(h.id > after, (h.site_id + 0).in_(scope),
               # stored in the no-identification form (audience mode, or no consent):
               # never identified afterwards either (webleads/privacy/modes.py)
               ~h.visitor_key.startswith("a-"))
        .order_by(h.id)
    )
    if upto is not None:
        stmt = stmt.where(h.id <= upto)
    if narrow is not None:
        stmt = stmt.where(narrow)
    if limit is not None:
        stmt = stmt.limit(limit)
    return conn.execute(stmt).all()


@dataclass(frozen=True, slots=True)
class _Account:
    id: int
    ref: Ref
    name: str
    category: str
    first_seen: datetime
    last_seen: datetime


def _accounts(conn: Connection, *, ids: Iterable[int] = (),
              refs: Iterable[Ref] = ()) -> list[_Account]:
    a = accounts.c
    found: list[_Account] = []
    conditions: list[sa.ColumnElement[bool]] = []
    id_list = sorted(set(ids))
    conditions += [a.id.in_(id_list[i:i + CHUNK]) for i in range(0, len(id_list), CHUNK)]
    by_ws: dict[int, list[str]] = {}
    for ws, key in sorted(set(refs)):
        by_ws.setdefault(ws, []).append(key)
    for ws, keys in by_ws.items():
        conditions += [sa.and_(a.workspace_id == ws, a.org_key.in_(keys[i:i + CHUNK]))
                       for i in range(0, len(keys), CHUNK)]
    for condition in conditions:
        for row in conn.execute(sa.select(a.id, a.workspace_id, a.org_key, a.name, a.category,
                                          a.first_seen, a.last_seen).where(condition)):
            found.append(_Account(int(row.id), (int(row.workspace_id), row.org_key), row.name,
                                  row.category, row.first_seen, row.last_seen))
    return found


def _domain_keys(conn: Connection, wanted: set[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """{(workspace, domain): the key of its existing account} (store's join by domain)."""
    a = accounts.c
    found: dict[tuple[int, str], str] = {}
    for ws in sorted({w for w, _ in wanted}):
        domains = sorted(d for w, d in wanted if w == ws)
        stmt = (sa.select(a.domain, sa.func.min(a.org_key))
                .where(a.workspace_id == ws, a.domain.in_(domains)).group_by(a.domain))
        found.update(((ws, str(d).lower()), str(k)) for d, k in conn.execute(stmt))
    return found


# -- judging one hit ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Verdict:
    columns: Columns | None  # None: keep the stored columns (an excluded hit)
    network: Network | None
    key: str | None  # the account key of ``network``
    fresh: bool  # from the resolver or an override: may update the account's identification


@lru_cache(maxsize=65536)
def _address(ip: str | None, ip_anon: str | None) -> str | None:
    if ip:
        return ip
    if not ip_anon:
        return None
    try:
        return str(ipaddress.ip_address(ip_anon))
    except ValueError:  # a keyed hash (hash mode)
        return None


def _stored(row: _Row) -> Network | None:
    if row.asn is None and row.as_org is None and row.org_name is None and (
            row.network_category is None):
        return None  # stored without a network
    return Network(asn=row.asn, as_org=row.as_org, org_name=row.org_name,
                   category=cast(NetworkCategory, row.network_category or "unknown"),
                   confidence=row.network_confidence if row.network_confidence is not None
                   else 0.0, country=row.country)


def _columns(network: Network | None) -> Columns:
    if network is None:
        return None, None, None, None, None
    return (network.asn, network.as_org, network.org_name, network.category,
            network.confidence)


def _stored_columns(row: _Row) -> Columns:
    return (row.asn, row.as_org, row.org_name, row.network_category, row.network_confidence)


# -- one run --------------------------------------------------------------------------------

@dataclass(slots=True)
class _Change:
    id: int
    session_id: int
    ts: datetime
    old_account: int | None
    columns: Columns
    ref: Ref | None


@dataclass(slots=True)
class _Plan:
    changes: list[_Change] = field(default_factory=list)
    known: dict[int, _Account] = field(default_factory=dict)  # by id
    by_ref: dict[Ref, _Account] = field(default_factory=dict)
    networks: dict[Ref, tuple[Network, bool]] = field(default_factory=dict)


class _Run:
    def __init__(self, resolver: NetworkResolver, overrides: OverrideBook,
                 workspace_of: dict[int, int]) -> None:
        self._resolver = resolver
        self._overrides = overrides
        self._workspace_of = workspace_of
        self._lookups: dict[str, Network | None] = {}
        self._verdicts: dict[tuple[Any, ...], _Verdict] = {}
        self.seen = self.changed = self.excluded = self.created = 0
        self.sessions: set[int] = set()
        self.touched_accounts: set[int] = set()
        self.touched_sessions: set[int] = set()
        self.recounted: set[int] = set()
        self.emptied: dict[int, bool] = {}

    def report(self) -> ReidentifyReport:
        return ReidentifyReport(
            hits_seen=self.seen, hits_changed=self.changed, sessions_changed=len(self.sessions),
            accounts_created=self.created, accounts_emptied=sum(self.emptied.values()),
            accounts_recounted=len(self.recounted), hits_excluded=self.excluded,
            accounts_touched=tuple(sorted(self.touched_accounts)),
            sessions_touched=tuple(sorted(self.touched_sessions)))

    def _lookup(self, address: str) -> Network | None:
        if address not in self._lookups:
            if len(self._lookups) >= CACHE_MAX:
                self._lookups.clear()
            self._lookups[address] = self._resolver.lookup(address)
        return self._lookups[address]

    def judge(self, row: _Row) -> _Verdict:
        workspace_id = self._workspace_of[int(row.site_id)]
        cache_key = (workspace_id, row.ip, row.ip_anon, *_stored_columns(row), row.country)
        verdict = self._verdicts.get(cache_key)
        if verdict is None:
            if len(self._verdicts) >= CACHE_MAX:
                self._verdicts.clear()
            verdict = self._verdicts[cache_key] = self._judge(workspace_id, row)
        return verdict

    def _judge(self, workspace_id: int, row: _Row) -> _Verdict:
        address = _address(row.ip, row.ip_anon)
        network = self._lookup(address) if address is not None else None
        fresh = network is not None
        if network is None:
            network = _stored(row)
        rules = self._overrides.for_workspace(workspace_id)
        override = rules.match(address, network.asn if network else None) if rules else None
        if override is not None:
            network = override.apply(network)
            if network is None:  # office: this hit should not have been stored
                return _Verdict(None, None, None, False)
            fresh = True
        return _Verdict(_columns(network), network, account_key(network), fresh)

    def plan(self, conn: Connection, rows: Sequence[_Row], *, count: bool) -> _Plan:
        """What changes in this page of hits (reads only)."""
        plan = _Plan()
        verdicts = [self.judge(row) for row in rows]
        if count:
            self.seen += len(rows)
            self.excluded += sum(v.columns is None for v in verdicts)
        domains = {(self._workspace_of[int(r.site_id)], v.network.org_domain.lower())
                   for r, v in zip(rows, verdicts, strict=True)
                   if v.key is not None and v.network is not None and v.network.org_domain}
        by_domain = _domain_keys(conn, domains) if domains else {}
        wanted: list[tuple[_Row, _Verdict, Ref | None]] = []
        for row, v in zip(rows, verdicts, strict=True):
            ws = self._workspace_of[int(row.site_id)]
            ref: Ref | None = None
            if v.key is not None and v.network is not None:
                domain = (v.network.org_domain or "").lower()
                ref = (ws, by_domain.get((ws, domain), v.key))
            wanted.append((row, v, ref))
        found = _accounts(conn, ids=[r.account_id for r in rows if r.account_id is not None],
                          refs=[f for _, _, f in wanted if f])
        plan.known = {a.id: a for a in found}
        plan.by_ref = {a.ref: a for a in found}
        for row, v, ref in wanted:
            if v.columns is None:
                columns, ref = _stored_columns(row), None
            else:
                columns = v.columns
                if _mail_hit(row):  # e-mail beats IP
                    ref = plan.known[int(row.account_id)].ref
            account = plan.by_ref.get(ref) if ref is not None else None
            new_id = account.id if account is not None else None
            if columns == _stored_columns(row) and new_id == row.account_id and (
                    ref is None or account is not None):
                continue
            plan.changes.append(_Change(int(row.id), int(row.session_id), row.ts,
                                        row.account_id, columns, ref))
            if ref is not None and v.network is not None and not _mail_hit(row):
                if ref not in plan.networks or v.fresh:
                    plan.networks[ref] = (v.network, v.fresh)
        return plan

    def apply(self, conn: Connection, rows: Sequence[_Row]) -> None:
        """Write the changes of this page of hits, in the caller's transaction."""
        plan = self.plan(conn, rows, count=False)
        if not plan.changes:
            return
        session_plan = _plan_sessions(conn, plan, {c.session_id for c in plan.changes})
        refs: set[Ref] = set()
        for c in plan.changes:
            if c.old_account is not None:
                refs.add(plan.known[c.old_account].ref)
            if c.ref is not None:
                refs.add(c.ref)
        for s in session_plan:
            refs.update(r for r in (s.old_ref, s.ref) if r is not None)
        ids = self._lock_accounts(conn, plan, refs)
        _update_hits(conn, plan.changes, ids)
        self.changed += len(plan.changes)
        moved = [s for s in session_plan if s.changed]
        _update_sessions(conn, moved, ids)
        self.sessions.update(s.id for s in moved)
        self.touched_accounts.update(ids.values())
        self.touched_sessions.update(c.session_id for c in plan.changes)
        for account_id, (changed, empty) in _recount(conn, sorted(set(ids.values()))).items():
            if changed:
                self.recounted.add(account_id)
                self.emptied[account_id] = empty

    def _lock_accounts(self, conn: Connection, plan: _Plan, refs: set[Ref]) -> dict[Ref, int]:
        """Create the missing accounts and lock every touched one, in key order, with one
        upsert (the existing ones get the identification of their new network)."""
        rows: list[dict[str, Any]] = []
        first: dict[Ref, datetime] = {}
        last: dict[Ref, datetime] = {}
        for c in plan.changes:
            if c.ref is not None:
                first[c.ref] = min(first.get(c.ref, c.ts), c.ts)
                last[c.ref] = max(last.get(c.ref, c.ts), c.ts)
        for ref in sorted(refs):
            ws, key = ref
            existing = plan.by_ref.get(ref)
            network, fresh = plan.networks.get(ref, (None, False))
            if existing is not None and not fresh:
                rows.append(_row(ws, key, existing.name, existing.category, existing.first_seen,
                                 existing.last_seen))
                continue
            if existing is None:
                self.created += 1
            net = network or Network(org_name=key)
            rows.append(_row(ws, key, (net.org_name or key)[:300], net.category,
                             first.get(ref) or last[ref], last.get(ref) or first[ref],
                             domain=net.org_domain, asn=net.asn, country=net.country,
                             confidence=net.confidence, evidence=list(net.evidence),
                             role=net.role))
        ids: dict[Ref, int] = {}
        a = accounts.c
        for start in range(0, len(rows), CHUNK):
            stmt = dialect.insert(conn, accounts).values(rows[start:start + CHUNK])
            ex = stmt.excluded
            stmt = stmt.on_conflict_do_update(
                index_elements=["workspace_id", "org_key"],
                set_={
                    # NULL confidence: an existing account whose identification stays.
                    "confidence": sa.func.coalesce(ex.confidence, a.confidence),
                    "evidence": sa.case((ex.confidence.is_(None), a.evidence),
                                        else_=ex.evidence),
                    "role": sa.func.coalesce(ex.role, a.role),
                    "domain": sa.func.coalesce(a.domain, ex.domain),
                },
            ).returning(a.workspace_id, a.org_key, a.id)
            ids.update(((int(w), str(k)), int(i)) for w, k, i in conn.execute(stmt))
        return ids


def _mail_hit(row: _Row) -> bool:
    """A hit of a session whose account came from its contact's e-mail, carrying it."""
    return (row.mail_account is not None and row.session_account == row.mail_account
            and row.account_id == row.mail_account)


def _row(ws: int, key: str, name: str, category: str, first_seen: datetime,
         last_seen: datetime, *, domain: str | None = None, asn: int | None = None,
         country: str | None = None, confidence: float | None = None,
         evidence: list[str] | None = None, role: str | None = None) -> dict[str, Any]:
    return {"workspace_id": ws, "org_key": key, "name": name, "domain": domain, "asn": asn,
            "category": category, "country": country, "confidence": confidence,
            "evidence": evidence if evidence is not None else [], "role": role, "visits": 0,
            "pageviews": 0, "engaged_ms": 0, "first_seen": first_seen, "last_seen": last_seen}


# -- sessions -------------------------------------------------------------------------------

@dataclass(slots=True)
class _Session:
    id: int
    old_account: int | None
    old_ref: Ref | None
    ref: Ref | None
    old_category: str | None
    category: str | None

    @property
    def changed(self) -> bool:
        return self.ref != self.old_ref or self.category != self.old_category


def _plan_sessions(conn: Connection, plan: _Plan, ids: set[int]) -> list[_Session]:
    """The account and network category of each session, from its hits as they will be."""
    h, s = hits.c, sessions.c
    overlay = {c.id: c for c in plan.changes}
    session_rows: list[_Row] = []
    hit_rows: list[_Row] = []
    id_list = sorted(ids)
    for start in range(0, len(id_list), CHUNK):
        chunk = id_list[start:start + CHUNK]
        session_rows += conn.execute(
            sa.select(s.id, s.account_id, s.network_category,
                      contacts.c.account_id.label("mail_account"))
            .select_from(sessions.outerjoin(contacts, contacts.c.id == s.contact_id))
            .where(s.id.in_(chunk))).all()
        hit_rows += conn.execute(
            sa.select(h.session_id, h.id, h.ts, h.account_id, h.network_category)
            .where(h.session_id.in_(chunk)).order_by(h.session_id, h.ts, h.id)).all()
    unknown = {int(r.account_id) for r in [*session_rows, *hit_rows]
               if r.account_id is not None and int(r.account_id) not in plan.known}
    for account in _accounts(conn, ids=unknown):
        plan.known[account.id] = plan.by_ref[account.ref] = account

    def ref_of(account_id: int | None) -> Ref | None:
        return plan.known[int(account_id)].ref if account_id is not None else None

    earliest: dict[int, tuple[Ref | None, str | None]] = {}  # session: (account, category)
    for r in hit_rows:
        change = overlay.get(int(r.id))
        ref = change.ref if change is not None else ref_of(r.account_id)
        category = change.columns[3] if change is not None else r.network_category
        sid = int(r.session_id)
        if sid not in earliest:
            earliest[sid] = (ref, category)
        elif earliest[sid][0] is None and ref is not None:
            earliest[sid] = (ref, earliest[sid][1])
    planned = []
    for r in session_rows:
        old_ref = ref_of(r.account_id)
        ref, category = earliest.get(int(r.id), (old_ref, r.network_category))
        if r.mail_account is not None and r.account_id == r.mail_account:
            ref = old_ref  # e-mail beats IP
        planned.append(_Session(int(r.id), r.account_id, old_ref, ref, r.network_category,
                                category))
    return planned


def _update_hits(conn: Connection, changes: list[_Change], ids: dict[Ref, int]) -> None:
    stmt = sa.update(hits).where(hits.c.id == sa.bindparam("b_id")).values(
        asn=sa.bindparam("b_asn"), as_org=sa.bindparam("b_as_org"),
        org_name=sa.bindparam("b_org_name"), network_category=sa.bindparam("b_category"),
        network_confidence=sa.bindparam("b_confidence"), account_id=sa.bindparam("b_account"))
    conn.execute(stmt, [
        {"b_id": c.id, "b_asn": c.columns[0], "b_as_org": c.columns[1],
         "b_org_name": c.columns[2], "b_category": c.columns[3], "b_confidence": c.columns[4],
         "b_account": ids[c.ref] if c.ref is not None else None}
        for c in changes])


def _update_sessions(conn: Connection, moved: list[_Session], ids: dict[Ref, int]) -> None:
    if not moved:
        return
    s = sessions.c
    # A session the collect writer gave an account meanwhile keeps it.
    stmt = sa.update(sessions).where(
        s.id == sa.bindparam("b_id"),
        s.account_id.is_not_distinct_from(sa.bindparam("b_old", type_=Id)),
    ).values(account_id=sa.bindparam("b_account"), network_category=sa.bindparam("b_category"))
    conn.execute(stmt, [
        {"b_id": m.id, "b_old": m.old_account, "b_category": m.category,
         "b_account": ids[m.ref] if m.ref is not None else None}
        for m in moved])


# -- counters ---------------------------------------------------------------------------------

def _recount(conn: Connection, account_ids: list[int]) -> dict[int, tuple[bool, bool]]:
    """Counters of ``account_ids`` from their sessions and hits: {id: (changed, empty)}."""
    a, h, s = accounts.c, hits.c, sessions.c
    result: dict[int, tuple[bool, bool]] = {}
    updates: list[dict[str, Any]] = []
    for start in range(0, len(account_ids), CHUNK):
        chunk = account_ids[start:start + CHUNK]
        visits = {int(i): int(n) for i, n in conn.execute(
            sa.select(s.account_id, sa.func.count()).where(s.account_id.in_(chunk))
            .group_by(s.account_id))}
        counts = {int(r[0]): r for r in conn.execute(
            sa.select(h.account_id, sa.func.count(),
                      sa.func.sum(sa.case((h.type == "pageview", 1), else_=0)),
                      sa.func.sum(h.engaged_ms), sa.func.min(h.ts), sa.func.max(h.ts))
            .where(h.account_id.in_(chunk)).group_by(h.account_id))}
        for row in conn.execute(sa.select(a.id, a.visits, a.pageviews, a.engaged_ms,
                                          a.first_seen, a.last_seen).where(a.id.in_(chunk))):
            account_id = int(row.id)
            got = counts.get(account_id)
            new = (visits.get(account_id, 0), int(got[2]) if got else 0,
                   int(got[3] or 0) if got else 0, got[4] if got else row.first_seen,
                   got[5] if got else row.last_seen)
            old = (row.visits, row.pageviews, row.engaged_ms, row.first_seen, row.last_seen)
            changed = new != old
            result[account_id] = (changed, got is None and not new[0])
            if changed:
                updates.append({"b_id": account_id, "b_visits": new[0], "b_pageviews": new[1],
                                "b_engaged_ms": new[2], "b_first": new[3], "b_last": new[4]})
    if updates:
        conn.execute(sa.update(accounts).where(a.id == sa.bindparam("b_id")).values(
            visits=sa.bindparam("b_visits"), pageviews=sa.bindparam("b_pageviews"),
            engaged_ms=sa.bindparam("b_engaged_ms"), first_seen=sa.bindparam("b_first"),
            last_seen=sa.bindparam("b_last")), updates)
    return result
