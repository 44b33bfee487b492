"""Daily salts for cookieless visitor hashes (UTC days).

The first process that needs a day's salt creates it at random; every earlier salt
is deleted at the same moment, so past days' hashes cannot be recomputed from what
the database holds.  Cookieless visitors therefore get a new id at midnight UTC.
"""

from __future__ import annotations

import secrets
import threading
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webleads.db import dialect
from webleads.db.schema import salts


class SaltBook:
    """Today's salt, shared by every process through the ``salts`` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._cache: dict[date, bytes] = {}
        self._lock = threading.Lock()

    def __call__(self, day: date) -> bytes:
        salt = self._cache.get(day)
        if salt is None:
            with self._lock:
                salt = self._cache.get(day) or self._load(day)
                self._cache = {day: salt}
        return salt

    def _load(self, day: date) -> bytes:
        with self._engine.begin() as conn:
            conn.execute(dialect.insert(conn, salts).values(day=day, salt=secrets.token_bytes(32))
                         .on_conflict_do_nothing())
            salt = conn.execute(sa.select(salts.c.salt).where(salts.c.day == day)).scalar_one()
            conn.execute(sa.delete(salts).where(salts.c.day < day))
        return bytes(salt)
