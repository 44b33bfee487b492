"""Data subjects (GDPR art. 15, 17 and 20): export and erase everything held about an
e-mail address.

What belongs to a subject: their contact rows (one per workspace), the visitors linked
to them, every session of those visitors or of the contact, every hit of those sessions
or of the contact, the score lines of those hits and the contact's score, and the
outbox messages and digest events that name the address.  Free text is searched too
(plain and percent-encoded address, case-insensitive): request bodies kept in
``quarantine``, and hits not linked to the contact whose URL, referrer, title or
properties hold the address (``?email=jane%40acme.fr``), with sessions whose entry URL or
referrer holds it.  The organisations (accounts) they visited from are not theirs: they
stay, with the subject's visits taken out of their counters and their scores recomputed
(``rescore``, the reference).

Erasure deletes all of it in one transaction, after folding the hits into the anonymous
daily aggregates (``daily_stats``: counts without any identifier), so that overview
numbers still add up.  Free-text hits go too; their sessions' counters go down by them
and a session left without hits is deleted (the session may hold other people's
pages: only the hits naming the address are theirs).  It is idempotent: a second run
finds nothing and deletes nothing.
Owners and alert rules naming the address are staff settings, not visitor data: they
are exported and reported, never erased here.  The audit log names the subject by a
hash (``audit.subject_ref``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy.engine import Connection, Engine

from webleads.db import privacy as db
from webleads.privacy.audit import record_audit, subject_ref
from webleads.privacy.messages import t
from webleads.privacy.retention import aggregate, aggregate_sessions
from webleads.scoring.rescore import rescore_workspace

SUMMARY_ITEMS = 20  # sessions and hits listed in the readable summary


def normalise(email: str) -> str:
    return email.strip().lower()


def needles(address: str) -> list[str]:
    """The lower-case forms of a normalised address searched in free text: plain, and
    percent-encoded (``%40`` only, and every reserved character)."""
    forms = [address, address.replace("@", "%40"), quote(address, safe="").lower()]
    return sorted(set(forms), key=forms.index)


def valid(email: str) -> bool:
    local, at, domain = normalise(email).rpartition("@")
    return bool(at and local and "." in domain and " " not in email.strip())


@dataclass(frozen=True, slots=True)
class _Held:
    contacts: list[dict[str, Any]]
    visitors: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    hits: list[dict[str, Any]]
    ledger: list[dict[str, Any]]
    scores: list[dict[str, Any]]
    accounts: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    digest_events: list[dict[str, Any]]
    staff: list[dict[str, Any]]
    text_hits: list[dict[str, Any]]  # found by text search, not linked to the contact
    text_sessions: list[dict[str, Any]]  # entry URL or referrer naming the address
    quarantine: list[dict[str, Any]]  # rejected request bodies naming the address
    campaigns: list[dict[str, Any]]  # consents, tracked-link clicks, deals of the contact


def _held(conn: Connection, email: str, workspace_id: int | None) -> _Held:
    found = db.contacts_by_email(conn, email, workspace_id=workspace_id)
    contact_ids = [int(c["id"]) for c in found]
    visitors = db.linked_visitors(conn, contact_ids) if contact_ids else []
    keys = [(int(v["site_id"]), str(v["key"])) for v in visitors]
    sessions = db.linked_sessions(conn, contact_ids, keys) if contact_ids else []
    session_ids = [int(s["id"]) for s in sessions]
    hits = db.linked_hits(conn, contact_ids, session_ids) if contact_ids else []
    extra = {int(h["session_id"]) for h in hits} - set(session_ids)
    if extra:  # hits of the contact in sessions not found by visitor: take them whole
        sessions = db.linked_sessions(conn, contact_ids, keys, sorted(extra))
        session_ids = [int(s["id"]) for s in sessions]
        hits = db.linked_hits(conn, contact_ids, session_ids)
    ledger = db.linked_ledger(conn, contact_ids, session_ids) if contact_ids else []
    account_ids = sorted({int(x["account_id"]) for x in [*found, *sessions, *hits]
                          if x.get("account_id") is not None})
    forms = needles(email)
    linked_hits = {int(h["id"]) for h in hits}
    linked_sessions = set(session_ids)
    return _Held(
        contacts=found, visitors=visitors, sessions=sessions, hits=hits, ledger=ledger,
        scores=db.contact_score_rows(conn, contact_ids) if contact_ids else [],
        accounts=db.account_rows(conn, account_ids) if account_ids else [],
        messages=db.outbox_naming(conn, email, workspace_id=workspace_id),
        digest_events=db.digest_events_naming(conn, email, workspace_id=workspace_id),
        staff=db.staff_rows(conn, email, workspace_id=workspace_id),
        text_hits=[h for h in db.hits_naming(conn, forms, workspace_id=workspace_id)
                   if int(h["id"]) not in linked_hits],
        text_sessions=[s for s in db.sessions_naming(conn, forms, workspace_id=workspace_id)
                       if int(s["id"]) not in linked_sessions],
        quarantine=db.quarantine_naming(conn, forms, workspace_id=workspace_id),
        campaigns=db.campaign_rows(conn, contact_ids) if contact_ids else [])


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def export_subject(conn: Connection, email: str, *, workspace_id: int | None = None
                   ) -> dict[str, Any]:
    """Everything held about ``email`` (in one workspace, or all), as JSON-ready values."""
    held = _held(conn, normalise(email), workspace_id)
    data: dict[str, Any] = {"email": normalise(email), "workspace_id": workspace_id}
    data.update(asdict(held))
    for kind in ("text_hits", "text_sessions", "quarantine"):
        data[kind] = [{**row, "found_by": "text_search"} for row in data[kind]]
    data["quarantine"] = [{**q, "payload": q["payload"].decode("utf-8", "backslashreplace")}
                          for q in data["quarantine"]]
    return {k: _plain(v) for k, v in data.items()}


def export_for(engine: Engine, email: str, *, workspace_id: int | None = None, by: str,
               now: datetime) -> dict[str, Any]:
    """``export_subject``, recorded in the audit log in the same transaction."""
    with engine.begin() as conn:
        data = export_subject(conn, email, workspace_id=workspace_id)
        record_audit(conn, workspace_id=workspace_id, actor=by, action="privacy.export",
                     target=subject_ref(email),
                     details={"contacts": len(data["contacts"]), "hits": len(data["hits"])},
                     now=now)
    return data


def to_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)


def summary(data: Mapping[str, Any], *, lang: str, now: datetime) -> str:
    """A readable Markdown summary of an export, in French or English."""
    def _(key: str, **values: object) -> str:
        return t(lang, key, **values)

    none = _("sum_none")
    lines = [f"# {_('sum_title', email=data['email'])}", "", _("sum_generated",
                                                                 at=now.isoformat()), ""]
    lines.append(f"## {_('sum_contacts')}")
    for c in data["contacts"]:
        traits = ", ".join(f"{k}={v}" for k, v in sorted((c["traits"] or {}).items()))
        lines.append(_("sum_contact", ws=c["workspace_id"], first=c["first_seen"],
                       last=c["last_seen"], traits=traits or none))
    if not data["contacts"]:
        lines.append(f"- {none}")
    lines += ["", _("sum_visitors", count=len(data["visitors"])), "",
              f"## {_('sum_sessions', count=len(data['sessions']))}"]
    for s in data["sessions"][:SUMMARY_ITEMS]:
        lines.append(_("sum_session", start=s["started_at"], pages=s["pageviews"],
                       source=s["source_name"] or s["source_class"] or none,
                       entry=s["entry_url"]))
    if len(data["sessions"]) > SUMMARY_ITEMS:
        lines.append(_("sum_more", count=len(data["sessions"]) - SUMMARY_ITEMS))
    all_hits = [*data["hits"], *data.get("text_hits", [])]
    lines += ["", f"## {_('sum_hits', count=len(all_hits))}"]
    for h in all_hits[:SUMMARY_ITEMS]:
        lines.append(_("sum_hit", ts=h["ts"], type=h["type"], url=h["url"]))
    if len(all_hits) > SUMMARY_ITEMS:
        lines.append(_("sum_more", count=len(all_hits) - SUMMARY_ITEMS))
    points = sum(int(s["points"]) for s in data["scores"])
    lines += ["", _("sum_scores", count=len(data["ledger"]), points=points), "",
              f"## {_('sum_accounts')}"]
    for a in data["accounts"]:
        lines.append(_("sum_account", name=a["name"], domain=a["domain"] or none,
                       stage=a["stage"] or none))
    if not data["accounts"]:
        lines.append(f"- {none}")
    lines += ["", _("sum_messages", count=len(data["messages"]) + len(data["digest_events"])),
              _("sum_staff", count=len(data["staff"])), ""]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class EraseReport:
    contacts: int
    visitors: int
    sessions: int
    hits: int
    ledger_lines: int
    messages: int  # outbox messages and digest events naming the address
    accounts_recounted: int
    workspaces_rescored: tuple[int, ...]
    staff_kept: int  # owners and alert rules naming the address (not erased)
    text_hits: int  # hits not linked to the contact, naming the address in free text
    text_sessions_deleted: int  # their sessions (or ones naming it) left without hits
    sessions_recounted: int  # their sessions kept, counters down by the hits deleted
    quarantine: int  # quarantined request bodies naming the address

    @property
    def found(self) -> bool:
        return bool(self.contacts or self.hits or self.sessions or self.messages
                    or self.text_hits or self.text_sessions_deleted or self.quarantine)


def erase_subject(engine: Engine, email: str, *, workspace_id: int | None = None, by: str,
                  now: datetime | None = None) -> EraseReport:
    """Erase everything held about ``email`` (in one workspace, or all) in one
    transaction; the organisations' counters and scores are recomputed.  Idempotent.

    Hits still in the hit queue (acknowledged, not yet stored) are stored first, so
    that they are erased too."""
    from webleads.processor import store_queued

    now = now or datetime.now(UTC)
    address = normalise(email)
    store_queued(engine)
    with engine.begin() as conn:
        held = _held(conn, address, workspace_id)
        site_rows = db.site_rows(conn)
        timezones = {s.id: s.timezone for s in site_rows}
        db.add_daily_stats(conn, aggregate([*held.hits, *held.text_hits], timezones)
                           + aggregate_sessions(held.sessions, timezones))
        recounted = db.subtract_from_accounts(conn, held.hits, held.sessions)
        removed = db.erase_rows(
            conn, contact_ids=[int(c["id"]) for c in held.contacts],
            visitor_keys=[(int(v["site_id"]), str(v["key"])) for v in held.visitors],
            session_ids=[int(s["id"]) for s in held.sessions],
            hit_ids=[int(h["id"]) for h in held.hits],
            ledger_ids=[int(x["id"]) for x in held.ledger],
            message_ids=[int(m["id"]) for m in held.messages],
            digest_ids=[int(d["id"]) for d in held.digest_events])
        # Free text, after the linked rows (whose sessions are gone already).
        text_lines = db.delete_hits_from_sessions(conn, held.text_hits)
        settled = db.settle_sessions(
            conn, sorted({int(h["session_id"]) for h in held.text_hits}
                         | {int(s["id"]) for s in held.text_sessions}), needles(address))
        recounted += db.subtract_from_accounts(conn, held.text_hits, settled.deleted)
        quarantined = db.delete_quarantine(conn, [int(q["id"]) for q in held.quarantine])
        workspace_of = {s.id: s.workspace_id for s in site_rows}
        workspaces = sorted({int(c["workspace_id"]) for c in held.contacts}
                            | {workspace_of[int(x["site_id"])]
                               for x in [*held.text_hits, *settled.deleted]})
        for ws in workspaces:
            rescore_workspace(conn, ws, now=now)
        report = EraseReport(
            contacts=removed.contacts, visitors=removed.visitors, sessions=removed.sessions,
            hits=removed.hits,
            ledger_lines=removed.ledger_lines + text_lines + settled.ledger_lines,
            messages=removed.messages + len(held.digest_events),
            accounts_recounted=len(set(recounted)), workspaces_rescored=tuple(workspaces),
            staff_kept=len(held.staff), text_hits=len(held.text_hits),
            text_sessions_deleted=len(settled.deleted), sessions_recounted=settled.kept,
            quarantine=quarantined)
        details = {k: v for k, v in asdict(report).items() if k != "workspaces_rescored"}
        targets: list[int | None] = list(workspaces) or [workspace_id]
        for target_ws in targets:
            record_audit(conn, workspace_id=target_ws, actor=by, action="privacy.erase",
                         target=subject_ref(address), details=details, now=now)
    return report
