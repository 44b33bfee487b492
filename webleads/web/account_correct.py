"""Corrections of an account's identification from its page: "wrong company", "this is
an ISP", "this is our office".

A correction is what ``webleads networks override add`` does: an override of the
workspace for the account's network (its ASN, or the /24 or /48 of its visitors'
addresses), then the workspace's stored hits re-identified with it
(``db/reidentify.py``), then the workspace rescored when hits changed, so that the
points follow them (an ISP keeps no score, the right company gets the wrong one's).
The override and its audit entry commit together.

Unlike ``webleads networks reidentify``, the stored hits keep the networks they were
identified with (the resolver answers nothing): a correction changes what the user
corrected, and only that, whatever network data the server has today (the demo's
fictional networks, for one, are unknown to the shipped data).

Both passes read only what the correction can change: the re-identification reads the
hits of the corrected network (its ASN, or its IPv4 block by the text of its
addresses; an IPv6 block still reads every hit of the workspace), and the rescore
recomputes the accounts and contacts that lost or gained hits
(``scoring.rescore.rescore_moved``; the whole workspace when that is most of it).
Reading every hit, on SQLite with 1,000,000 hits, took about 20 s and 30 s.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy.engine import Connection, Engine

from webleads.db import account_page as q
from webleads.db.overrides import upsert_override
from webleads.db.reidentify import ReidentifyReport, reidentify
from webleads.networks.overrides import Override, OverrideBook
from webleads.networks.resolver import NullResolver
from webleads.privacy.audit import record_audit
from webleads.scoring.rescore import rescore_moved

Kind = Literal["wrong_company", "isp", "office"]
KINDS: tuple[Kind, ...] = ("wrong_company", "isp", "office")
ROLE_OF: dict[Kind, str] = {"wrong_company": "organisation", "isp": "isp", "office": "office"}
DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_OVERRIDE = re.compile(r"^override: (\S+) ")


@dataclass(frozen=True, slots=True)
class NetworkChoice:
    """A network a correction can name: ``AS3299`` or ``194.119.0.0/24``."""

    target: str
    hits: int  # of the account's latest hits, how many are in it


@lru_cache(maxsize=4096)
def _block(ip: str | None, ip_anon: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) of a hit's address; None in hash mode."""
    for value in (ip, ip_anon):
        if not value:
            continue
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            continue
        prefix = 24 if address.version == 4 else 48
        return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    return None


def network_choices(conn: Connection, account: q.AccountRow) -> list[NetworkChoice]:
    """The networks of the account's latest hits, the most fitting first: the network of
    an earlier correction, else its ASN (a company running its own network), else its
    busiest address block."""
    rows = q.recent_addresses(conn, account.id)
    blocks = Counter(b for b in (_block(ip, anon) for ip, anon, _ in rows) if b)
    asns = Counter(asn for _, _, asn in rows if asn is not None)
    asn = account.asn or (asns.most_common(1)[0][0] if asns else None)
    choices: list[NetworkChoice] = []
    earlier = next((m.group(1) for m in map(_OVERRIDE.match, account.evidence) if m), None)
    if earlier:
        count = asns.get(int(earlier[2:]), 0) if earlier.startswith("AS") and \
            earlier[2:].isdigit() else blocks.get(earlier, 0)
        choices.append(NetworkChoice(earlier, count))
    registry = any(": assigned to " in line for line in account.evidence)
    asn_choice = [NetworkChoice(f"AS{asn}", asns.get(asn, 0))] if asn is not None else []
    block_choices = [NetworkChoice(b, n) for b, n in blocks.most_common(5)]
    ordered = block_choices + asn_choice if registry else asn_choice + block_choices
    for choice in ordered:
        if all(c.target != choice.target for c in choices):
            choices.append(choice)
    return choices


@dataclass(frozen=True, slots=True)
class Correction:
    kind: Kind
    target: str  # one of ``network_choices``
    organisation: str | None = None
    domain: str | None = None

    def override(self, workspace_id: int, note: str) -> Override:
        """The override (ValueError when the network or the name is not valid)."""
        is_asn = self.target.upper().startswith("AS")
        return Override(workspace_id=workspace_id, role=ROLE_OF[self.kind],
                        cidr=None if is_asn else self.target,
                        asn=int(self.target[2:]) if is_asn else None,
                        organisation=self.organisation if self.kind == "wrong_company" else None,
                        domain=self.domain if self.kind == "wrong_company" else None,
                        note=note)


@dataclass(frozen=True, slots=True)
class Outcome:
    holder: int | None  # the account that holds the hits now (None: none does)
    report: ReidentifyReport


def correct(engine: Engine, *, workspace_id: int, account_id: int, correction: Correction,
            actor: str, now: datetime) -> Outcome:
    """Record the override with its audit entry, re-identify the workspace's stored hits,
    rescore the workspace; where the account's visits went."""
    with engine.begin() as conn:
        before = q.recent_session_ids(conn, account_id)
        override = correction.override(workspace_id, f"account page: {correction.kind}")
        details: dict[str, Any] = {
            "kind": correction.kind, "network": override.target, "role": override.role,
            "organisation": override.organisation, "domain": override.domain}
        details["override_id"] = upsert_override(conn, override, now=now, created_by=actor)
        record_audit(conn, workspace_id=workspace_id, actor=actor, action="network.override",
                     target=f"account:{account_id}", details=details, now=now)
    book = OverrideBook(engine)
    book.refresh(force=True)
    # Only the hits of the corrected network can change (their stored networks stand),
    # and only the accounts and contacts they leave or join need scoring again.
    report = reidentify(engine, NullResolver(), book, workspace_id=workspace_id,
                        only=override)
    if report.hits_changed:
        rescore_moved(engine, workspace_id, accounts=report.accounts_touched,
                      sessions_moved=report.sessions_touched, now=now)
    with engine.begin() as conn:
        holder = q.holder(conn, workspace_id, before)
        if holder is not None and holder != account_id:  # its history says where it came from
            record_audit(conn, workspace_id=workspace_id, actor=actor,
                         action="network.override", target=f"account:{holder}",
                         details={**details, "from_account": account_id}, now=now)
    return Outcome(holder, report)
