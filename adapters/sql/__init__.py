"""PostgreSQL through SQLAlchemy Core (async) and asyncpg: tables, store, unit of work."""
