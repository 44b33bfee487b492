"""Visitors, sessions, accounts and contacts for a batch of enriched hits.

Pure logic: given what the database knows of the batch's visitors, decide which hits
open a session, which continue one, what each session, account and contact gains.
``db/store.py`` turns the resulting ``Plan`` into SQL inside one transaction.

Rules:
- a session closes after 30 minutes without a hit (``SESSION_IDLE``);
- a hit that carries a campaign (UTM values or a click id) different from the
  session's opens a new session, even within 30 minutes;
- a hit older than the visitor's last hit (late beacons, imports) joins the current
  session rather than opening one in the past;
- an organisation network (see ``Network.is_organisation``) attaches the session to
  the workspace's account for that organisation;
- an ``identify`` hit, or a ``form`` hit carrying an e-mail, links the visitor and all
  its sessions to the contact with that e-mail;
- a contact's e-mail domain names its organisation and overrides the network's guess
  (the session and the visitor's later sessions go to that account), except free-mail
  and ISP mail domains (``networks/data/freemail_domains.txt``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from webleads.model import Hit, Network
from webleads.networks.names import org_key
from webleads.networks.sources import load_freemail

SESSION_IDLE = timedelta(minutes=30)
CAMPAIGN_MAX = 300  # length of visitors.session_campaign


@dataclass(frozen=True, slots=True)
class VisitorState:
    """What the database holds about a visitor before this batch."""

    session_id: int | None
    last_seen: datetime
    session_campaign: str | None
    contact_email: str | None


@dataclass(slots=True)
class SessionPlan:
    """A session touched by the batch: new (``id`` None) or existing."""

    id: int | None
    site_id: int
    visitor_key: str
    started_at: datetime
    last_seen: datetime
    account_key: str | None = None
    contact_email: str | None = None
    hits: int = 0
    pageviews: int = 0
    engaged_ms: int = 0
    first_hit: Hit | None = None  # the entry hit of a new session
    # The hit that moved a new session to its e-mail domain's account: counts as a visit,
    # and brings the session's earlier page views and engaged time when it had no account.
    switch_hit: Hit | None = None
    carried: tuple[int, int] = (0, 0)
    workspace_id: int = 0


@dataclass(slots=True)
class AccountPlan:
    key: str
    workspace_id: int
    network: Network
    visits: int = 0
    pageviews: int = 0
    engaged_ms: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None


@dataclass(slots=True)
class ContactPlan:
    email: str
    workspace_id: int
    traits: dict[str, object] = field(default_factory=dict)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    account_key: str | None = None  # the organisation of its e-mail domain, if any


@dataclass(slots=True)
class VisitorPlan:
    site_id: int
    workspace_id: int
    key: str
    first_seen: datetime
    last_seen: datetime
    session: SessionPlan
    campaign: str | None
    contact_email: str | None
    is_new: bool


@dataclass(slots=True)
class Plan:
    sessions: list[SessionPlan] = field(default_factory=list)
    visitors: dict[tuple[int, str], VisitorPlan] = field(default_factory=dict)
    accounts: dict[tuple[int, str], AccountPlan] = field(default_factory=dict)
    contacts: dict[tuple[int, str], ContactPlan] = field(default_factory=dict)
    # (hit, its session) in batch order
    hits: list[tuple[Hit, SessionPlan]] = field(default_factory=list)


def account_key(network: Network | None) -> str | None:
    """The key of the organisation behind a network, or None when it is no organisation:
    its name normalised by ``networks.names.org_key`` (legal forms, accents, case)."""
    if network is None or not network.is_organisation:
        return None
    assert network.org_name is not None
    return org_key(network.org_name) or (network.org_domain or "").lower()[:200] or None


def business_domain(email: str | None) -> str | None:
    """The e-mail's domain when it names an organisation (not free-mail or ISP mail)."""
    if not email or "@" not in email:
        return None
    domain = email.rpartition("@")[2].lower()
    return None if domain in freemail_domains() else domain


def email_account(email: str | None) -> tuple[str, Network] | None:
    """A contact's e-mail domain names its organisation; it overrides an IP guess.

    The key is the domain's; ``db/store.py`` joins it to an existing account of the
    workspace with the same domain (identified earlier from its network)."""
    domain = business_domain(email)
    if domain is None:
        return None
    network = Network(org_name=domain, org_domain=domain, category="enterprise",
                      confidence=0.9, evidence=(f"e-mail domain: {domain}",))
    return org_key(domain) or domain, network


@lru_cache(maxsize=1)
def freemail_domains() -> frozenset[str]:
    return load_freemail()


def _session_account(hit: Hit, contact_email: str | None) -> tuple[str, Network] | None:
    by_mail = email_account(contact_email)
    if by_mail is not None:
        return by_mail
    network = hit.client.network
    key = account_key(network)
    return (key, network) if key is not None and network is not None else None


def plan_batch(hits: list[Hit], known: dict[tuple[int, str], VisitorState]) -> Plan:
    """Sessionise ``hits`` given the ``known`` state of their visitors."""
    plan = Plan()
    current: dict[tuple[int, str], VisitorPlan] = {}
    order = sorted(range(len(hits)), key=lambda i: hits[i].ts)
    for i in order:
        hit = hits[i]
        client = hit.client
        site = client.site
        assert client.visitor_key is not None, "put_visitor runs before identification"
        vkey = (site.id, client.visitor_key)
        visitor = current.get(vkey)
        if visitor is None:
            visitor = _resume(plan, vkey, hit, known.get(vkey))
            current[vkey] = visitor
        campaign = _campaign(hit)
        session = visitor.session
        late = hit.ts < visitor.last_seen  # joins the current session, whatever it says
        opens = not late and (hit.ts - visitor.last_seen > SESSION_IDLE or (
            campaign is not None and campaign != visitor.campaign
        ))
        if opens:
            session = _open_session(plan, hit, visitor.contact_email)
            visitor.session = session
            visitor.campaign = campaign
        if hit.type == "identify" or (hit.type == "form" and hit.email):
            assert hit.email is not None
            visitor.contact_email = hit.email
            session.contact_email = hit.email
            contact = plan.contacts.get((site.workspace_id, hit.email))
            if contact is None:
                contact = ContactPlan(hit.email, site.workspace_id, first_seen=hit.ts)
                plan.contacts[(site.workspace_id, hit.email)] = contact
            contact.last_seen = hit.ts
            if hit.traits:
                contact.traits.update(hit.traits)
            by_mail = email_account(hit.email)
            if by_mail is not None:  # the e-mail domain overrides the network's guess
                if session.account_key != by_mail[0] and session.first_hit is not None:
                    session.switch_hit = hit  # the visit now counts for that account too
                    if session.account_key is None:
                        session.carried = (session.pageviews, session.engaged_ms)
                session.account_key = contact.account_key = by_mail[0]
        if hit.ts > visitor.last_seen:
            visitor.last_seen = hit.ts
        if hit.ts > session.last_seen:
            session.last_seen = hit.ts
        session.hits += 1
        session.pageviews += hit.type == "pageview"
        session.engaged_ms += hit.engaged_ms
        _count_account(plan, session, hit)
        plan.hits.append((hit, session))
    plan.visitors = current
    return plan


def _resume(
    plan: Plan, vkey: tuple[int, str], hit: Hit, state: VisitorState | None
) -> VisitorPlan:
    if state is None or state.session_id is None:
        # A brand-new visitor: the first hit always opens a session.
        session = _open_session(plan, hit, None)
        return VisitorPlan(vkey[0], hit.client.site.workspace_id, vkey[1], hit.ts, hit.ts,
                           session, _campaign(hit), None, is_new=True)
    session = SessionPlan(
        state.session_id, vkey[0], vkey[1], state.last_seen, state.last_seen,
        contact_email=state.contact_email, workspace_id=hit.client.site.workspace_id,
    )
    plan.sessions.append(session)
    return VisitorPlan(vkey[0], hit.client.site.workspace_id, vkey[1], state.last_seen,
                       state.last_seen, session, state.session_campaign, state.contact_email,
                       is_new=False)


def _campaign(hit: Hit) -> str | None:
    """The hit's campaign key, bounded to what the visitors table holds; a digest stands
    for the end of a longer key, so that equal campaigns still compare equal."""
    key = hit.campaign_key
    if key is None or len(key) <= CAMPAIGN_MAX:
        return key
    digest = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    return f"{key[:CAMPAIGN_MAX - len(digest) - 1]}#{digest}"


def _open_session(plan: Plan, hit: Hit, contact_email: str | None) -> SessionPlan:
    account = _session_account(hit, contact_email)
    session = SessionPlan(
        None, hit.client.site.id, hit.client.visitor_key or "", hit.ts, hit.ts,
        account_key=account[0] if account else None, contact_email=contact_email,
        first_hit=hit, workspace_id=hit.client.site.workspace_id,
    )
    plan.sessions.append(session)
    return session


def _count_account(plan: Plan, session: SessionPlan, hit: Hit) -> None:
    found = _session_account(hit, session.contact_email)
    if found is None:
        return
    key, network = found
    if session.account_key is None:  # also a session resumed from an earlier batch
        session.account_key = key
    workspace_id = hit.client.site.workspace_id
    account = plan.accounts.get((workspace_id, key))
    if account is None:
        account = AccountPlan(key, workspace_id, network, first_seen=hit.ts, last_seen=hit.ts)
        plan.accounts[(workspace_id, key)] = account
    # a visit is a session's entry hit (or the hit that moved it to another account)
    account.visits += session.first_hit is hit or session.switch_hit is hit
    if session.switch_hit is hit:
        account.pageviews += session.carried[0]
        account.engaged_ms += session.carried[1]
    account.pageviews += hit.type == "pageview"
    account.engaged_ms += hit.engaged_ms
    if account.first_seen is None or hit.ts < account.first_seen:
        account.first_seen = hit.ts
    if account.last_seen is None or hit.ts > account.last_seen:
        account.last_seen = hit.ts
