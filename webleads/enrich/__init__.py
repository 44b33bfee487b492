"""Enrichment: ordered ``drop_*`` / ``put_*`` steps over immutable values (pipeline.py)."""
