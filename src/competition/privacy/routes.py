"""Privacy endpoints: the notice, the caller's data export, deleting the caller's account."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Response, get, post
from litestar.status_codes import HTTP_204_NO_CONTENT

from competition.accounts import privacy_notice as notice
from competition.accounts import sessions
from competition.auth import Conn, ServicesDep, User
from competition.privacy import service
from competition.structs import Request
from competition.structs import Response as Body
from competition.text import Line


class PrivacyNotice(Body):
    version: str
    text: dict[str, str]


class DeleteAccount(Request):
    password: Annotated[Line, msgspec.Meta(min_length=1, max_length=256)]


@get("/privacy", tags=["Datenschutz"])
async def privacy_notice() -> PrivacyNotice:
    """The privacy notice (German and English) and its version."""
    return PrivacyNotice(version=notice.VERSION, text=dict(notice.TEXT))


@get("/me/export", tags=["Datenschutz"])
async def export_my_data(user: User, conn: Conn) -> Response[dict[str, Any]]:
    """Everything stored about the caller, as JSON (Art. 15 DSGVO)."""
    data = await service.export(conn, user)
    return Response(
        data, headers={"Content-Disposition": 'attachment; filename="meine-daten.json"'}
    )


@post(
    "/me/delete",
    status_code=HTTP_204_NO_CONTENT,
    tags=["Datenschutz"],
    response_cookies=sessions.expired_cookies(),
)
async def delete_my_account(
    data: DeleteAccount, user: User, conn: Conn, services: ServicesDep
) -> None:
    """Delete the caller's account: personal data is anonymised, competition records stay."""
    await service.delete_account(conn, services.redis, user, password=data.password)
