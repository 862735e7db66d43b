"""Server-side sessions in Redis. The cookie holds a random id; Redis holds its SHA-256, so a
dump of Redis cannot be replayed as cookies. Each account's sessions are indexed so that a
password reset can end all of them.

A session also remembers which password opened it (a fingerprint of the moment the password was
last set): once the password changes, every older session is dead, even one created by a login
that raced the change or one whose deletion from Redis failed."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

import msgspec
from litestar.datastructures import Cookie
from redis.asyncio import Redis

from competition.accounts import security

SESSION_COOKIE = "ind_session"
CSRF_COOKIE = "ind_csrf"
CSRF_HEADER = "X-CSRF-Token"


def expired_cookie(name: str) -> Cookie:
    """A cookie that removes `name` from the browser. No Secure flag needed: name and path
    decide which cookie is replaced."""
    return Cookie(key=name, value="", path="/", max_age=0, samesite="lax")


def expired_cookies() -> list[Cookie]:
    """Both cookies of a session, removed: for logout and account deletion."""
    return [expired_cookie(name) for name in (SESSION_COOKIE, CSRF_COOKIE)]


class Session(msgspec.Struct, frozen=True):
    account_id: uuid.UUID
    csrf_token: str
    password: str = ""  # fingerprint of the account's password_changed_at at login


def opened_by_current_password(session: Session, password_changed_at: datetime) -> bool:
    return secrets.compare_digest(session.password, security.fingerprint(password_changed_at))


def _key(session_id: str) -> str:
    return "session:" + hashlib.sha256(session_id.encode()).hexdigest()


def _index(account_id: uuid.UUID) -> str:
    return f"account-sessions:{account_id}"


async def create(
    redis: Redis, *, account_id: uuid.UUID, password_changed_at: datetime, ttl: int
) -> tuple[str, Session]:
    session_id = secrets.token_urlsafe(32)
    session = Session(
        account_id=account_id,
        csrf_token=secrets.token_urlsafe(32),
        password=security.fingerprint(password_changed_at),
    )
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(_key(session_id), msgspec.json.encode(session), ex=ttl)
        pipe.sadd(_index(account_id), _key(session_id))
        pipe.expire(_index(account_id), ttl)
        await pipe.execute()
    return session_id, session


async def load(redis: Redis, session_id: str) -> Session | None:
    raw = await redis.get(_key(session_id))
    if raw is None:
        return None
    try:
        return msgspec.json.decode(raw, type=Session)
    except msgspec.DecodeError:
        return None


async def delete(redis: Redis, session_id: str) -> None:
    await redis.delete(_key(session_id))


async def delete_all(redis: Redis, *, account_id: uuid.UUID) -> None:
    keys: set[bytes] = await redis.smembers(_index(account_id))  # type: ignore[misc]
    if keys:
        await redis.delete(*keys)
    await redis.delete(_index(account_id))
