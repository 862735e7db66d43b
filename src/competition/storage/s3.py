"""The object store: one boto3 client per process, every call off the event loop.

Checksums are calculated only "when_required" and addressing is path-style, so any S3-compatible
store (SeaweedFS, MinIO, Ceph, AWS) works. The API never carries attachment bytes: it hands out
presigned URLs and checks objects with HEAD.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from competition.config import Settings
from competition.storage.store import CopyOutcome, ObjectInfo, PresignedRequest, StorageUnavailable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class Storage:
    """The S3 implementation of `ObjectStore`."""

    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 2, "mode": "standard"},
            connect_timeout=3,
            read_timeout=30,
        )

        def client(endpoint: str) -> S3Client:
            return boto3.client(
                "s3",
                endpoint_url=endpoint,
                aws_access_key_id=settings.s3_access_key,
                aws_secret_access_key=settings.s3_secret_key,
                region_name=settings.s3_region,
                config=config,
            )

        self.client = client(settings.s3_endpoint)
        # Presigning is local computation; a second client only changes the host signed for.
        self.signer = (
            client(settings.s3_public_endpoint) if settings.s3_public_endpoint else self.client
        )

    async def _call(self, fn: Any, /, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, **kwargs)
        except ClientError:
            raise
        except BotoCoreError as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def ensure_bucket(self) -> None:
        try:
            await self._call(self.client.head_bucket, Bucket=self.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise
            try:
                await self._call(self.client.create_bucket, Bucket=self.bucket)
            except ClientError as create_exc:
                code = create_exc.response.get("Error", {}).get("Code")
                if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

    async def ping(self) -> None:
        """Raise unless the bucket answers."""
        try:
            await self._call(self.client.head_bucket, Bucket=self.bucket)
        except ClientError as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def presign_put(
        self, *, key: str, content_type: str, size: int, expires_in: int = 900
    ) -> PresignedRequest:
        """A PUT URL with size and content type signed in: the store refuses anything else."""
        url: str = await asyncio.to_thread(
            self.signer.generate_presigned_url,
            "put_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ContentType": content_type,
                "ContentLength": size,
            },
            ExpiresIn=expires_in,
            HttpMethod="PUT",
        )
        return PresignedRequest(
            method="PUT",
            url=url,
            headers={"Content-Type": content_type, "Content-Length": str(size)},
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
        )

    async def presign_get(
        self, *, key: str, filename: str, expires_in: int = 300
    ) -> PresignedRequest:
        from urllib.parse import quote

        disposition = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
        url: str = await asyncio.to_thread(
            self.signer.generate_presigned_url,
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": disposition,
            },
            ExpiresIn=expires_in,
            HttpMethod="GET",
        )
        return PresignedRequest(
            method="GET",
            url=url,
            headers={},
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
        )

    async def head(self, *, key: str) -> ObjectInfo | None:
        try:
            response = await self._call(self.client.head_object, Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StorageUnavailable(str(exc)) from exc
        return ObjectInfo(
            size=int(response["ContentLength"]),
            content_type=str(response.get("ContentType", "")),
            etag=str(response.get("ETag", "")).strip('"'),
        )

    async def copy_to(self, *, key: str, sink: IO[bytes], chunk: int = 1024 * 1024) -> str:
        """Stream the object into `sink` (a local file, never the API's memory) and return its
        SHA-256. Runs in a worker thread: boto3 streams are blocking."""

        def pull() -> str:
            digest = hashlib.sha256()
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            try:
                for block in body.iter_chunks(chunk):
                    digest.update(block)
                    sink.write(block)
            finally:
                body.close()
            return digest.hexdigest()

        try:
            return await asyncio.to_thread(pull)
        except BotoCoreError as exc:
            raise StorageUnavailable(str(exc)) from exc

    async def copy(
        self, *, source: str, target: str, content_type: str, if_etag: str | None = None
    ) -> CopyOutcome:
        """Copy an object inside the store (no bytes pass through us). The copy gets
        `content_type` and nothing else of the source's headers: a presigned PUT signs only type
        and length, so any other header (Content-Encoding, Content-Language, Cache-Control …)
        was chosen by the uploader. With `if_etag` the store copies only while the source still
        has that ETag, atomically with the copy."""
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": target,
            "CopySource": {"Bucket": self.bucket, "Key": source},
            "MetadataDirective": "REPLACE",
            "ContentType": content_type,
        }
        if if_etag:
            params["CopySourceIfMatch"] = f'"{if_etag}"'
        try:
            await self._call(self.client.copy_object, **params)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("404", "NoSuchKey", "NotFound"):
                return "missing"
            if code in ("412", "PreconditionFailed"):
                return "changed"
            raise StorageUnavailable(str(exc)) from exc
        return "copied"

    async def delete(self, *, key: str) -> None:
        await self._call(self.client.delete_object, Bucket=self.bucket, Key=key)
