"""Passwords (argon2id), signed e-mail tokens and API tokens.

Tokens in mails are signed and time-limited (itsdangerous) rather than stored: the database holds
no secret a leak could replay. A password-reset token also carries a fingerprint of the moment the
password last changed, so it is spent as soon as it has been used once.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from competition.config import Settings, derive_key

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" profile
# Compared against when the account does not exist, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

API_TOKEN_PREFIX = "ind_"  # noqa: S105 - a prefix, not a secret

VERIFY_MAX_AGE = 72 * 3600
RESET_MAX_AGE = 2 * 3600


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def _serializer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(derive_key(settings, "mail-token").hex(), salt=purpose)


def sign(settings: Settings, purpose: str, payload: dict[str, Any]) -> str:
    token: str = _serializer(settings, purpose).dumps(payload)
    return token


def unsign(settings: Settings, purpose: str, token: str, *, max_age: int) -> dict[str, Any] | None:
    try:
        payload = _serializer(settings, purpose).loads(token, max_age=max_age)
    except BadSignature:
        return None
    return payload if isinstance(payload, dict) else None


def fingerprint(moment: datetime) -> str:
    return hashlib.sha256(moment.isoformat().encode()).hexdigest()[:16]


def new_api_token() -> tuple[str, bytes]:
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
