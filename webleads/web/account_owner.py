"""Who owns an account, changed from its page.

Admins and marketers give an account to any active owner of the workspace, or to
nobody; a sales rep whose login is tied to an owner (``memberships.owner_id``) may take
an account that has no owner, for themselves only.  Each change is an audit entry
(``account.owner``), which the page's history shows; the lifecycle keeps an owner
once given (``lifecycle/hook.py`` only assigns accounts that have none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.engine import Engine

from webleads.db import account_page as q
from webleads.db import lifecycle as lifecycle_db
from webleads.lifecycle.model import Owner
from webleads.privacy.audit import record_audit

Refusal = Literal["unknown_owner", "not_yours", "taken"]


class OwnerRefused(Exception):
    """Why the change cannot be made: no such active owner, a sales rep giving an
    account away (or taking an owned one), or someone took it meanwhile."""

    def __init__(self, code: Refusal) -> None:
        super().__init__(code)
        self.code: Refusal = code


@dataclass(frozen=True, slots=True)
class OwnerChange:
    changed: bool
    owner: Owner | None  # the owner now (None: nobody)


def give(engine: Engine, account: q.AccountRow, owner_id: int | None, *, manager: bool,
         my_owner: int | None, actor: str, by: str, now: datetime) -> OwnerChange:
    """Give ``account`` to ``owner_id`` (None: nobody).  ``manager``: an admin or a
    marketer; else a sales rep whose owner is ``my_owner``."""
    ws = account.workspace_id
    with engine.begin() as conn:
        active = {o.id: o for o in lifecycle_db.list_owners(conn, ws) if o.active}
        if owner_id is not None and owner_id not in active:
            raise OwnerRefused("unknown_owner")
        new = active.get(owner_id) if owner_id is not None else None
        if owner_id == account.owner_id:
            return OwnerChange(False, new)
        if manager:
            q.set_owner(conn, workspace_id=ws, account_id=account.id, owner_id=owner_id,
                        by=by, now=now)
        elif my_owner is None or owner_id != my_owner or account.owner_id is not None:
            raise OwnerRefused("not_yours")
        elif not q.take_unowned(conn, workspace_id=ws, account_id=account.id,
                                owner_id=my_owner, by=by, now=now):
            raise OwnerRefused("taken")
        record_audit(conn, workspace_id=ws, actor=actor, action="account.owner",
                     target=f"account:{account.id}",
                     details={"from_id": account.owner_id, "from": account.owner_name,
                              "to_id": owner_id, "to": new.name if new else None}, now=now)
    return OwnerChange(True, new)
