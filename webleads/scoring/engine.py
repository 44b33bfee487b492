"""Which hits score, under which caps: the pure core shared by the incremental path and
the full rescore, so that both give the same ledger.

A capped rule keeps, per account (or per contact, for a hit without an account) and
per period, the ``cap`` *earliest* lines in ``Line.order``: a late hit that arrives
after the cap is full takes the place of the latest line kept.  The result therefore
does not depend on the order in which hits arrive, which is what lets a rescore in any
order reproduce the incremental ledger exactly.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable
from datetime import date, datetime

from webleads.scoring.decay import period_start, weight
from webleads.scoring.matching import CompiledRule, CompiledRules
from webleads.scoring.model import HitFacts, Line

CapKey = tuple[int, int, date]  # rule id, subject (account id, or -contact id), period
Order = tuple[datetime, int, int, str]


def subject(account_id: int | None, contact_id: int | None) -> int | None:
    """Whose cap a line counts in: its account, else its contact (as a negative id)."""
    if account_id is not None:
        return account_id
    return -contact_id if contact_id is not None else None


class CapBook:
    """The lines that fill each cap, kept sorted; refs name them (stored lines: -id)."""

    def __init__(self) -> None:
        self._kept: dict[CapKey, list[tuple[Order, int]]] = {}

    def load(self, key: CapKey, order: Order, ref: int) -> None:
        insort(self._kept.setdefault(key, []), (order, ref))

    def offer(self, key: CapKey, cap: int, order: Order, ref: int) -> tuple[bool, int | None]:
        """Whether a line enters the cap, and the ref of the line it pushes out."""
        kept = self._kept.setdefault(key, [])
        if len(kept) < cap:
            insort(kept, (order, ref))
            return True, None
        if order < kept[-1][0]:
            evicted = kept.pop()[1]
            insort(kept, (order, ref))
            return True, evicted
        return False, None


class Scorer:
    """Scores hits of one workspace: ``added`` lines, and stored lines ``removed``."""

    def __init__(self, rules: CompiledRules, epoch: datetime, half_life_days: float) -> None:
        self.rules = rules
        self.epoch = epoch
        self.half_life_days = half_life_days
        self.book = CapBook()
        self.added: dict[int, Line] = {}
        self.removed: dict[int, Line] = {}
        self._stored: dict[int, Line] = {}
        self._next = 1

    def cap_key(self, line: Line) -> CapKey | None:
        """The cap a line counts in (None: its rule has no cap, or is gone)."""
        rule = self.rules.capped.get(line.rule_id) if line.rule_id is not None else None
        sub = subject(line.account_id, line.contact_id)
        if rule is None or rule.per is None or sub is None or line.rule_id is None:
            return None
        return (line.rule_id, sub, period_start(line.ts, rule.per))

    def load_stored(self, line_id: int, line: Line, key: CapKey) -> None:
        """A line already in the ledger, in cap ``key``, that new lines may push out."""
        self._stored[line_id] = line
        self.book.load(key, line.order(), -line_id)

    def add(self, hit: HitFacts, matched: list[CompiledRule] | None = None) -> None:
        """Score one hit (``matched``: its matching rules, when already known)."""
        sub = subject(hit.account_id, hit.contact_id)
        if sub is None:
            return
        for compiled in self.rules.matching(hit) if matched is None else matched:
            rule = compiled.rule
            line = Line(hit.workspace_id, hit.account_id, hit.contact_id, compiled.rule_id,
                        hit.site_id, hit.session_id, hit.hit_id, hit.ts, rule.points,
                        weight(rule.points, hit.ts, self.epoch, self.half_life_days),
                        hit.page_group)
            ref = self._next
            self._next += 1
            if rule.cap is None or rule.per is None:
                self.added[ref] = line
                continue
            key = (compiled.rule_id, sub, period_start(hit.ts, rule.per))
            entered, evicted = self.book.offer(key, rule.cap, line.order(), ref)
            if not entered:
                continue
            self.added[ref] = line
            if evicted is None:
                pass
            elif evicted > 0:
                del self.added[evicted]
            else:
                self.removed[-evicted] = self._stored[-evicted]

    def add_all(self, hits: Iterable[HitFacts]) -> None:
        for hit in hits:
            self.add(hit)


Sums = dict[int, list[int]]  # id -> [weight, points]


def sums(added: Iterable[Line], removed: Iterable[Line]
         ) -> tuple[Sums, dict[tuple[int, str], list[int]], Sums]:
    """What the lines add to the account, interest and contact sums."""
    accounts: Sums = {}
    interest: dict[tuple[int, str], list[int]] = {}
    contacts: Sums = {}
    for sign, lines in ((1, added), (-1, removed)):
        for line in lines:
            w, p = sign * line.weight, sign * line.points
            if line.account_id is not None:
                a = accounts.setdefault(line.account_id, [0, 0])
                a[0] += w
                a[1] += p
                if line.page_group:
                    i = interest.setdefault((line.account_id, line.page_group), [0, 0])
                    i[0] += w
                    i[1] += p
            if line.contact_id is not None:
                c = contacts.setdefault(line.contact_id, [0, 0])
                c[0] += w
                c[1] += p
    return accounts, interest, contacts
