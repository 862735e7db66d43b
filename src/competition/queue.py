"""Every call into arq lives here, so the queue could be swapped without touching domain code.

Jobs and results are serialised with msgspec JSON, never pickle: a compromised Redis must not be
able to run code in the worker.
"""

from __future__ import annotations

from typing import Any

import msgspec
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings

QUEUE_NAME = "competition:queue"


def _enc_hook(obj: Any) -> Any:
    # arq stores exceptions of failed jobs as their result; keep their text, not the object.
    if isinstance(obj, BaseException):
        return f"{type(obj).__name__}: {obj}"
    raise NotImplementedError(f"cannot serialise {type(obj).__name__}")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
_decoder = msgspec.json.Decoder()


def serialize(obj: Any) -> bytes:
    return _encoder.encode(obj)


def deserialize(data: bytes) -> Any:
    return _decoder.decode(data)


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 2
    settings.conn_retries = 0
    return settings


async def connect(url: str) -> ArqRedis:
    pool: ArqRedis = await create_pool(
        redis_settings(url),
        job_serializer=serialize,
        job_deserializer=deserialize,
        default_queue_name=QUEUE_NAME,
    )
    return pool


async def enqueue(queue: ArqRedis, function: str, *args: Any, job_id: str) -> bool:
    """Enqueue once: arq refuses a job id it already holds, which makes re-dispatch harmless.
    Returns False when the job id was already known."""
    job = await queue.enqueue_job(function, *args, _job_id=job_id)
    return job is not None
