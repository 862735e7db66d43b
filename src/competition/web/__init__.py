"""The server-rendered web front end: pages on the same domain services as the API.

`router()` holds every page, the static files and their HTML error pages; `template_config()`
the Jinja2 environment. Both are registered by `competition.app.create_app`.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg
import redis.exceptions
from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.static_files import create_static_files_router

from competition.errors import AppError
from competition.storage.store import StorageUnavailable
from competition.web import errors, organisers
from competition.web.accounts import AccountPages
from competition.web.entrants import EntrantPages
from competition.web.jury import JuryPages
from competition.web.public import PublicPages
from competition.web.rendering import LoginRequired, provide_ui, template_config

STATIC_DIR = Path(__file__).resolve().parent / "static"

__all__ = ["router", "template_config"]


def router() -> Router:
    static = create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=3600),
    )
    return Router(
        path="/",
        route_handlers=[
            PublicPages,
            AccountPages,
            EntrantPages,
            JuryPages,
            *organisers.PAGES,
            static,
        ],
        dependencies={"ui": Provide(provide_ui)},
        exception_handlers={
            LoginRequired: errors.login_required,
            AppError: errors.app_error,
            # Parameters of pages (`?seite=`) that fail their type: a page, not the API's JSON.
            ValidationException: errors.invalid_parameter,
            HTTPException: errors.http_error,
            StorageUnavailable: errors.unavailable,
            redis.exceptions.ConnectionError: errors.unavailable,
            redis.exceptions.TimeoutError: errors.unavailable,
            asyncpg.exceptions.CannotConnectNowError: errors.unavailable,
            asyncpg.exceptions.ConnectionDoesNotExistError: errors.unavailable,
            OSError: errors.unavailable,
            Exception: errors.internal,
        },
        # Pages carry personal data: no shared cache may keep them.
        cache_control=CacheControlHeader(no_store=True),
        include_in_schema=False,
    )
