"""Find the French company (SIREN) of an account, and store it in ``account_fr``.

Offline, from the imported SIRENE companies: the account's domain label equal to a
company's name or sigle ("domain"), its name equal to a company's name, sigle or head
office trade name ("name"), else the closest name among companies sharing a word with it
(``rapidfuzz``, "name" with a lower confidence).  Online, when the caller passes a
:class:`RechercheClient` and nothing offline is sure enough: the API's answers, scored
the same way ("api").  Ties go to the active company, then to the one whose head office
is known, then to the larger headcount; a match that needed a tie-break is less sure.

Accounts located outside France, and networks that are not organisations (ISPs, mobile,
hosting), are never matched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from rapidfuzz import fuzz
from sqlalchemy.engine import Connection, Engine

from webleads.db import fr as db
from webleads.db.engine import read_only
from webleads.fr import recherche
from webleads.fr.naf import band_rank
from webleads.fr.names import compact, domain_label, name_key
from webleads.model import ORGANISATION_CATEGORIES

Method = Literal["domain", "name", "api"]

# Countries whose companies are in SIRENE: France and its overseas departments and
# collectivities with their own ISO code.
SIRENE_COUNTRIES = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF"})
MIN_CONFIDENCE = 0.75
EXACT = {"name": 0.97, "trade": 0.9, "sigle": 0.85}     # account name == company key
DOMAIN = {"name": 0.9, "sigle": 0.8, "trade": 0.8}      # domain label == company key
FUZZY_FACTOR = 0.9   # a fuzzy score of 100 would still be less sure than an exact key
FUZZY_MIN = 85       # rapidfuzz score (0-100) below which names do not match
API_FACTOR = 0.95
INACTIVE_FACTOR = 0.9
TIE_PENALTY = 0.05   # the best candidate won a tie-break (activity, head office, size)
AMBIGUOUS_PENALTY = 0.2  # ... and could not even be told apart
SEARCH_MIN = 70      # rapidfuzz score of the names listed by search()
CANDIDATES = 2000    # companies read per blocking query


@dataclass(frozen=True, slots=True)
class Candidate:
    company: db.Company
    confidence: float
    method: Method
    evidence: dict[str, Any] = field(default_factory=dict, compare=False)


def similarity(a: str, b: str) -> float:
    """0-100: how alike two name keys are (order of words ignored)."""
    if not a or not b:
        return 0.0
    if min(len(a), len(b)) <= 3:
        return 100.0 if compact(a) == compact(b) else 0.0
    return max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b))


def _is_domain(name: str) -> bool:
    return "." in name and " " not in name.strip()


def account_key(name: str, domain: str | None) -> str:
    """The name key of an account; a name that is a bare domain counts as its label."""
    if _is_domain(name):
        return domain_label(name) or name_key(name)
    return name_key(name)


def eligible(account: db.AccountToMatch) -> str | None:
    """Why an account is never matched (not_fr, not_organisation), or None."""
    if account.country and account.country.upper() not in SIRENE_COUNTRIES:
        return "not_fr"
    if account.category not in ORGANISATION_CATEGORIES:
        return "not_organisation"
    return None


def find_offline(conn: Connection, account: db.AccountToMatch) -> Candidate | None:
    """The best company for ``account`` among the imported ones (no confidence floor)."""
    # An account named after its domain has one piece of evidence, not two.
    named_by_domain = _is_domain(account.name)
    label = domain_label(account.domain) or (
        domain_label(account.name) if named_by_domain else None)
    key = "" if named_by_domain and label else account_key(account.name, account.domain)
    found: dict[str, list[Candidate]] = {}

    def add(companies: Iterable[db.Company], score: Callable[[db.Company], float],
            method: Method, why: str) -> None:
        for company in companies:
            confidence = score(company)
            if confidence > 0:
                found.setdefault(company.siren, []).append(Candidate(
                    company, confidence, method, {"via": why}))

    if label:
        flat = compact(label)
        add(db.companies_where(conn, "compact_key", [flat], limit=CANDIDATES),
            lambda c: DOMAIN["name"], "domain", "domain=name")
        add(db.companies_where(conn, "sigle_key", [flat], limit=CANDIDATES),
            lambda c: DOMAIN["sigle"], "domain", "domain=sigle")
        add(db.companies_where(conn, "trade_key", [label], limit=CANDIDATES),
            lambda c: DOMAIN["trade"], "domain", "domain=trade name")
    if key:
        add(db.companies_where(conn, "name_key", [key], limit=CANDIDATES),
            lambda c: EXACT["name"], "name", "name")
        add(db.companies_where(conn, "sigle_key", [compact(key)], limit=CANDIDATES),
            lambda c: EXACT["sigle"], "name", "name=sigle")
        add(db.companies_where(conn, "trade_key", [key], limit=CANDIDATES),
            lambda c: EXACT["trade"], "name", "name=trade name")
        add(_similar(conn, key), lambda c: _fuzzy(key, c.name_key), "name", "similar name")
    return best(_merge(found, key or label or ""))


def _similar(conn: Connection, key: str) -> list[db.Company]:
    """Companies whose name starts with a word of ``key`` and, when ``key`` has several
    words, holds the beginning of another one (blocking before the fuzzy comparison)."""
    words = [w for w in key.split() if len(w) > 1][:4]
    found: list[db.Company] = []
    for word in words[:3]:
        others = [w[:4] for w in words if w != word]
        found.extend(db.companies_by_token(conn, word, others, limit=CANDIDATES))
    return found


def _fuzzy(key: str, other: str) -> float:
    score = similarity(key, other)
    return score / 100 * FUZZY_FACTOR if score >= FUZZY_MIN else 0.0


def _merge(found: dict[str, list[Candidate]], key: str) -> list[Candidate]:
    """One candidate per company: its surest reason, made surer by a second one."""
    merged = []
    for cands in found.values():
        cands.sort(key=lambda c: c.confidence, reverse=True)
        top = cands[0]
        confidence = top.confidence
        second = next((c for c in cands[1:] if c.method != top.method), None)
        if second is not None:  # found both from the domain and from the name
            confidence = min(0.99, 1 - (1 - confidence) * (1 - second.confidence))
        if not top.company.active:
            confidence *= INACTIVE_FACTOR
        evidence = {"via": sorted({c.evidence["via"] for c in cands}), "key": key,
                    "company": top.company.name,
                    "score": round(similarity(key, top.company.name_key), 1)}
        merged.append(Candidate(top.company, round(confidence, 4), top.method, evidence))
    return merged


def _tie_rank(c: Candidate) -> tuple[bool, bool, int]:
    return (c.company.active, c.company.postcode is not None,
            band_rank(c.company.headcount_band))


def best(candidates: list[Candidate]) -> Candidate | None:
    """The surest candidate; on equal confidence, the active company, then the one whose
    head office is known, then the larger headcount, then the smaller SIREN."""
    if not candidates:
        return None
    ordered = sorted(candidates, key=lambda c: (
        -c.confidence, not c.company.active, c.company.postcode is None,
        -band_rank(c.company.headcount_band), c.company.siren))
    top = ordered[0]
    tied = [c for c in ordered[1:] if abs(c.confidence - top.confidence) < 1e-9]
    if not tied:
        return top
    penalty = AMBIGUOUS_PENALTY if _tie_rank(tied[0]) == _tie_rank(top) else TIE_PENALTY
    evidence = {**top.evidence, "ties": len(tied)}
    return Candidate(top.company, round(top.confidence - penalty, 4), top.method, evidence)


def score_found(key: str, companies: Iterable[recherche.FoundCompany],
                now: datetime) -> Candidate | None:
    """The best of the API's companies for an account's name key."""
    cands = []
    for found in companies:
        names = [name_key(n) for n in (found.name, found.sigle, found.trade_name) if n]
        score = max((similarity(key, n) for n in names), default=0.0)
        if score < FUZZY_MIN:
            continue
        company = _company(found, now)
        confidence = score / 100 * API_FACTOR * (1.0 if found.active else INACTIVE_FACTOR)
        cands.append(Candidate(company, round(confidence, 4), "api",
                               {"via": ["api"], "key": key, "company": found.name,
                                "score": round(score, 1)}))
    return best(cands)


def _company(found: recherche.FoundCompany, now: datetime) -> db.Company:
    key = name_key(found.name)
    return db.Company(
        siren=found.siren, name=found.name, name_key=key, sigle=found.sigle,
        trade_name=found.trade_name, naf=found.naf,
        naf_version="NAFRev2" if found.naf else None, naf25=found.naf25,
        headcount_band=found.headcount_band, category=found.category, active=found.active,
        head_office_siret=found.head_office_siret, postcode=found.postcode, city=found.city,
        source="api", updated_at=now)


def company_row(c: db.Company) -> tuple[Any, ...]:
    """A company as a ``db.ALL_COLUMNS`` row."""
    key = c.name_key
    sigle_key = (compact(name_key(c.sigle))[:100] or None) if c.sigle else None
    trade_key = (name_key(c.trade_name)[:300] or None) if c.trade_name else None
    return (c.siren, c.name, key[:300], key.split(" ", 1)[0][:100], compact(key)[:300],
            c.sigle, sigle_key, c.naf, c.naf_version, c.naf25, c.headcount_band, c.category,
            c.active, c.source, c.updated_at, c.head_office_siret, c.postcode, c.city,
            c.trade_name, trade_key)


@dataclass(slots=True)
class MatchReport:
    examined: int = 0
    matched: dict[str, int] = field(default_factory=dict)  # by method
    kept: int = 0          # a surer match found another way was kept
    unmatched: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # not_fr, not_organisation
    online: dict[str, int] = field(default_factory=dict)   # by outcome (ok, cached ...)


def match_accounts(engine: Engine, *, now: datetime, workspace_id: int | None = None,
                   account_id: int | None = None,
                   online: recherche.RechercheClient | None = None,
                   ttl: timedelta = recherche.DEFAULT_TTL,
                   min_confidence: float = MIN_CONFIDENCE,
                   progress: Callable[[int, int], None] | None = None) -> MatchReport:
    """Match the accounts of a workspace (or one account, or all) and store the matches.

    The online API is asked only when ``online`` is given and no imported company is
    sure enough; its calls run outside any database transaction."""
    report = MatchReport()
    with read_only(engine) as conn, conn.begin():
        todo = db.accounts_to_match(conn, workspace_id=workspace_id, account_id=account_id)
    for done, account in enumerate(todo, 1):
        report.examined += 1
        reason = eligible(account)
        if reason is not None:
            report.skipped[reason] = report.skipped.get(reason, 0) + 1
        else:
            _match_one(engine, account, report, now=now, online=online, ttl=ttl,
                       min_confidence=min_confidence)
        if progress is not None:
            progress(done, len(todo))
    return report


def _match_one(engine: Engine, account: db.AccountToMatch, report: MatchReport, *,
               now: datetime, online: recherche.RechercheClient | None, ttl: timedelta,
               min_confidence: float) -> None:
    with read_only(engine) as conn, conn.begin():
        found = find_offline(conn, account)
        lookup: recherche.Lookup | None = None
        q = ""
        if online is not None and (found is None or found.confidence < min_confidence):
            q = account_key(account.name, account.domain)
            lookup = recherche.cached_lookup(conn, q, now=now, ttl=ttl)
    body = None
    if online is not None and q and lookup is None:
        lookup, body = recherche.fetch(online, q)  # outside any transaction
    if lookup is not None:
        report.online[lookup.outcome] = report.online.get(lookup.outcome, 0) + 1
        from_api = score_found(q, lookup.companies, now)
        if from_api is not None and (found is None or from_api.confidence > found.confidence):
            found = from_api
    with engine.begin() as conn:
        if body is not None:
            db.cache_answer(conn, recherche.cache_key(q), body, now=now)
        if found is None or found.confidence < min_confidence:
            report.unmatched += 1
            return
        if found.method == "api":
            db.insert_missing_companies(conn, [company_row(found.company)])
        stored = db.save_match(conn, db.AccountMatch(
            account.id, found.company.siren, found.confidence, found.method, found.evidence),
            now=now)
    if stored:
        report.matched[found.method] = report.matched.get(found.method, 0) + 1
    else:
        report.kept += 1


def search(conn: Connection, text: str, *, limit: int = 10) -> list[Candidate]:
    """Companies whose name is or looks like ``text``, surest first (``fr company``)."""
    key = name_key(text)
    cands: dict[str, Candidate] = {}
    for column, value in (("name_key", key), ("sigle_key", compact(key)),
                          ("trade_key", key)):
        for c in db.companies_where(conn, column, [value], limit=limit * 10):
            cands.setdefault(c.siren, Candidate(c, 1.0, "name", {"via": column}))
    for c in _similar(conn, key):
        # A listing also shows longer names that contain the words asked for.
        score = max(similarity(key, c.name_key), fuzz.token_set_ratio(key, c.name_key) * 0.9)
        if score >= SEARCH_MIN and c.siren not in cands:
            cands[c.siren] = Candidate(c, round(score / 100, 4), "name", {"via": "similar"})
    ordered = sorted(cands.values(), key=lambda c: (-c.confidence, not c.company.active,
                                                     -band_rank(c.company.headcount_band),
                                                     c.company.siren))
    return ordered[:limit]
