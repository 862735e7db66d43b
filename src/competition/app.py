"""The Litestar application: routes under /api/v1, operations endpoints, error rendering."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import redis.asyncio as redis_asyncio
import redis.exceptions
from litestar import Litestar, Request, Response, Router
from litestar.config.compression import CompressionConfig
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, ValidationException
from litestar.middleware.compression import CompressionMiddleware
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from competition import auth, errors, guard, web
from competition.accounts.routes import AuthController, MeController
from competition.attachments.routes import AttachmentController, create_attachment
from competition.companies.routes import (
    CompanyController,
    accept_company_invitation,
    decline_company_invitation,
    my_companies,
    my_company_invitations,
)
from competition.competitions.routes import CompetitionController
from competition.config import Settings, load_settings
from competition.db import create_pool
from competition.entries.routes import (
    EntryController,
    competition_entries,
    create_entry,
    my_entries,
)
from competition.jury.conflicts.routes import ConflictController, recuse
from competition.jury.invitations.routes import (
    InvitationController,
    accept_invitation,
    confidentiality_agreement,
)
from competition.jury.runs.routes import RunController
from competition.jury.scoring.routes import (
    AssignmentController,
    ScoringController,
    my_assignments,
    progress,
)
from competition.logs import configure as configure_logging
from competition.ops import routes as ops
from competition.privacy.routes import delete_my_account, export_my_data, privacy_notice
from competition.results.routes import ResultsController, public_winners
from competition.server import buffered_body
from competition.services import Services
from competition.storage.s3 import Storage
from competition.storage.store import StorageUnavailable

logger = logging.getLogger("competition.api")

API_PREFIX = "/api/v1"

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
# The OpenAPI UI loads its script from a CDN; everything else is served by us. Pages talk to
# the app and, for uploads, to the object store's public endpoint, and to nothing else.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self' {store}; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)
CSP_SCHEMA = (
    b"default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline' https:; "
    b"script-src 'self' 'unsafe-inline' https:; font-src 'self' data: https:; "
    b"connect-src 'self'; frame-ancestors 'none'"
)


class DeferredCompression(CompressionMiddleware):
    """Gzip that is set up only for responses it will compress.

    Litestar builds a gzip compressor for every response whose client accepts gzip, also for the
    small JSON answers it then sends uncompressed (below `minimum_size`): about a tenth of the
    API's CPU per request in the jury-burst benchmark (docs/benchmarks.md). Here a complete body
    below the minimum passes straight through; anything else goes to Litestar's wrapper as before.
    """

    def create_compression_send_wrapper(
        self, send: Send, compression_encoding: Any, scope: Scope
    ) -> Send:
        start: Message | None = None
        inner: Send | None = None

        async def wrapper(message: Message) -> None:
            nonlocal start, inner
            if inner is not None:
                await inner(message)
                return
            if message["type"] == "http.response.start":
                start = message
                return
            if (
                start is not None
                and message["type"] == "http.response.body"
                and not message.get("more_body", False)
                and len(message.get("body", b"")) < self.config.minimum_size
            ):
                inner = send
                await send(start)
                await send(message)
                return
            inner = super(DeferredCompression, self).create_compression_send_wrapper(
                send, compression_encoding, scope
            )
            if start is not None:
                await inner(start)
            await inner(message)

        return wrapper


def store_origin(settings: Settings) -> str:
    """Where browsers PUT uploads (presigned URLs are signed for this host)."""
    parts = urlsplit(settings.s3_public_endpoint or settings.s3_endpoint)
    return f"{parts.scheme}://{parts.netloc}"


async def before_request(request: Request[Any, Any, Any]) -> None:
    """Every route's one before-request hook (Litestar keeps only the innermost): a browser's
    write from another site is refused first, then anything no handler may see (guard)."""
    await auth.refuse_cross_site(request)
    await guard.check_request(request)


def security_headers(*, hsts: bool, store: str) -> Any:
    """A before_send hook: it sees every response, including the router's own 404 and 405."""
    csp = CSP.format(store=store).encode()

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        path: str = scope.get("path", "")
        headers = list(message.get("headers", []))
        headers.extend(SECURITY_HEADERS)
        headers.append(
            (b"content-security-policy", CSP_SCHEMA if path.startswith("/schema") else csp)
        )
        if hsts:
            headers.append((b"strict-transport-security", b"max-age=31536000"))
        message["headers"] = headers

    return add_headers


def access_log(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, capture)
        finally:
            path: str = scope.get("path", "")
            if not path.startswith("/health") and path != "/metrics":
                logger.info(
                    "request",
                    extra={
                        "method": scope.get("method"),
                        "path": path,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )

    return middleware


def _unavailable(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.warning("dependency unavailable", extra={"error": f"{type(exc).__name__}: {exc}"})
    return errors.app_error_handler(
        _,
        errors.ServiceUnavailable(
            "dependency_unavailable",
            headers={"Retry-After": "5"},
        ),
    )


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """The process-wide handles: database pool, Redis client, object store (bucket ensured)."""
    pool = await create_pool(
        settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
    )
    redis_client = redis_asyncio.Redis.from_url(
        settings.redis_url, socket_connect_timeout=2, socket_timeout=5
    )
    storage = Storage(settings)
    try:
        await storage.ensure_bucket()
    except Exception as exc:
        logger.warning("object store not ready at start", extra={"error": str(exc)})
    try:
        yield Services(settings=settings, pool=pool, redis=redis_client, storage=storage)
    finally:
        await redis_client.aclose()
        await pool.close()


_ERRORS = {
    400: "Kein gültiges JSON (malformed_json) oder fehlerhafte Anfrage",
    401: "Nicht angemeldet oder Token ungültig",
    403: "Keine Berechtigung (auch: CSRF-Token fehlt)",
    404: "Nicht gefunden – oder für den Aufrufer nicht sichtbar",
    409: "Widerspricht dem aktuellen Zustand (Phase, Frist, Status)",
    412: "If-Match passt nicht zur aktuellen Version",
    413: "Request-Body zu groß",
    422: "Eingaben ungültig; `fields` nennt die Felder",
    429: "Zu viele Versuche; Retry-After beachten",
    503: "Ein Dienst ist vorübergehend nicht erreichbar; Retry-After beachten",
}


def _document_errors(app: Litestar) -> None:
    """Every operation documents the one error shape it can answer with, replacing Litestar's
    default 400 schema (which is not what this API sends)."""
    specs = {
        code: ResponseSpec(data_container=errors.ErrorBody, description=text)
        for code, text in _ERRORS.items()
    }
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if handler.include_in_schema is not False:
                handler.responses = {**specs, **(handler.responses or {})}


def create_app(settings: Settings) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if getattr(app.state, "services", None) is not None:  # provided by the caller (tests)
            yield
            return
        async with open_services(settings) as services:
            app.state.services = services
            # Everything built at start-up (app, schema, boto3's service models) lives as long as
            # the process: out of the collector's sight, a full collection no longer walks it.
            # Such a collection stalled every request for ~150 ms, the p99 of the jury-burst
            # benchmark (docs/benchmarks.md).
            gc.collect()
            gc.freeze()
            yield

    api = Router(
        path=API_PREFIX,
        route_handlers=[
            AuthController,
            MeController,
            CompetitionController,
            CompanyController,
            my_companies,
            my_company_invitations,
            accept_company_invitation,
            decline_company_invitation,
            EntryController,
            create_entry,
            my_entries,
            competition_entries,
            AttachmentController,
            create_attachment,
            InvitationController,
            accept_invitation,
            confidentiality_agreement,
            ConflictController,
            recuse,
            RunController,
            ScoringController,
            progress,
            AssignmentController,
            my_assignments,
            ResultsController,
            public_winners,
            privacy_notice,
            export_my_data,
            delete_my_account,
        ],
    )
    prometheus = PrometheusConfig(app_name="competition", prefix="competition", group_path=True)

    class Metrics(PrometheusController):
        path = "/metrics"
        include_in_schema = False

    app = Litestar(
        route_handlers=[api, ops.live, ops.ready, Metrics, web.router()],
        template_config=web.template_config(),
        lifespan=[lifespan],
        dependencies={
            "services": Provide(auth.provide_services, sync_to_thread=False),
            "conn": Provide(auth.provide_conn),
            "principal": Provide(auth.provide_principal),
            "user": Provide(auth.provide_user),
            "organiser": Provide(auth.provide_organiser),
        },
        exception_handlers={
            errors.AppError: errors.app_error_handler,
            ValidationException: errors.validation_handler,
            # Unknown paths: a page for browsers, JSON for API clients (competition.web).
            HTTPException: web.errors.page_or_json,
            StorageUnavailable: _unavailable,
            redis.exceptions.ConnectionError: _unavailable,
            redis.exceptions.TimeoutError: _unavailable,
            asyncpg.exceptions.CannotConnectNowError: _unavailable,
            asyncpg.exceptions.ConnectionDoesNotExistError: _unavailable,
            OSError: _unavailable,
            Exception: errors.internal_error_handler,
        },
        middleware=[
            prometheus.middleware,
            access_log,
            # Last in the list, so innermost: the body is in memory before any dependency (and
            # with it a database connection) is resolved.
            buffered_body(max_bytes=settings.max_body_bytes, timeout=settings.body_timeout_seconds),
        ],
        before_send=[security_headers(hsts=settings.cookie_secure, store=store_origin(settings))],
        before_request=before_request,
        logging_config=None,
        request_max_body_size=settings.max_body_bytes,
        compression_config=CompressionConfig(
            backend="gzip", minimum_size=1000, middleware_class=DeferredCompression
        ),
        openapi_config=OpenAPIConfig(
            title="Industrie. Neu. Denken. – API",
            version="1.0.0",
            description=(
                "API des Wettbewerbs „Industrie. Neu. Denken.“ des Masterplans Südwestsachsen. "
                "Fehler: {error, detail, fields?}. Cookie-Sitzungen senden bei schreibenden "
                "Anfragen den Header X-CSRF-Token; Bearer-Tokens brauchen ihn nicht."
            ),
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
        ),
        debug=False,
    )
    _document_errors(app)
    return app


def app_from_env() -> Litestar:
    """Factory for uvicorn: settings come from the environment."""
    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
