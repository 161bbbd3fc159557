"""The Alembic chain is linear and produces exactly the schema the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tapzone.store.migrate import alembic_config, current_revision
from tapzone.store.tables import metadata
from tapzone.store.uow import UnitOfWork


def test_migrations_and_models_agree(uow: UnitOfWork) -> None:
    with uow.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []


def test_database_is_at_the_single_head(uow: UnitOfWork) -> None:
    script = ScriptDirectory.from_config(alembic_config(uow.engine))
    heads = script.get_heads()
    assert len(heads) == 1, f"the migration chain must stay linear, found heads {heads}"
    assert current_revision(uow.engine) == heads[0]
    revisions = list(script.walk_revisions())
    assert all(len(revision._all_down_revisions) <= 1 for revision in revisions)
