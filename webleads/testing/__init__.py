"""Helpers for tests and benchmarks: throwaway PostgreSQL clusters (``pgcluster``)."""

from webleads.testing.pgcluster import (
    PgCluster,
    find_bindir,
    postgres_available,
    running_cluster,
    start_cluster,
)

__all__ = ["PgCluster", "find_bindir", "postgres_available", "running_cluster", "start_cluster"]
