"""The accounts feed's query: the page's parameters, checked, and written back as the
shortest query string that means the same (for links, exports and saved views).

Parameters from closed lists that are not in their list are ignored (the default
applies), and so is a page number that is not a positive number; a minimum score or a
date that cannot be read is an error naming its field (the page answers 400).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from typing import Any, get_args
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from webleads.db.feed import NO_ROLE, SORTS, Sort
from webleads.fr import naf
from webleads.lifecycle.stages import STAGES
from webleads.model import ORGANISATION_CATEGORIES, SourceClass
from webleads.scoring.model import GRADES

PER_PAGE = 50
MAX_SCORE = 100_000.0
MAX_TEXT = 200
MIN_YEAR, MAX_YEAR = 1970, 2999  # dates outside are typing mistakes
PERIODS = ("7", "30", "90", "custom")
SOURCES: tuple[str, ...] = get_args(SourceClass)
CATEGORIES: tuple[str, ...] = tuple(sorted(ORGANISATION_CATEGORIES))
ROLES = ("customer", "partner", "competitor", NO_ROLE)
OWNER_SCOPES = ("all", "mine", "team", "none")
# Headcount groups of the size filter -> INSEE bands (webleads/fr/naf.py).
SIZES: dict[str, tuple[str, ...]] = {
    "0": ("NN", "00"), "1-9": ("01", "02", "03"), "10-49": ("11", "12"),
    "50-249": ("21", "22", "31"), "250-999": ("32", "41"), "1000-4999": ("42", "51"),
    "5000+": ("52", "53"),
}
# Sorts that start with the largest values (numbers, dates, grades).
DESC_FIRST: frozenset[Sort] = frozenset({"priority", "score", "grade", "stage", "size",
                                         "last_seen", "visits", "pages", "engaged"})
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_OWNER_ID = re.compile(r"^[0-9]{1,18}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@cache
def sections() -> dict[str, tuple[str, ...]]:
    """NAF rév. 2 section letter -> its divisions (``J`` -> ``58``, ``59`` ... ``63``)."""
    out: dict[str, list[str]] = {}
    entries = naf.table(naf.NAF_REV2).values()
    for e in entries:
        if e.level == "section":
            out.setdefault(e.code, [])
    for e in entries:
        if e.level == "division" and e.parent in out:
            out[e.parent].append(e.code)
    return {k: tuple(sorted(v)) for k, v in sorted(out.items())}


@dataclass(frozen=True, slots=True)
class FeedQuery:
    score: float | None = None
    grades: tuple[str, ...] = ()
    stage: str = ""
    owner: str = "all"          # all, mine, team, none, or an owner's id
    owner_given: bool = False   # the owner was in the link (else: the user's default)
    sector: str = ""            # a NAF section letter
    size: str = ""              # a key of SIZES
    country: str = ""
    range: str = ""             # a product range (page group)
    source: str = ""
    period: str = ""            # "", 7, 30, 90, custom (on the last visit)
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    category: str = ""
    role: str = ""
    sort: Sort = "priority"
    desc: bool = True
    page: int = 1

    @property
    def filtered(self) -> bool:
        """Whether any filter narrows the list (the owner only when chosen)."""
        return any((self.score is not None, self.grades, self.stage, self.sector, self.size,
                    self.country, self.range, self.source, self.period, self.q,
                    self.category, self.role)) or (self.owner_given and self.owner != "all")

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """The query as (name, value) pairs, defaults left out, in a fixed order."""
        q = replace(self, **changes) if changes else self
        out: list[tuple[str, str]] = []
        if q.score is not None:
            out.append(("score", f"{q.score:g}"))
        out += [("grade", g) for g in q.grades]
        for name in ("stage", "owner", "sector", "size", "country", "range", "source",
                     "period"):
            value = getattr(q, name)
            if name == "owner" and not q.owner_given:
                continue
            if value:
                out.append((name, value))
        if q.period == "custom":
            if q.date_from:
                out.append(("from", q.date_from.isoformat()))
            if q.date_to:
                out.append(("to", q.date_to.isoformat()))
        for name in ("q", "category", "role"):
            if getattr(q, name):
                out.append((name, getattr(q, name)))
        if q.sort != "priority" or not q.desc:
            out.append(("sort", q.sort))
            if q.desc != (q.sort in DESC_FIRST):
                out.append(("dir", "desc" if q.desc else "asc"))
        if q.page > 1:
            out.append(("page", str(q.page)))
        return out

    def query_string(self, **changes: Any) -> str:
        return urlencode(self.params(**changes))

    def sorted_by(self, sort: Sort) -> str:
        """The query string of a column header's link: that sort, or the other way."""
        desc = (not self.desc) if sort == self.sort else sort in DESC_FIRST
        return self.query_string(sort=sort, desc=desc, page=1)


def _pick(values: Iterable[str], value: str | None) -> str:
    return value if value is not None and value in set(values) else ""


def _score(raw: str, errors: dict[str, str]) -> float | None:
    text = raw.strip().replace(",", ".").replace("\u202f", "").replace(" ", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        errors["score"] = "number"
        return None
    if not math.isfinite(value) or abs(value) > MAX_SCORE:
        errors["score"] = "range"
        return None
    return value


def _date(raw: str, field: str, errors: dict[str, str]) -> date | None:
    text = raw.strip()
    if not text:
        return None
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        found = date.fromisoformat(text)
    except ValueError:
        errors[field] = "date"
        return None
    if not MIN_YEAR <= found.year <= MAX_YEAR:
        errors[field] = "date"
        return None
    return found


def _page(raw: str) -> int:
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        return 1
    return max(1, int(text))


def parse(params: QueryParams, *, default_owner: str = "all") -> tuple[FeedQuery, dict[str, str]]:
    """The query of the page's parameters, and the errors (field -> code: ``number``,
    ``range``, ``date``, ``order``)."""
    errors: dict[str, str] = {}

    def one(name: str) -> str:
        value = params.get(name)
        if not isinstance(value, str):
            return ""
        # No control characters (PostgreSQL refuses NUL in text).
        return "".join(c for c in value[:500] if c.isprintable())

    owner = one("owner").strip()
    owner_given = owner in OWNER_SCOPES or bool(_OWNER_ID.match(owner))
    period = _pick(PERIODS, one("period"))
    if (one("from").strip() or one("to").strip()) and "period" not in params:
        period = "custom"  # a link with dates only (the form always sends a period)
    date_from = date_to = None
    if period == "custom":  # the dates are read (and checked) only when they are used
        date_from = _date(one("from"), "from", errors)
        date_to = _date(one("to"), "to", errors)
        if date_from and date_to and date_from > date_to:
            errors["to"] = "order"
    country = one("country").strip().upper()
    range_ = one("range").strip()
    sort = _pick(SORTS, one("sort")) or "priority"
    direction = one("dir")
    query = FeedQuery(
        score=_score(one("score"), errors),
        grades=tuple(g for g in GRADES if g in set(params.getlist("grade"))),
        stage=_pick(STAGES, one("stage")),
        owner=owner if owner_given else default_owner,
        owner_given=owner_given,
        sector=_pick(sections(), one("sector")),
        size=_pick(SIZES, one("size")),
        country=country if _COUNTRY.match(country) else "",
        range=range_ if len(range_) <= 100 else "",
        source=_pick(SOURCES, one("source")),
        period=period,
        date_from=date_from,
        date_to=date_to,
        q=" ".join(one("q").split())[:MAX_TEXT],
        category=_pick(CATEGORIES, one("category")),
        role=_pick(ROLES, one("role")),
        sort=sort,  # type: ignore[arg-type]
        desc=direction == "desc" if direction in ("asc", "desc") else sort in DESC_FIRST,
        page=_page(one("page")),
    )
    return query, errors

