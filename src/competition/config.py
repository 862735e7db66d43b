"""Settings, read once from the environment and passed explicitly to the app and the worker.

Defaults point at the local services that `infra/local.py` starts (the embedded default), so a
developer needs no configuration at all; production sets every `COMPETITION_*` variable.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping

import msgspec

logger = logging.getLogger(__name__)

_DEV_SECRET = "insecure-development-secret-key"  # noqa: S105 - refused outside development


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = "postgresql://postgres@127.0.0.1:5432/competition"
    redis_url: str = "redis://127.0.0.1:6379/0"
    s3_endpoint: str = "http://127.0.0.1:8333"
    s3_access_key: str = "competition-dev"
    s3_secret_key: str = "competition-dev-secret"  # noqa: S105 - loopback-only local store
    s3_bucket: str = "competition"
    # Where browsers reach the store, when that differs from where the app does (compose, proxies);
    # presigned URLs are signed for this host.
    s3_public_endpoint: str = ""
    s3_region: str = "us-east-1"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_timeout: float = 30.0
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_security: str = "none"  # "none", "starttls" or "tls"
    mail_from: str = "Industrie. Neu. Denken. <wettbewerb@industrie-neu-denken.example>"
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = _DEV_SECRET
    environment: str = "development"
    db_pool_min: int = 2
    db_pool_max: int = 10
    # Throttles (competition/ratelimit.py), per window. Logins count failures only: after
    # `login_free_failures` for one account from one client (or `login_account_free_failures`
    # from anywhere) each attempt waits a delay doubling up to `login_max_delay_seconds`; one
    # client stops after `login_client_failure_limit` failures across accounts.
    login_free_failures: int = 5
    login_account_free_failures: int = 20
    login_max_delay_seconds: int = 60
    login_client_failure_limit: int = 100
    # Registrations and reset mails: per client (an information evening behind one address
    # stays far below) and per e-mail address (no one's mailbox is flooded).
    register_rate_limit: int = 60
    register_address_limit: int = 3
    reset_rate_limit: int = 60
    reset_address_limit: int = 3
    # Company invitations: per inviting account, and per invited address (each one is a mail).
    invite_rate_limit: int = 30
    invite_address_limit: int = 3
    rate_limit_window_seconds: int = 900
    # Reverse proxies whose X-Forwarded-For is believed: addresses or networks, comma-separated.
    # Empty: none; the connecting address is the client.
    trusted_proxies: str = ""
    session_ttl_seconds: int = 14 * 24 * 3600
    max_body_bytes: int = 1_000_000
    # A client has this long to send its request head, and then its body, before the connection
    # is closed (408 for a late body); a request waits this long for a database connection
    # before it is answered 503 with Retry-After.
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    db_acquire_timeout_seconds: float = 5.0
    # Worker: how long one job may run; after a crash arq re-runs an in-flight job only once this
    # (+10 s) has passed, so it bounds how late interrupted work resumes.
    # A mail claimed longer ago than this is presumed lost with its worker (no job outlives it).
    job_timeout_seconds: int = 120
    job_max_attempts: int = 8
    mail_max_attempts: int = 8
    # Jobs one worker runs at once; it bounds the mails that may be in flight at a crash.
    worker_concurrency: int = 10
    relay_poll_seconds: float = 1.0
    # Clock-driven duties (deadlines, reminders, clean-up, audit sealing) run this often.
    tick_seconds: float = 15.0
    relay_batch: int = 200
    # Dispatched work not processed after this long is re-enqueued (Redis may have lost it).
    redispatch_after_seconds: int = 600
    # Retention (see the privacy notice): mail contents, never-confirmed accounts.
    retention_mail_days: int = 180
    retention_unverified_days: int = 30
    log_level: str = "INFO"

    @property
    def cookie_secure(self) -> bool:
        return self.public_url.startswith("https://")


_INT_FIELDS = {
    name
    for name, typ in zip(Settings.__struct_fields__, Settings.__annotations__.values(), strict=True)
    if typ == "int"
}
_FLOAT_FIELDS = {
    name
    for name, typ in zip(Settings.__struct_fields__, Settings.__annotations__.values(), strict=True)
    if typ == "float"
}


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build Settings from `COMPETITION_<FIELD>` variables; explicit overrides win (tests)."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for name in Settings.__struct_fields__:
        raw = env.get(f"COMPETITION_{name.upper()}")
        if raw is None or raw == "":
            continue
        if name in _INT_FIELDS:
            values[name] = int(raw)
        elif name in _FLOAT_FIELDS:
            values[name] = float(raw)
        else:
            values[name] = raw
    values.update(overrides)
    settings = msgspec.convert(values, Settings)
    if settings.secret_key == _DEV_SECRET:
        if settings.environment != "development":
            raise RuntimeError("COMPETITION_SECRET_KEY must be set outside development")
        logger.warning("using the built-in development secret key; set COMPETITION_SECRET_KEY")
    return settings


def derive_key(settings: Settings, purpose: str) -> bytes:
    """A separate key per purpose, so one leaked signature never serves another purpose."""
    return hashlib.sha256(f"{purpose}\x00{settings.secret_key}".encode()).digest()


def to_environ(settings: Settings) -> dict[str, str]:
    """The environment that reproduces `settings` in another process."""
    return {
        f"COMPETITION_{name.upper()}": str(getattr(settings, name))
        for name in Settings.__struct_fields__
    }
