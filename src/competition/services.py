"""The process-wide handles every request and job shares, created once at start-up (the API keeps
them in `app.state.services`, the worker in its context) and passed to the domains explicitly."""

from __future__ import annotations

import asyncpg
import msgspec
from redis.asyncio import Redis

from competition.config import Settings
from competition.storage.store import ObjectStore


class Services(msgspec.Struct, kw_only=True):
    settings: Settings
    pool: asyncpg.Pool
    redis: Redis
    storage: ObjectStore
