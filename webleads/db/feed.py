"""SQL of the accounts feed (the dashboard's hot-accounts list); its saved views are in
``saved_views.py``.

One query for a page of rows and their total count, whatever the filters.  It is a
*deferred join*: an inner query filters and sorts the workspace's accounts on what it
needs (joining only the tables its filters and sort use), counts them (a window) and
keeps one page of ids; the outer query reads the columns of those rows only, so the
per-row subqueries (first-touch source, top product range) run for 50 rows, not for
every account.

The behaviour score is decayed at read time (``webleads/scoring/decay.py``): for one
``now`` it is proportional to the stored weight, so a minimum score is a minimum weight
and sorting by score is sorting by weight.  The fit grade is computed on read by
``webleads/scoring/fit.py``; to filter and sort on it, :func:`fit_points` writes the same
rules as one SQL expression (``tests/test_web_accounts.py`` checks both agree).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db import dialect
from webleads.db.schema import accounts, sessions
from webleads.db.schema_fr import account_fr, fr_companies
from webleads.db.schema_lifecycle import account_owners, account_stages, owners
from webleads.db.schema_scoring import account_interest, account_scores
from webleads.lifecycle.stages import STAGES
from webleads.scoring.fit import HEADCOUNT_BANDS, FitRule, Thresholds

Sort = Literal["priority", "score", "grade", "name", "stage", "owner", "sector", "size",
               "country", "last_seen", "visits", "pages", "engaged"]
SORTS: tuple[Sort, ...] = get_args(Sort)
NO_ROLE = "none"  # the role filter's value for accounts without a role (prospects)


@dataclass(frozen=True, slots=True)
class Grading:
    """How the feed computes grades and default stages, at one ``now``: the fit rules
    and thresholds, and the lifecycle thresholds as score weights (an account without a
    stage row has the stage its score alone gives)."""

    fit: tuple[FitRule, ...] = ()
    grades: Thresholds = Thresholds()
    engaged_weight: int = 0
    mql_weight: int = 0


@dataclass(frozen=True, slots=True)
class Filters:
    """What the rows must match, in database terms (``webleads/web/accounts_query.py``
    turns the page's parameters into this)."""

    workspace_id: int
    min_weight: int | None = None
    grades: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    owner_ids: tuple[int, ...] | None = None  # None: any owner; (): nobody's
    unassigned: bool = False                  # only accounts without an owner
    divisions: tuple[str, ...] = ()           # NAF divisions ("62") of a sector
    bands: tuple[str, ...] = ()               # INSEE headcount bands
    country: str | None = None
    page_group: str | None = None
    source: str | None = None                 # first-touch source class
    seen_from: datetime | None = None         # last visit at or after
    seen_until: datetime | None = None        # last visit before
    text: str | None = None                   # in the name or the domain
    category: str | None = None
    role: str | None = None                   # customer, partner, competitor or "none"


@dataclass(frozen=True, slots=True)
class FeedRow:
    id: int
    name: str
    domain: str | None
    country: str | None
    category: str
    role: str | None
    in_target: bool
    weight: int
    stage: str | None         # None: no stage row yet
    owner_id: int | None
    owner: str | None
    naf: str | None
    naf_version: str | None
    headcount_band: str | None
    top_range: str | None
    source: str | None        # the source class of the account's first session
    last_seen: datetime
    visits: int
    pageviews: int
    engaged_ms: int


# -- expressions ---------------------------------------------------------------------------

a, sc, af, fc = accounts.c, account_scores.c, account_fr.c, fr_companies.c
st, ao, ow = account_stages.c, account_owners.c, owners.c
WEIGHT = sa.func.coalesce(sc.weight, 0)


def _naf_key(column: Any) -> Any:
    return sa.func.upper(sa.func.replace(sa.func.coalesce(column, ""), ".", ""))


def _holds(rule: FitRule) -> Any:
    """``webleads.scoring.fit.holds`` as SQL."""
    w = rule.when
    parts: list[Any] = []
    if w.in_target is not None:
        parts.append(a.in_target.is_(sa.true()) if w.in_target else a.in_target.is_(sa.false()))
    if w.country:
        parts.append(sa.func.upper(sa.func.coalesce(a.country, "")).in_(w.country))
    if w.category:
        parts.append(a.category.in_(w.category))
    if w.naf:
        key = _naf_key(fc.naf)
        prefixes = []
        for p in w.naf:
            prefix = p.replace(".", "").upper()
            prefixes.append(key != "" if not prefix
                            else sa.and_(key != "", sa.func.substr(key, 1, len(prefix)) == prefix))
        parts.append(sa.or_(*prefixes))
    if w.headcount:
        parts.append(fc.headcount_band.in_(w.headcount))
    if w.min_employees is not None or w.max_employees is not None:
        bands = [code for code, (low, high) in HEADCOUNT_BANDS.items()
                 if (w.min_employees is None or low >= w.min_employees)
                 and (w.max_employees is None or high <= w.max_employees)]
        parts.append(fc.headcount_band.in_(bands) if bands else sa.false())
    return sa.and_(sa.true(), *parts)


def fit_points(rules: Sequence[FitRule]) -> Any:
    """The fit points of the row's account (``webleads.scoring.fit.fit_points``)."""
    terms = [sa.case((_holds(r), r.points), else_=0) for r in rules if r.enabled]
    if not terms:
        return sa.literal(0)
    total: Any = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _uses_firm(rules: Sequence[FitRule]) -> bool:
    return any(r.enabled and (r.when.naf or r.when.headcount or r.when.min_employees is not None
                              or r.when.max_employees is not None) for r in rules)


def grade_of(points: Any, thresholds: Thresholds) -> Any:
    """The grade letter of fit ``points`` (``webleads.scoring.fit.grade``)."""
    return sa.case((points >= thresholds.a, "A"), (points >= thresholds.b, "B"),
                   (points >= thresholds.c, "C"), else_="D")


def _grade_factor(points: Any, thresholds: Thresholds) -> Any:
    # Priority = score x grade weight (A 1, B 0.75, C 0.5, D 0.25): x4 stays an integer.
    return sa.case((points >= thresholds.a, 4), (points >= thresholds.b, 3),
                   (points >= thresholds.c, 2), else_=1)


def stage_of(g: Grading) -> Any:
    """The stored stage, or the one the score alone gives (lifecycle.stages.score_stage)."""
    return sa.func.coalesce(st.stage, sa.case((WEIGHT >= g.mql_weight, "mql"),
                                              (WEIGHT >= g.engaged_weight, "engaged"),
                                              else_="anonymous"))


def first_source() -> Any:
    """The source class of the account's first session.  Ordered by what the index
    sessions(account_id, started_at, source_class) holds: one index-only seek."""
    s = sessions.c
    return (sa.select(s.source_class).where(s.account_id == a.id)
            .order_by(s.started_at, s.source_class).limit(1).scalar_subquery())


def top_range() -> Any:
    i = account_interest.c
    return (sa.select(i.page_group).where(i.account_id == a.id, i.weight > 0)
            .order_by(i.weight.desc(), i.page_group).limit(1).scalar_subquery())


def _sort_key(sort: Sort, g: Grading) -> Any:
    """The sort key of the sorts that do not need the fit grade."""
    if sort == "score":
        return WEIGHT
    if sort == "name":
        return sa.func.lower(a.name)
    if sort == "stage":
        return sa.case(*((stage_of(g) == name, i) for i, name in enumerate(STAGES)), else_=-1)
    if sort == "owner":
        return sa.func.lower(ow.name)
    if sort == "sector":
        return fc.naf
    if sort == "size":
        order = list(HEADCOUNT_BANDS)
        return sa.case(*((fc.headcount_band == code, i) for i, code in enumerate(order)),
                       else_=None)
    if sort == "country":
        return a.country
    if sort == "last_seen":
        return a.last_seen
    if sort == "visits":
        return a.visits
    if sort == "pages":
        return a.pageviews
    return a.engaged_ms


# -- the queries ---------------------------------------------------------------------------

def _matching(f: Filters, g: Grading, sort: Sort | None) -> sa.Select[Any]:
    """``SELECT id, k``: the workspace's accounts that match ``f`` with their sort key
    (NULL without a sort), joining only what the filters and the sort need.

    When the fit grade is needed, the fit points are computed once per account in a
    materialised CTE (each rule is a CASE: written three times in the grade's CASE, they
    would be computed three times per row)."""
    graded = bool(f.grades) or sort in ("priority", "grade")
    need_score = f.min_weight is not None or bool(f.stages) or sort in ("priority", "score",
                                                                         "stage")
    need_firm = bool(f.divisions or f.bands) or sort in ("sector", "size") or (
        graded and _uses_firm(g.fit))
    need_stage = bool(f.stages) or sort == "stage"
    need_owner = f.owner_ids is not None or f.unassigned or sort == "owner"
    # An account left without visits (its network corrected to an ISP or an office, its
    # people erased, its hits purged) is no lead any more: it stays for its history,
    # reachable by its page, and leaves the feed.
    where: list[Any] = [a.workspace_id == f.workspace_id, a.visits > 0]
    if f.min_weight is not None:
        where.append(WEIGHT >= f.min_weight)
    if f.stages:
        where.append(stage_of(g).in_(f.stages))
    if f.unassigned:
        where.append(ao.owner_id.is_(None))
    elif f.owner_ids is not None:
        where.append(ao.owner_id.in_(f.owner_ids) if f.owner_ids else sa.false())
    if f.divisions:
        where.append(sa.func.substr(fc.naf, 1, 2).in_(f.divisions))
    if f.bands:
        where.append(fc.headcount_band.in_(f.bands))
    if f.country:
        where.append(a.country == f.country)
    if f.page_group:
        i = account_interest.c
        where.append(sa.exists().where(i.account_id == a.id, i.page_group == f.page_group,
                                       i.weight > 0))
    if f.source:
        where.append(first_source() == f.source)
    if f.seen_from is not None:
        where.append(a.last_seen >= f.seen_from)
    if f.seen_until is not None:
        where.append(a.last_seen < f.seen_until)
    if f.text:
        where.append(sa.or_(a.name.icontains(f.text, autoescape=True),
                            a.domain.icontains(f.text, autoescape=True)))
    if f.category:
        where.append(a.category == f.category)
    if f.role == NO_ROLE:
        where.append(a.role.is_(None))
    elif f.role:
        where.append(a.role == f.role)
    source: Any = accounts
    if need_score:
        source = source.outerjoin(account_scores, sc.account_id == a.id)
    if need_firm:
        source = (source.outerjoin(account_fr, af.account_id == a.id)
                  .outerjoin(fr_companies, fc.siren == af.siren))
    if need_stage:
        source = source.outerjoin(account_stages, st.account_id == a.id)
    if need_owner:
        source = source.outerjoin(account_owners, ao.account_id == a.id)
    if sort == "owner":
        source = source.outerjoin(owners, ow.id == ao.owner_id)
    if not graded:
        key = _sort_key(sort, g) if sort else sa.null()
        return sa.select(a.id.label("id"), key.label("k")).select_from(source).where(*where)
    extra = [] if sort in (None, "grade") else [
        (WEIGHT if sort == "priority" else _sort_key(sort, g)).label("k")]
    fit = (sa.select(a.id.label("id"), fit_points(g.fit).label("fp"), *extra)
           .select_from(source).where(*where).cte("fit").prefix_with("MATERIALIZED"))
    if sort == "priority":
        key = fit.c.k * _grade_factor(fit.c.fp, g.grades)
    elif sort == "grade":
        key = fit.c.fp
    else:
        key = fit.c.k if extra else sa.null()
    stmt = sa.select(fit.c.id.label("id"), key.label("k"))
    if f.grades:
        stmt = stmt.where(grade_of(fit.c.fp, g.grades).in_(f.grades))
    return stmt


def _no_jit(conn: Connection) -> None:
    """PostgreSQL's JIT compiles the CASE expressions of the grades when the planner
    expects many rows (a table without statistics yet, an export): 0.5 to 1 s of
    compiling for a query that runs in milliseconds.  Off for the feed's transaction."""
    if dialect.is_postgres(conn):
        conn.execute(sa.text("SET LOCAL jit = off"))


def count(conn: Connection, f: Filters, g: Grading) -> int:
    """How many accounts match ``f``."""
    _no_jit(conn)
    found = _matching(f, g, None).subquery("m")
    return int(conn.execute(sa.select(sa.func.count()).select_from(found)).scalar_one())


def rows(conn: Connection, f: Filters, g: Grading, *, sort: Sort = "priority",
         desc: bool = True, limit: int = 50, offset: int = 0) -> tuple[list[FeedRow], int]:
    """One page of the accounts that match ``f``, sorted (then by id), and how many
    match in all: one query (the count is a window over the filtered rows), a second
    one only when the page is past the end."""
    _no_jit(conn)
    k: Any = sa.literal_column("k")
    id_: Any = sa.literal_column("id")
    ids = (_matching(f, g, sort).add_columns(sa.func.count().over().label("n"))
           .order_by((k.desc() if desc else k.asc()).nulls_last(), id_)
           .limit(limit).offset(offset).subquery("p"))
    outer_key = ids.c.k.desc() if desc else ids.c.k.asc()
    stmt = (sa.select(a.id, a.name, a.domain, a.country, a.category, a.role, a.in_target,
                      WEIGHT, st.stage, ao.owner_id, ow.name, fc.naf, fc.naf_version,
                      fc.headcount_band, top_range(), first_source(), a.last_seen, a.visits,
                      a.pageviews, a.engaged_ms, ids.c.n)
            .select_from(ids.join(accounts, a.id == ids.c.id)
                         .outerjoin(account_scores, sc.account_id == a.id)
                         .outerjoin(account_stages, st.account_id == a.id)
                         .outerjoin(account_owners, ao.account_id == a.id)
                         .outerjoin(owners, ow.id == ao.owner_id)
                         .outerjoin(account_fr, af.account_id == a.id)
                         .outerjoin(fr_companies, fc.siren == af.siren))
            .order_by(outer_key.nulls_last(), ids.c.id))
    found = conn.execute(stmt).all()
    if not found:
        return [], count(conn, f, g) if offset else 0
    return [FeedRow(int(r[0]), r[1], r[2], r[3], r[4], r[5], bool(r[6]), int(r[7]), r[8],
                    None if r[9] is None else int(r[9]), r[10], r[11], r[12], r[13], r[14],
                    r[15], r[16], int(r[17]), int(r[18]), int(r[19]))
            for r in found], int(found[0][20])


def has_accounts(conn: Connection, workspace_id: int) -> bool:
    return conn.execute(sa.select(a.id).where(a.workspace_id == workspace_id, a.visits > 0)
                        .limit(1)).first() is not None


def countries(conn: Connection, workspace_id: int) -> list[str]:
    """The countries of the workspace's accounts (for the filter's choices)."""
    return [str(c) for c in conn.execute(
        sa.select(a.country).where(a.workspace_id == workspace_id, a.country.is_not(None))
        .distinct().order_by(a.country)).scalars()]


def page_groups(conn: Connection, workspace_id: int) -> list[str]:
    """The product ranges the workspace's accounts showed interest in."""
    i = account_interest.c
    return [str(g) for g in conn.execute(
        sa.select(i.page_group).where(i.workspace_id == workspace_id, i.weight > 0)
        .distinct().order_by(i.page_group)).scalars()]
