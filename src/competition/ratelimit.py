"""Throttles in Redis, shared by every API replica, and who the client is.

Two kinds (OWASP authentication and denial-of-service cheat sheets):

- `hit`: a fixed window of attempts, for actions that cost us something whether they succeed
  or not (registrations, reset mails). Limits are sized so that an information evening where 20
  companies register from one network never reaches them.
- `LoginThrottle`: failed logins only; a correct password is never counted. After a few
  failures a key must wait a short delay that doubles with each further failure (up to a
  minute) instead of being locked out, and every key forgets its failures after the window:
  - per account and client: the guesser at one address slows down quickly; colleagues behind
    the same address (an office, a jury room) and the account's owner elsewhere are untouched;
  - per account from anywhere: a distributed guesser slows down too, after more failures;
  - per client: a hard stop after many failures across accounts (credential stuffing), a number
    no office or jury room reaches with its typos.

The client address comes from the proxy's `X-Forwarded-For` only when the connecting peer is a
configured trusted proxy (`COMPETITION_TRUSTED_PROXIES`); otherwise it is the peer itself, so a
client cannot choose its own throttle key by sending the header.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis

from competition.config import Settings
from competition.errors import TooManyRequests

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _digest(identifier: str) -> str:
    return hashlib.sha256(identifier.lower().encode()).hexdigest()[:32]


def _too_many(retry_after: float) -> TooManyRequests:
    return TooManyRequests(
        headers={"Retry-After": str(max(math.ceil(retry_after), 1))},
    )


async def hit(redis: Redis, *, action: str, identifier: str, limit: int, window: int) -> None:
    """Count one attempt; raise 429 with Retry-After once `limit` attempts are used up."""
    now = int(time.time())
    bucket = now // window
    key = f"rl:{action}:{_digest(identifier)}:{bucket}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window + 1)
        count, _ = await pipe.execute()
    if int(count) > limit:
        raise _too_many((bucket + 1) * window - now)


def trusted_networks(setting: str) -> tuple[Network, ...]:
    """`COMPETITION_TRUSTED_PROXIES`: addresses or networks, separated by commas."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in setting.split(",")
        if part.strip()
    )


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The client's address: the peer, or, when the peer is a trusted proxy, the right-most
    address in X-Forwarded-For that is not itself a trusted proxy (the left part of the header
    is whatever the client wrote)."""
    if not peer:
        return "unknown"
    hop = _address(peer)
    if hop is None or not any(hop in net for net in trusted) or not forwarded_for:
        return peer
    for item in reversed(forwarded_for.split(",")):
        candidate = _address(item)
        if candidate is None:
            return peer  # a malformed chain: fall back to what we saw ourselves
        if not any(candidate in net for net in trusted):
            return str(candidate)
    return peer


def request_client(request: Any, settings: Settings) -> str:
    """`client_address` for a Litestar request."""
    return client_address(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        trusted_networks(settings.trusted_proxies),
    )


class _Key:
    def __init__(self, name: str, free: int, cap: float) -> None:
        self.name, self.free, self.cap = name, free, cap

    def wait(self, failures: int, last: float, now: float) -> float:
        if failures < self.free:
            return 0.0
        delay = min(float(2 ** (failures - self.free)), self.cap)
        return max(last + delay - now, 0.0)


class LoginThrottle:
    """Failed-login bookkeeping for one attempt: `check` before the password is verified,
    then `failed` or `succeeded`."""

    def __init__(self, redis: Redis, settings: Settings, *, email: str, client: str) -> None:
        self.redis, self.settings = redis, settings
        account, client_key = _digest(email), _digest(client)
        cap = float(settings.login_max_delay_seconds)
        self.keys = [
            _Key(f"lf:pair:{account}:{client_key}", settings.login_free_failures, cap),
            _Key(f"lf:account:{account}", settings.login_account_free_failures, cap),
        ]
        self.client_key = f"lf:client:{client_key}"

    async def check(self) -> None:
        """429 with Retry-After while any key must still wait."""
        now = time.time()
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in self.keys:
                pipe.hmget(key.name, ["n", "t"])
            pipe.get(self.client_key)
            *states, client_failures = await pipe.execute()
        waits = [
            key.wait(int(n or 0), float(t or 0), now)
            for key, (n, t) in zip(self.keys, states, strict=True)
        ]
        if int(client_failures or 0) >= self.settings.login_client_failure_limit:
            ttl = await self.redis.ttl(self.client_key)
            waits.append(float(max(ttl, 1)))
        if max(waits) > 0:
            raise _too_many(max(waits))

    async def failed(self) -> None:
        window = self.settings.rate_limit_window_seconds
        now = time.time()
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in self.keys:
                pipe.hincrby(key.name, "n", 1)
                pipe.hset(key.name, "t", str(now))
                pipe.expire(key.name, window)
            pipe.incr(self.client_key)
            pipe.expire(self.client_key, window, nx=True)
            await pipe.execute()

    async def succeeded(self) -> None:
        """The owner is in: their failures are forgiven (the client's count stays)."""
        await self.redis.delete(*(key.name for key in self.keys))
