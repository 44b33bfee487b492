"""The accounts feed, as a use case: a query of the page (``accounts_query``) and who is
looking -> the rows with their decayed score, heat, fit grade and stage, the total, and
the choices of the filters.  Time is a parameter; SQL is in ``webleads/db/feed.py``.

Scores, grades and stages come from the scoring and the lifecycle, not from here: the
score is the account's decayed sum (``scoring.decay``), the grade is
``scoring.fit.grade`` of its firmographics, the stage is its lifecycle stage (or, before
it has one, the stage its score alone gives), and the heat of the score badge compares
the score with the workspace's stage thresholds: *hot* from the MQL threshold on,
*warm* from the engaged threshold on, *cold* below.

Who sees what by default: a sales rep (role ``sales``) whose login is tied to a lifecycle
owner starts on the accounts of their team (their own and their team-mates'; their own
only when their owner has no team); everyone else starts on every account of the
workspace.  It is a starting point, not a permission: the owner filter switches to all
accounts (``owner=all``), to one owner, or to the unassigned ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from webleads.db import feed as db
from webleads.db import lifecycle as ldb
from webleads.lifecycle.model import Owner
from webleads.lifecycle.stages import Thresholds, score_stage
from webleads.scoring import decay
from webleads.scoring.explain import _state_and_fit as scoring_state
from webleads.scoring.fit import Firmographics, grade
from webleads.scoring.model import Grade
from webleads.users import Role
from webleads.web.accounts_query import PER_PAGE, SIZES, FeedQuery, sections

Heat = Literal["hot", "warm", "cold"]
EXPORT_MAX = 50_000


@dataclass(frozen=True, slots=True)
class Viewer:
    workspace_id: int
    user_id: int
    role: Role
    owner_id: int | None  # the lifecycle owner the login is tied to


def default_owner(viewer: Viewer) -> str:
    """The owner filter when the link has none (see the module's docstring)."""
    return "team" if viewer.role == "sales" and viewer.owner_id is not None else "all"


@dataclass(frozen=True, slots=True)
class Row:
    account: db.FeedRow
    score: float
    heat: Heat
    grade: Grade
    stage: str


@dataclass(frozen=True, slots=True)
class Feed:
    query: FeedQuery
    rows: list[Row]
    total: int
    page: int
    pages: int
    any_account: bool          # the workspace has accounts at all (empty states)
    owners: list[Owner]
    me: Owner | None           # the viewer's owner
    thresholds: Thresholds

    @property
    def first(self) -> int:
        return (self.page - 1) * PER_PAGE + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * PER_PAGE + len(self.rows)


@dataclass(frozen=True, slots=True)
class WorkspaceFacts:
    """What the feed reads of a workspace once per page: grading, decay, thresholds and
    owners."""

    grading: db.Grading
    epoch: datetime
    half_life_days: float
    thresholds: Thresholds
    owners: list[Owner]


MAX_WEIGHT = 2 ** 62  # weights are 64-bit sums


def weight_of(score: float, epoch: datetime, half_life_days: float, now: datetime) -> int:
    """The smallest score weight whose value at ``now`` is ``score`` or more (within
    64-bit range: a workspace idle for years has tiny values per weight)."""
    per_weight = decay.value(1, now, epoch, half_life_days)
    if per_weight <= 0:
        return MAX_WEIGHT if score > 0 else -MAX_WEIGHT
    return max(-MAX_WEIGHT, min(MAX_WEIGHT, math.ceil(score / per_weight)))


def _workspace(conn: Connection, workspace_id: int, now: datetime) -> WorkspaceFacts:
    state, fits = scoring_state(conn, workspace_id)
    thresholds = ldb.read_settings(conn, workspace_id).thresholds
    grading = db.Grading(
        tuple(fits), state.grades,
        engaged_weight=weight_of(thresholds.engaged, state.epoch, state.half_life_days, now),
        mql_weight=weight_of(thresholds.mql, state.epoch, state.half_life_days, now))
    return WorkspaceFacts(grading, state.epoch, state.half_life_days, thresholds,
                      ldb.list_owners(conn, workspace_id))


def _midnight(day: date, tz: str) -> datetime:
    try:
        zone = ZoneInfo(tz)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _owner_ids(query: FeedQuery, viewer: Viewer, owners: list[Owner]
               ) -> tuple[tuple[int, ...] | None, bool]:
    """(owner ids or None for any, only unassigned) of the owner filter."""
    if query.owner == "none":
        return None, True
    if query.owner == "all":
        return None, False
    if query.owner.isdigit():
        return (int(query.owner),), False
    me = next((o for o in owners if o.id == viewer.owner_id), None)
    if me is None:
        return (), False  # "mine" or "team" of a login tied to no owner: nobody's
    if query.owner == "team" and me.team:
        return tuple(o.id for o in owners if o.team == me.team), False
    return (me.id,), False


def filters(query: FeedQuery, viewer: Viewer, ws: WorkspaceFacts, *, now: datetime,
            tz: str) -> db.Filters:
    """The database filters of a query, at ``now`` (scores decay, periods slide)."""
    owner_ids, unassigned = _owner_ids(query, viewer, ws.owners)
    seen_from = seen_until = None
    if query.period in ("7", "30", "90"):
        seen_from = now - timedelta(days=int(query.period))
    elif query.period == "custom":
        if query.date_from:
            seen_from = _midnight(query.date_from, tz)
        if query.date_to:
            seen_until = _midnight(query.date_to + timedelta(days=1), tz)
    min_weight = None
    if query.score is not None:
        min_weight = weight_of(query.score, ws.epoch, ws.half_life_days, now)
    return db.Filters(
        viewer.workspace_id, min_weight=min_weight, grades=query.grades,
        stages=(query.stage,) if query.stage else (), owner_ids=owner_ids,
        unassigned=unassigned, divisions=sections().get(query.sector, ()),
        bands=SIZES.get(query.size, ()), country=query.country or None,
        page_group=query.range or None, source=query.source or None, seen_from=seen_from,
        seen_until=seen_until, text=query.q or None, category=query.category or None,
        role=query.role or None)


def _row(r: db.FeedRow, ws: WorkspaceFacts, now: datetime) -> Row:
    score = decay.value(r.weight, now, ws.epoch, ws.half_life_days)
    heat: Heat = ("hot" if score >= ws.thresholds.mql
                  else "warm" if score >= ws.thresholds.engaged else "cold")
    fit = grade(ws.grading.fit, Firmographics(r.country, r.naf, r.headcount_band, r.in_target,
                                              r.category), ws.grading.grades)
    return Row(r, score, heat, fit, r.stage or score_stage(score, ws.thresholds))


@dataclass(frozen=True, slots=True)
class Choices:
    """The values the filters offer that depend on the data: countries and product
    ranges of the workspace's accounts."""

    countries: list[str]
    ranges: list[str]


CHOICES_TTL = 60.0  # seconds: new countries and ranges appear in the filters within a minute
_choices: dict[tuple[str, int], tuple[float, Choices]] = {}


def choices(conn: Connection, workspace_id: int, *, clock: float) -> Choices:
    """The filters' data-dependent values, kept ``CHOICES_TTL`` seconds per database and
    workspace (two scans of the workspace's accounts and interests: not on every page)."""
    key = (conn.engine.url.render_as_string(hide_password=True), workspace_id)
    found = _choices.get(key)
    if found is not None and clock - found[0] < CHOICES_TTL:
        return found[1]
    if len(_choices) >= 256:
        _choices.clear()
    fresh = Choices(db.countries(conn, workspace_id), db.page_groups(conn, workspace_id))
    _choices[key] = (clock, fresh)
    return fresh


def load(conn: Connection, viewer: Viewer, query: FeedQuery, *, now: datetime,
         tz: str = "UTC") -> Feed:
    """One page of the feed (the last one when ``query.page`` is past it)."""
    ws = _workspace(conn, viewer.workspace_id, now)
    f = filters(query, viewer, ws, now=now, tz=tz)
    page = query.page
    found, total = db.rows(conn, f, ws.grading, sort=query.sort, desc=query.desc,
                           limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    pages = max(1, math.ceil(total / PER_PAGE))
    if page > pages:  # past the end (a link kept while the list shrank): the last page
        page = pages
        found, total = db.rows(conn, f, ws.grading, sort=query.sort, desc=query.desc,
                               limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    any_account = bool(total) or db.has_accounts(conn, viewer.workspace_id)
    me = next((o for o in ws.owners if o.id == viewer.owner_id), None)
    return Feed(query, [_row(r, ws, now) for r in found], total, page, pages, any_account,
                ws.owners, me, ws.thresholds)


def export(conn: Connection, viewer: Viewer, query: FeedQuery, *, now: datetime,
           tz: str = "UTC", limit: int | None = None) -> tuple[list[Row], int]:
    """Every row of the query in its order, ``limit`` (``EXPORT_MAX``) at most, and how
    many match."""
    ws = _workspace(conn, viewer.workspace_id, now)
    f = filters(query, viewer, ws, now=now, tz=tz)
    found, total = db.rows(conn, f, ws.grading, sort=query.sort, desc=query.desc,
                           limit=limit or EXPORT_MAX)
    return [_row(r, ws, now) for r in found], total
