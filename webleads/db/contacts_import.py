"""SQL of contacts as campaigns see them: imports (contacts, their traits and consent,
their account by e-mail domain), look-ups, and the clicks of tracked e-mail links.

Contacts live in the shared ``contacts`` table (the collect path creates them too, from
forms and ``identify``); consent lives in ``contact_consents``.  See
webleads/campaigns/contacts.py and tracked.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webleads.db import dialect
from webleads.db.schema import accounts, contacts
from webleads.db.schema_campaigns import contact_consents, tracked_clicks

CHUNK = 500
ConsentSource = Literal["import", "dashboard"]
T = TypeVar("T")


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass(frozen=True, slots=True)
class ContactLine:
    """One validated line of an import."""

    email: str  # normalised
    name: str
    organisation: str
    consent: bool
    domain: str  # of the e-mail
    business_domain: str | None  # None: free-mail, never attached to an account


@dataclass(frozen=True, slots=True)
class ContactRow:
    id: int
    workspace_id: int
    email: str
    name: str
    organisation: str
    account_id: int | None
    account_name: str | None
    consent: bool | None  # None: never stated (a contact from a form)
    first_seen: datetime
    last_seen: datetime


_COLUMNS = (contacts.c.id, contacts.c.workspace_id, contacts.c.email, contacts.c.traits,
            contacts.c.account_id, accounts.c.name.label("account_name"),
            contact_consents.c.consent, contacts.c.first_seen, contacts.c.last_seen)
_FROM = contacts.outerjoin(accounts, accounts.c.id == contacts.c.account_id).outerjoin(
    contact_consents, contact_consents.c.contact_id == contacts.c.id)


def _text(traits: Any, key: str) -> str:
    value = traits.get(key) if isinstance(traits, dict) else None
    return str(value) if isinstance(value, str | int | float) else ""


def _row(r: Any) -> ContactRow:
    return ContactRow(int(r.id), int(r.workspace_id), r.email, _text(r.traits, "name"),
                      _text(r.traits, "organisation"),
                      None if r.account_id is None else int(r.account_id), r.account_name,
                      None if r.consent is None else bool(r.consent), r.first_seen, r.last_seen)


# -- imports --------------------------------------------------------------------------------

def existing_emails(conn: Connection, workspace_id: int, emails: Iterable[str]) -> set[str]:
    wanted = sorted(set(emails))
    found: set[str] = set()
    c = contacts.c
    for chunk in _chunks(wanted):
        found.update(conn.execute(sa.select(c.email).where(
            c.workspace_id == workspace_id, c.email.in_(chunk))).scalars())
    return found


def upsert_contacts(conn: Connection, workspace_id: int, lines: Sequence[ContactLine], *,
                    now: datetime, source: ConsentSource = "import") -> dict[str, int]:
    """Insert new contacts, merge the name and organisation of known ones (an empty cell
    keeps what was there), set everyone's consent; returns {email: contact id}."""
    if not lines:
        return {}
    stmt = dialect.insert(conn, contacts)
    stmt = stmt.on_conflict_do_update(
        index_elements=[contacts.c.workspace_id, contacts.c.email],
        set_={"traits": dialect.json_merge(conn, contacts.c.traits, stmt.excluded.traits)})
    conn.execute(stmt, [{
        "workspace_id": workspace_id, "email": x.email, "domain": x.domain,
        "traits": {k: v for k, v in (("name", x.name), ("organisation", x.organisation)) if v},
        "account_id": None, "first_seen": now, "last_seen": now} for x in lines])
    ids: dict[str, int] = {}
    c = contacts.c
    for chunk in _chunks([x.email for x in lines]):
        ids.update((e, int(i)) for e, i in conn.execute(
            sa.select(c.email, c.id).where(c.workspace_id == workspace_id, c.email.in_(chunk))))
    put_consents(conn, [(ids[x.email], x.consent) for x in lines], source=source, now=now)
    return ids


def put_consents(conn: Connection, consents: Sequence[tuple[int, bool]], *,
                 source: ConsentSource, now: datetime) -> None:
    if not consents:
        return
    stmt = dialect.insert(conn, contact_consents)
    stmt = stmt.on_conflict_do_update(
        index_elements=[contact_consents.c.contact_id],
        set_={"consent": stmt.excluded.consent, "source": stmt.excluded.source,
              "updated_at": stmt.excluded.updated_at})
    conn.execute(stmt, [{"contact_id": i, "consent": consent, "source": source,
                         "updated_at": now} for i, consent in consents])


def attach_accounts(conn: Connection, workspace_id: int,
                    by_domain: dict[str, list[int]]) -> int:
    """Contacts without an account join the workspace's account of their e-mail domain,
    when there is one; returns how many were attached."""
    a = accounts.c
    found: dict[str, int] = {}
    domains = sorted(by_domain)
    for chunk in _chunks(domains):
        found.update((str(d).lower(), int(i)) for d, i in conn.execute(
            sa.select(a.domain, sa.func.min(a.id)).where(
                a.workspace_id == workspace_id, sa.func.lower(a.domain).in_(chunk))
            .group_by(a.domain)))
    rows = [{"b_id": cid, "b_account": found[d]} for d in domains if d in found
            for cid in by_domain[d]]
    if not rows:
        return 0
    c = contacts.c
    result = conn.execute(sa.update(contacts).where(
        c.id == sa.bindparam("b_id"), c.account_id.is_(None)).values(
        account_id=sa.bindparam("b_account")), rows)
    return int(result.rowcount or 0)


# -- look-ups -------------------------------------------------------------------------------

def contact_by_id(conn: Connection, contact_id: int) -> ContactRow | None:
    row = conn.execute(sa.select(*_COLUMNS).select_from(_FROM)
                       .where(contacts.c.id == contact_id)).first()
    return None if row is None else _row(row)


def contact_by_email(conn: Connection, workspace_id: int, email: str) -> ContactRow | None:
    row = conn.execute(sa.select(*_COLUMNS).select_from(_FROM).where(
        contacts.c.workspace_id == workspace_id, contacts.c.email == email)).first()
    return None if row is None else _row(row)


def list_contacts(conn: Connection, workspace_id: int, *, search: str = "",
                  consenting: bool = False, limit: int = 100, offset: int = 0
                  ) -> list[ContactRow]:
    c = contacts.c
    stmt = sa.select(*_COLUMNS).select_from(_FROM).where(c.workspace_id == workspace_id)
    if search:
        stmt = stmt.where(c.email.contains(search.lower(), autoescape=True))
    if consenting:
        stmt = stmt.where(contact_consents.c.consent.is_(True))
    return [_row(r) for r in conn.execute(stmt.order_by(c.email).limit(limit).offset(offset))]


@dataclass(frozen=True, slots=True)
class ContactCounts:
    total: int
    consenting: int
    with_account: int


def count_contacts(conn: Connection, workspace_id: int) -> ContactCounts:
    c = contacts.c
    row = conn.execute(sa.select(
        sa.func.count(),
        sa.func.count(sa.case((contact_consents.c.consent.is_(True), 1))),
        sa.func.count(c.account_id)).select_from(
        contacts.outerjoin(contact_consents, contact_consents.c.contact_id == c.id))
        .where(c.workspace_id == workspace_id)).one()
    return ContactCounts(int(row[0]), int(row[1]), int(row[2]))


def contacts_of_accounts(conn: Connection, account_ids: Iterable[int]
                         ) -> dict[int, list[str]]:
    """E-mails of the contacts of each account, in order."""
    ids = sorted(set(account_ids))
    out: dict[int, list[str]] = {}
    c = contacts.c
    for chunk in _chunks(ids):
        for account, email in conn.execute(sa.select(c.account_id, c.email).where(
                c.account_id.in_(chunk)).order_by(c.email)):
            out.setdefault(int(account), []).append(email)
    return out


# -- tracked e-mail clicks ------------------------------------------------------------------

def insert_click(conn: Connection, nonce: str, *, workspace_id: int, campaign_id: int,
                 contact_id: int, now: datetime, expires_at: datetime) -> None:
    conn.execute(tracked_clicks.insert().values(
        nonce=nonce, workspace_id=workspace_id, campaign_id=campaign_id, contact_id=contact_id,
        clicked_at=now, expires_at=expires_at, claimed_at=None))


def claim_click(conn: Connection, nonce: str, *, workspace_id: int, now: datetime
                ) -> ContactRow | None:
    """Claim an unclaimed, unexpired click of this workspace (once): its contact, when it
    still consents; None otherwise."""
    k = tracked_clicks.c
    contact_id = conn.execute(
        sa.update(tracked_clicks).where(k.nonce == nonce, k.workspace_id == workspace_id,
                                        k.claimed_at.is_(None), k.expires_at > now)
        .values(claimed_at=now).returning(k.contact_id)).scalar()
    if contact_id is None:
        return None
    found = contact_by_id(conn, int(contact_id))
    if found is None or found.workspace_id != workspace_id or found.consent is not True:
        return None
    return found


@dataclass(frozen=True, slots=True)
class ClickCounts:
    clicks: int
    contacts: int  # distinct
    identified: int  # clicks claimed by a landing page's hit


def click_counts(conn: Connection, campaign_ids: Iterable[int]) -> dict[int, ClickCounts]:
    ids = sorted(set(campaign_ids))
    if not ids:
        return {}
    k = tracked_clicks.c
    return {int(r[0]): ClickCounts(int(r[1]), int(r[2]), int(r[3])) for r in conn.execute(
        sa.select(k.campaign_id, sa.func.count(), sa.func.count(sa.distinct(k.contact_id)),
                  sa.func.count(k.claimed_at)).where(k.campaign_id.in_(ids))
        .group_by(k.campaign_id))}


@dataclass(frozen=True, slots=True)
class ClickRow:
    email: str
    clicked_at: datetime
    claimed_at: datetime | None


def latest_clicks(conn: Connection, campaign_id: int, *, limit: int = 20) -> list[ClickRow]:
    k = tracked_clicks.c
    return [ClickRow(r.email, r.clicked_at, r.claimed_at) for r in conn.execute(
        sa.select(contacts.c.email, k.clicked_at, k.claimed_at)
        .select_from(tracked_clicks.join(contacts, contacts.c.id == k.contact_id))
        .where(k.campaign_id == campaign_id)
        .order_by(k.clicked_at.desc(), k.nonce).limit(limit))]
