"""The Alembic history builds exactly ``webleads.db.schema`` on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from webleads.db.engine import create_engine
from webleads.db.migrate import alembic_config, current_revision, head_revision, upgrade
from webleads.db.schema import metadata
from webleads.settings import Settings
from webleads.sites import create_site

ALEMBIC_TABLE = "alembic_version"


@pytest.fixture
def fresh(settings: Settings) -> Iterator[Engine]:
    """An engine on an empty database (the ``engine`` fixture is already migrated)."""
    eng = create_engine(settings.database_url)
    yield eng
    eng.dispose()


def differences(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "compare_server_default": True})
        return list(compare_metadata(context, metadata))


def tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {ALEMBIC_TABLE}


def shape(engine: Engine) -> dict[str, Any]:
    """Columns, indexes and constraints of every table, as comparable values."""
    inspector = sa.inspect(engine)
    return {t: (
        [(c["name"], str(c["type"]), c["nullable"], c["default"])
         for c in inspector.get_columns(t)],
        sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(t)),
        sorted((u["name"], tuple(u["column_names"]))
               for u in inspector.get_unique_constraints(t)),
        sorted((f["name"], tuple(f["constrained_columns"]), f["referred_table"])
               for f in inspector.get_foreign_keys(t)),
    ) for t in sorted(tables(engine))}


def test_upgrade_builds_the_declared_schema(fresh: Engine) -> None:
    assert current_revision(fresh) is None
    upgrade(fresh)
    assert current_revision(fresh) == head_revision(fresh) is not None
    assert tables(fresh) == set(metadata.tables)
    assert differences(fresh) == []


def test_upgrade_twice_is_a_no_op(fresh: Engine) -> None:
    upgrade(fresh)
    made = create_site(fresh, "Example", "example.com")
    before = shape(fresh)
    upgrade(fresh)
    assert current_revision(fresh) == head_revision(fresh)
    assert shape(fresh) == before
    with fresh.connect() as conn:
        assert conn.execute(sa.text("SELECT key FROM sites")).scalars().all() == [made.site.key]


def test_downgrade_to_base_and_back(fresh: Engine) -> None:
    upgrade(fresh)
    create_site(fresh, "Example", "example.com")
    command.downgrade(alembic_config(fresh), "base")
    assert current_revision(fresh) is None
    assert tables(fresh) == set()
    upgrade(fresh)
    assert tables(fresh) == set(metadata.tables)
    assert differences(fresh) == []
