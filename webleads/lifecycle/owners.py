"""Who owns an account: assignment rules (pure logic).

Rules are tried by position; the first that matches gives the account to its owner, or
to the next active member of its team (round robin, with a counter per team kept in the
database).  Conditions, all optional, all must hold (any value of a list will do):

- ``countries``: ISO codes of the account's country (territory);
- ``postcodes``: prefixes of the French company's postcode, e.g. "75", "69" for a
  département (territory);
- ``naf``: prefixes of the French company's NAF code, e.g. "62", "62.01" (sector);
- ``target``: true for accounts of the target list.

A ``round_robin`` rule usually has no condition: the catch-all at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from webleads.lifecycle.model import ASSIGNMENT_KINDS, AccountFacts, AssignmentRule, Owner

CONDITION_KEYS = ("countries", "postcodes", "naf", "target")


def check_conditions(kind: str, conditions: Mapping[str, Any], *, owner: bool,
                     team: bool) -> dict[str, Any]:
    """Validated conditions of a new rule; ValueError names the bad field."""
    if kind not in ASSIGNMENT_KINDS:
        raise ValueError(f"kind: {kind!r} is not one of {', '.join(ASSIGNMENT_KINDS)}")
    if owner == team:
        raise ValueError("owner/team: give exactly one of them")
    if kind == "round_robin" and not team:
        raise ValueError("team: a round_robin rule gives accounts to a team")
    out: dict[str, Any] = {}
    for key, value in conditions.items():
        if key not in CONDITION_KEYS:
            raise ValueError(f"conditions: unknown field {key!r} "
                             f"(use {', '.join(CONDITION_KEYS)})")
        if key == "target":
            if not isinstance(value, bool):
                raise ValueError("target: true or false")
            out[key] = value
            continue
        if isinstance(value, str):
            value = [value]
        values = [str(v).strip() for v in value if str(v).strip()]
        if not values:
            raise ValueError(f"{key}: give at least one value")
        out[key] = [v.upper() for v in values] if key == "countries" else values
    needed = {"territory": ("countries", "postcodes"), "sector": ("naf",),
              "target": ("target",)}.get(kind, ())
    if needed and not any(k in out for k in needed):
        raise ValueError(f"conditions: a {kind} rule needs {' or '.join(needed)}")
    return out


def _naf_key(code: str) -> str:
    return code.replace(".", "").upper()


def matches(rule: AssignmentRule, account: AccountFacts) -> bool:
    c = rule.conditions
    countries = c.get("countries")
    if countries and (account.country or "").upper() not in countries:
        return False
    postcodes = c.get("postcodes")
    if postcodes and not any((account.postcode or "").startswith(p) for p in postcodes):
        return False
    naf = c.get("naf")
    if naf and not any(_naf_key(account.naf or "").startswith(_naf_key(p)) for p in naf):
        return False
    target = c.get("target")
    return not (target is not None and bool(target) != account.in_target)


def team_members(owners: Iterable[Owner], team: str) -> list[Owner]:
    """Active members of a team, in a stable order (by id)."""
    return sorted((o for o in owners if o.active and o.team == team), key=lambda o: o.id)


def first_rule(rules: Sequence[AssignmentRule], account: AccountFacts,
               owners: Mapping[int, Owner]) -> AssignmentRule | None:
    """The first rule that matches and can give the account to an active owner."""
    for rule in rules:
        if not matches(rule, account):
            continue
        if rule.owner_id is not None:
            found = owners.get(rule.owner_id)
            if found is not None and found.active:
                return rule
        elif rule.team and team_members(owners.values(), rule.team):
            return rule
    return None


def pick(members: Sequence[Owner], counter: int) -> Owner:
    """The owner of turn ``counter`` (1 for the team's first account)."""
    return members[(counter - 1) % len(members)]
