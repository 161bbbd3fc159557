"""Persistence: SQLAlchemy tables, engine factory, unit of work, repositories and Alembic migrations."""
