"""Storage: one schema (``schema.py``), engines for SQLite and PostgreSQL, query modules."""
