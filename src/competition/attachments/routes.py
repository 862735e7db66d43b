"""Attachment endpoints. Uploads and downloads go straight to the object store."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post
from litestar.status_codes import HTTP_204_NO_CONTENT

from competition.attachments import queries, schemas, service
from competition.auth import Conn, ServicesDep, User


class AttachmentController(Controller):
    path = "/attachments"
    tags = ["Anhänge"]

    @get("/{attachment_id:uuid}")
    async def read(self, attachment_id: uuid.UUID, user: User, conn: Conn) -> schemas.Attachment:
        """Metadata and status of an attachment."""
        attachment, _, role = await service.access(conn, user, attachment_id)
        return service.to_response(
            attachment, filename=await service.shown_name(conn, attachment, role)
        )

    @post("/{attachment_id:uuid}/complete", status_code=200)
    async def complete(
        self, attachment_id: uuid.UUID, user: User, conn: Conn, services: ServicesDep
    ) -> schemas.Completed:
        """Confirm the upload: the stored object is checked (HEAD), verification follows."""
        status = await service.complete(conn, services.storage, user, attachment_id)
        return schemas.Completed(id=attachment_id, status=status)

    @get("/{attachment_id:uuid}/download")
    async def download(
        self, attachment_id: uuid.UUID, user: User, conn: Conn, services: ServicesDep
    ) -> schemas.Download:
        """A short-lived download link straight to the object store."""
        return await service.download(conn, services.storage, user, attachment_id)

    @delete("/{attachment_id:uuid}", status_code=HTTP_204_NO_CONTENT)
    async def remove(self, attachment_id: uuid.UUID, user: User, conn: Conn) -> None:
        """Delete an attachment while the entry is editable."""
        await service.delete(conn, user, attachment_id)


@post("/entries/{entry_id:uuid}/attachments", status_code=201, tags=["Anhänge"])
async def create_attachment(
    entry_id: uuid.UUID,
    data: schemas.AttachmentCreate,
    user: User,
    conn: Conn,
    services: ServicesDep,
) -> schemas.AttachmentCreated:
    """Announce a file; answers with a presigned PUT (size and type signed in)."""
    return await service.create(conn, services.storage, user, entry_id, data)


__all__ = ["AttachmentController", "create_attachment", "queries"]
