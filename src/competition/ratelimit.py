"""Fixed-window rate limits in Redis, shared by every API replica."""

from __future__ import annotations

import hashlib
import time

from redis.asyncio import Redis

from competition.errors import TooManyRequests


async def hit(redis: Redis, *, action: str, identifier: str, limit: int, window: int) -> None:
    """Count one attempt; raise 429 with Retry-After once `limit` attempts are used up."""
    now = int(time.time())
    bucket = now // window
    digest = hashlib.sha256(identifier.lower().encode()).hexdigest()[:32]
    key = f"rl:{action}:{digest}:{bucket}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window + 1)
        count, _ = await pipe.execute()
    if int(count) > limit:
        retry_after = (bucket + 1) * window - now
        raise TooManyRequests(
            "Zu viele Versuche. Bitte warten Sie etwas und versuchen Sie es dann erneut.",
            headers={"Retry-After": str(max(retry_after, 1))},
        )
