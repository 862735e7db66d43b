"""What the platform needs of an object store, as a typed interface.

The domains and the `Services` container name `ObjectStore`, not the S3 client: they need eight
operations, not boto3, and any store offering them (storage/s3.py for S3-compatible stores) fits.
"""

from __future__ import annotations

from datetime import datetime
from typing import IO, Literal, Protocol

import msgspec


class ObjectInfo(msgspec.Struct, frozen=True):
    size: int
    content_type: str
    etag: str


class PresignedRequest(msgspec.Struct, frozen=True):
    method: str
    url: str
    headers: dict[str, str]
    expires_at: datetime


# What a server-side copy found: done, the source gone, or the source no longer the one expected.
CopyOutcome = Literal["copied", "missing", "changed"]


class StorageUnavailable(RuntimeError):
    """The object store did not answer; the caller should answer 503 and let the client retry."""


class ObjectStore(Protocol):
    async def ensure_bucket(self) -> None:
        """Create the bucket if it is missing."""

    async def ping(self) -> None:
        """Raise `StorageUnavailable` unless the store answers."""

    async def presign_put(
        self, *, key: str, content_type: str, size: int, expires_in: int = 900
    ) -> PresignedRequest:
        """A URL the browser uploads to, signed for exactly this type and length."""

    async def presign_get(
        self, *, key: str, filename: str, expires_in: int = 300
    ) -> PresignedRequest:
        """A short-lived download URL that names the file as `filename`."""

    async def head(self, *, key: str) -> ObjectInfo | None:
        """The object's size, type and ETag, or None if there is none."""

    async def copy_to(self, *, key: str, sink: IO[bytes], chunk: int = 1024 * 1024) -> str:
        """Stream the object into `sink`; returns the SHA-256 of what was written."""

    async def copy(
        self, *, source: str, target: str, content_type: str, if_etag: str | None = None
    ) -> CopyOutcome:
        """Server-side copy, only while the source still has `if_etag` when given."""

    async def delete(self, *, key: str) -> None:
        """Remove the object (no error if it is gone)."""
