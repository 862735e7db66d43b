"""The worker process: arq workers executing jobs, the outbox relay and the periodic duties.

arq stops when Redis goes away; this loop starts it again once Redis is back, while the relay keeps
events safe in PostgreSQL meanwhile. SIGTERM/SIGINT stop picking new jobs, let running ones finish
(up to the job timeout) and then exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from typing import Any

import redis.asyncio as redis_asyncio
from arq import Worker
from arq.worker import func

from competition import queue
from competition.config import Settings
from competition.db import create_pool
from competition.services import Services
from competition.storage.s3 import Storage
from workers import jobs
from workers.periodic import run_periodic
from workers.relay import run_relay

logger = logging.getLogger("competition.worker")

# arq's own try counter only guards against endless loops; attempts that count are kept in
# PostgreSQL (event.attempts, email.attempts) and end in a visible failed state.
_ARQ_MAX_TRIES = 1000


def build_worker(settings: Settings, ctx: dict[str, Any]) -> Worker:
    functions = [
        func(jobs.handle_event, name="handle_event", max_tries=_ARQ_MAX_TRIES),
        func(jobs.send_email, name="send_email", max_tries=_ARQ_MAX_TRIES),
    ]
    redis_settings = queue.redis_settings(settings.redis_url)
    return Worker(
        functions=functions,
        queue_name=queue.QUEUE_NAME,
        redis_settings=redis_settings,
        job_serializer=queue.serialize,
        job_deserializer=queue.deserialize,
        max_jobs=settings.worker_concurrency,
        job_timeout=settings.job_timeout_seconds,
        keep_result=3600,
        poll_delay=0.2,
        handle_signals=False,
        ctx=ctx,
    )


async def run(
    settings: Settings, stop: asyncio.Event | None = None, *, freeze_heap: bool = False
) -> None:
    """Run until `stop` is set; without one, until SIGTERM or SIGINT. `freeze_heap` (the worker
    process, not tests running it in their own process) moves everything built at start-up out of
    the garbage collector's sight: full collections walking boto3's service models paused the
    loop ~10 times for 100-150 ms per 4,000 mails in the announcements benchmark."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    pool = await create_pool(
        settings.database_url, min_size=2, max_size=settings.worker_concurrency + 4
    )
    redis_client = redis_asyncio.Redis.from_url(settings.redis_url, socket_connect_timeout=2)
    services = Services(settings=settings, pool=pool, redis=redis_client, storage=Storage(settings))
    if freeze_heap:
        gc.collect()
        gc.freeze()
    relay = asyncio.create_task(run_relay(pool, settings, stop), name="relay")
    periodic = asyncio.create_task(run_periodic(services, stop), name="periodic")
    try:
        while not stop.is_set():
            worker = build_worker(settings, {"services": services})
            main = asyncio.create_task(worker.async_run(), name="arq")
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({main, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if stopper in done:
                worker.allow_pick_jobs = False
                running = [t for t in worker.tasks.values() if not t.done()]
                if running:
                    await asyncio.wait(running, timeout=settings.job_timeout_seconds)
                main.cancel()
            else:
                stopper.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await main
            with contextlib.suppress(Exception):
                await worker.close()
            if not stop.is_set():
                logger.warning("job queue unavailable, restarting the worker in 2 s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 2)
    finally:
        stop.set()
        await asyncio.gather(relay, periodic, return_exceptions=True)
        await redis_client.aclose()
        await pool.close()
