"""The composition root: ``create_app(settings)`` builds every part from explicit
arguments; nothing is read from the environment here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.engine import Engine

from webleads.collect.endpoint import Receive, Scope, Send, make_collect, make_pixel, make_tag
from webleads.collect.limits import RateLimits
from webleads.collect.optout import make_optout
from webleads.db.engine import create_engine
from webleads.db.salts import SaltBook
from webleads.enrich.pipeline import build_pipeline
from webleads.ingest import Ingest
from webleads.metrics import Metrics, SharedMetrics
from webleads.networks.identifier import Identifier
from webleads.networks.overrides import OverrideBook
from webleads.networks.resolver import (
    ChainResolver,
    MmdbAsnResolver,
    NetworkResolver,
    NullResolver,
    RangesResolver,
    cached,
)
from webleads.settings import DEFAULT_SECRET, Settings, load_settings
from webleads.sites import SiteBook
from webleads.writer import Writer

log = logging.getLogger("webleads")


def make_resolver(settings: Settings) -> NetworkResolver:
    """The global resolver: a ranges CSV when configured, then the identifier (shipped
    snapshot + imports + extra MMDB files), behind an LRU cache."""
    chain: list[NetworkResolver] = []
    if settings.network_ranges:
        chain.append(RangesResolver.from_csv(settings.network_ranges))
    if settings.network_data == "shipped":
        chain.append(Identifier.default(settings.data_dir, asn_database=settings.asn_database))
    elif settings.asn_database:
        chain.append(MmdbAsnResolver(settings.asn_database))
    if not chain:
        return NullResolver()
    return cached(chain[0] if len(chain) == 1 else ChainResolver(chain))


# Writer threads for the hit queue on PostgreSQL (one elsewhere: SQLite has one write
# lock per file, and the inline writer's batches lock the same visitor rows).
WRITER_THREADS_PG = 2


class WebleadsApp:
    """The ASGI application: the hit path on raw ASGI, the rest on FastAPI."""

    def __init__(self, settings: Settings, *, engine: Engine | None = None,
                 resolver: NetworkResolver | None = None, background: bool = False) -> None:
        if settings.secret_key == DEFAULT_SECRET:
            log.warning("WEBLEADS_SECRET_KEY is not set: set a long random value in production")
        self.settings = settings
        # Background jobs (the outbox's delivery worker) run in `webleads serve` only.
        self.background = background
        self._outbox: Any = None
        self._jobs: Any = None
        self._rescores: Any = None
        self.engine = engine or create_engine(settings.database_url,
                                              sqlite_synchronous=settings.sqlite_synchronous)
        self.metrics = Metrics()
        # serve --workers N: /metrics adds up the counters of every server process.
        self.shared_metrics = (SharedMetrics(settings.metrics_dir, self.metrics)
                               if settings.metrics_dir else None)
        self.sites = SiteBook(self.engine)
        self.overrides = OverrideBook(self.engine)
        self.pipeline = build_pipeline(
            resolver=resolver or make_resolver(settings), salt_for=SaltBook(self.engine),
            overrides=self.overrides,
            secret_key=settings.secret_key, country_database=settings.country_database,
            disabled=settings.disabled_steps,
        )
        queue = self._queue_engine()
        self.writer = Writer(self.engine, self.metrics, batch_max=settings.writer_batch_max,
                             delay=_writer_delay(settings),
                             queue_max=settings.writer_queue_max,
                             allow_private_destinations=settings.allow_private_destinations,
                             queue=queue, backlog_max=settings.hit_queue_max,
                             threads=WRITER_THREADS_PG if queue is not None
                             and queue.dialect.name == "postgresql" else 1)
        from webleads.campaigns.landing import LinkIngest, make_claim

        # Ingest, plus the wl_t of tracked e-mail links' landing pages (campaigns/landing.py)
        self.ingest: Ingest = LinkIngest(claim=make_claim(self.engine),
                             sites=self.sites, pipeline=self.pipeline, writer=self.writer,
                             metrics=self.metrics, trusted_proxies=settings.trusted_networks,
                             quarantine_max_payload=settings.quarantine_max_payload,
                             limits=RateLimits(per_ip=settings.collect_rate_per_ip,
                                               per_site=settings.collect_rate_per_site))
        from webleads.campaigns.redirect import make_short_link, make_tracked_redirect

        self._short_link = make_short_link(self.engine)
        self._tracked_link = make_tracked_redirect(self.engine, secret=settings.secret_key)
        self._routes = {
            "/api/collect": make_collect(self.ingest, settings.collect_max_body),
            "/p.gif": make_pixel(self.ingest),
            "/wl.js": make_tag(),
            "/optout": make_optout(self.sites),
        }
        from webleads.web.page import Web
        from webleads.web.security import BodyLimit, SecurityHeaders

        self.web = Web(self.engine, settings)
        self.api = self._build_api()
        self._dashboard = SecurityHeaders(BodyLimit(self.api))
        self._started = False

    def _queue_engine(self) -> Engine | None:
        """Separate processor: where the writer appends (db/hit_queue.py)."""
        if self.settings.processor != "separate":
            return None
        from webleads.db.hit_queue import queue_engine

        return queue_engine(self.engine, sqlite_synchronous=self.settings.sqlite_synchronous)

    def start(self) -> None:
        if not self._started:
            self.sites.reload()
            self.writer.start()
            if self.background and self.settings.outbox_worker:
                from webleads.outbox.config import outbox_setup
                from webleads.outbox.worker import BackgroundWorker

                setup = outbox_setup(self.settings)
                self._outbox = BackgroundWorker(self.engine, senders=setup.senders(),
                                                policy=setup.policy)
                self._outbox.start()
            if self.background:
                if self.shared_metrics is not None:
                    self.shared_metrics.start()
                from webleads.scoring.background import RescoreWorker

                self._rescores = RescoreWorker(self.engine)
                self._rescores.start()
                self.web.rescores = self._rescores
                self._jobs = self._periodic_jobs()
                self._jobs.start()
                from webleads import gc_tuning

                gc_tuning.settle()  # a long-running server: see gc_tuning.py
            self._started = True

    def stop(self) -> None:
        if self._started:
            if self._outbox is not None:
                self._outbox.stop()
                self._outbox = None
            if self._jobs is not None:
                self._jobs.stop()
                self._jobs = None
            if self._rescores is not None:
                self.web.rescores = None
                self._rescores.stop()
                self._rescores = None
            self.writer.stop()
            if self.background and self.shared_metrics is not None:
                self.shared_metrics.stop()  # its last counts stay in the totals
            self._started = False

    def _periodic_jobs(self) -> Any:
        from webleads.jobs import Job, PeriodicJobs
        from webleads.lifecycle.digest import build_digests

        allow = self.settings.allow_private_destinations
        from webleads.campaigns.summary import summary_job
        from webleads.privacy.retention import purge_job
        from webleads.traffic import prebuild

        return PeriodicJobs([
            # Yesterday's digest per rep; idempotent, so checking hourly is cheap and safe.
            Job("digests", 3600.0,
                lambda now: build_digests(self.engine, now, allow_private=allow)),
            # Retention: what is past each site's periods goes (aggregates stay).
            Job("purge", 6 * 3600.0, purge_job(self.engine)),
            # Campaigns that ended: one summary e-mail each (idempotent outbox key).
            Job("campaign_summaries", 3600.0, summary_job(self.engine, allow_private=allow)),
            # The Overview's daily rollups of the closed days, ahead of the first visit.
            Job("rollups", 3600.0, lambda now: prebuild(self.engine, now)),
        ])

    @asynccontextmanager
    async def running(self) -> AsyncIterator[WebleadsApp]:
        """Start the writer for in-process use (tests, ``webleads demo``)."""
        self.start()
        try:
            yield self
        finally:
            await asyncio.to_thread(self.stop)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            handler = self._routes.get(scope["path"])
            if handler is not None:
                await handler(scope, receive, send)
                return
            if scope["path"].startswith("/l/"):  # campaign short links
                await self._short_link(scope, receive, send)
                return
            if scope["path"].startswith("/r/"):  # tracked e-mail links
                await self._tracked_link(scope, receive, send)
                return
        await self._dashboard(scope, receive, send)

    def _build_api(self) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await asyncio.to_thread(self.start)
            try:
                yield
            finally:
                await asyncio.to_thread(self.stop)

        # No Swagger UI: FastAPI's page loads its scripts from a CDN, and nothing of the
        # product may (the description is at /api/openapi.json; docs/api.md).
        api = FastAPI(title="webleads-tracker", lifespan=lifespan, docs_url=None,
                      openapi_url="/api/openapi.json", redoc_url=None)

        from webleads.api.routes import ApiError, error_response
        from webleads.api.routes import router as api_v1
        from webleads.web.app import install

        install(api, self.web)
        api.include_router(api_v1)

        @api.exception_handler(ApiError)
        async def api_error(_: Any, exc: ApiError) -> JSONResponse:
            return error_response(exc)

        @api.get("/healthz", include_in_schema=False)
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

        @api.get("/api/data-sources", tags=["identification"])
        async def data_sources() -> dict[str, Any]:
            """The data the identification uses: date, size, licence and attribution."""
            from webleads.networks.sources import status_rows

            rows = status_rows(self.settings.data_dir,
                               enabled=self.settings.network_data == "shipped")
            return {"sources": [{k: v for k, v in row.items() if k != "path"}
                                for row in rows]}

        @api.get("/readyz", include_in_schema=False, response_model=None)
        async def readyz() -> JSONResponse:
            try:
                await asyncio.to_thread(self._ping)
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                return JSONResponse({"status": "unavailable", "detail": str(exc)[:200]}, 503)
            if not self._started:
                return JSONResponse({"status": "starting"}, 503)
            await asyncio.to_thread(self.writer.read_backlog, 1.0)
            return JSONResponse({"status": "ready", "writer_queue": self.writer.pending,
                                 "hit_queue": self.writer.backlog})

        @api.get("/metrics", include_in_schema=False)
        async def metrics() -> PlainTextResponse:
            # The hit queue's gauges, fresh even when no hit arrives to refresh them.
            await asyncio.to_thread(self.writer.read_backlog, 1.0)
            shared = self.shared_metrics
            figures = await asyncio.to_thread(shared.merged) if shared else self.metrics
            return PlainTextResponse(figures.render(), media_type="text/plain; version=0.0.4")

        return api

    def _ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))


def _writer_delay(settings: Settings) -> float:
    if settings.writer_delay_ms is not None:
        return settings.writer_delay_ms / 1000
    # Separate: 1 ms gathers about half again as many hits per commit as none (47
    # against 29 at 64 connections), for 10 % less server CPU per request.
    return 0.002 if settings.processor == "inline" else 0.001


def create_app(settings: Settings, **parts: Any) -> WebleadsApp:
    return WebleadsApp(settings, **parts)


def app_from_env() -> WebleadsApp:
    """Factory for ``uvicorn --factory`` (used by ``webleads serve --workers N``)."""
    return create_app(load_settings(), background=True)
