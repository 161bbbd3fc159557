"""Alembic environment: migrates the engine handed over by tapzone.store.migrate (or TAPZONE_DATABASE_URL)."""

from __future__ import annotations

from alembic import context

from tapzone.store.db import make_engine
from tapzone.store.tables import metadata

config = context.config
engine = config.attributes.get("engine") or make_engine()

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
