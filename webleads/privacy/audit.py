"""The audit log of administrative and privacy actions (``webleads audit``).

Other parts of the product call ``record_audit`` in the transaction of the action they
record, so that an entry exists if and only if the action committed.  A data subject is
named by ``subject_ref(email)``, a hash, never by the address: the log must survive the
erasure it records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.engine import Connection

from webleads.db import privacy as db
from webleads.db.privacy import AuditEntry

__all__ = ["AuditAction", "AuditEntry", "entries", "record_audit", "subject_ref"]

# Actions written by this package; other parts may add their own names (free text).
AuditAction = Literal["privacy.export", "privacy.erase", "retention.purge", "retention.set"]


def subject_ref(email: str) -> str:
    """How the log names a data subject: a SHA-256 of the normalised address.  Hash the
    address again to find the entries about a person; the log keeps no address."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"subject:sha256:{digest[:32]}"


def record_audit(conn: Connection, *, workspace_id: int | None, actor: str, action: str,
                 target: str, details: Mapping[str, Any], now: datetime) -> int:
    """Write one entry in ``conn``'s open transaction; its id."""
    return db.insert_audit(conn, workspace_id=workspace_id, actor=actor, action=action,
                           target=target, details=details, at=now)


def entries(conn: Connection, *, last: int = 50, workspace_id: int | None = None
            ) -> list[AuditEntry]:
    """The ``last`` entries, newest first."""
    return db.audit_entries(conn, last=last, workspace_id=workspace_id)
