"""`infra/local.py`'s own S3 calls (bucket creation, readiness) against a private SeaweedFS.

Only the session's `s3_server` is used: a SeaweedFS on ports chosen free at run time, with a
random secret, so this module shares no name with other runs on the machine.
"""

from __future__ import annotations

import secrets

import boto3
import pytest
from botocore.config import Config
from mypy_boto3_s3 import S3Client

from infra import local
from tests.services import S3Server


@pytest.fixture(scope="module")
def s3(s3_server: S3Server) -> S3Client:
    return boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint_url,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key=s3_server.secret_key,
        region_name=s3_server.region,
        config=Config(s3={"addressing_style": "path"}),
    )


def test_ensure_bucket_creates_once(s3_server: S3Server, s3: S3Client) -> None:
    bucket = f"local-{secrets.token_hex(4)}"
    keys = {"access_key": s3_server.access_key, "secret_key": s3_server.secret_key}
    assert local.ensure_bucket(endpoint=s3_server.endpoint_url, bucket=bucket, **keys) is True
    assert local.ensure_bucket(endpoint=s3_server.endpoint_url, bucket=bucket, **keys) is False
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_s3_request_signs_a_body(s3_server: S3Server, s3: S3Client) -> None:
    """A PUT with a payload: the payload hash is part of the signature."""
    body = secrets.token_bytes(10_000)
    status, _ = local.s3_request(
        endpoint=s3_server.endpoint_url,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        method="PUT",
        path=f"/{s3_server.bucket}/local/signed object.bin",
        body=body,
    )
    assert status == 200
    stored = s3.get_object(Bucket=s3_server.bucket, Key="local/signed object.bin")
    assert stored["Body"].read() == body


def test_s3_request_lists_buckets(s3_server: S3Server) -> None:
    status, body = local.s3_request(
        endpoint=s3_server.endpoint_url,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        method="GET",
        path="/",
    )
    assert status == 200
    assert f"<Name>{s3_server.bucket}</Name>".encode() in body


def test_s3_request_wrong_secret_is_refused(s3_server: S3Server) -> None:
    status, body = local.s3_request(
        endpoint=s3_server.endpoint_url,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key + "x",
        method="GET",
        path="/",
    )
    assert status == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in body


def test_s3_request_rejects_an_endpoint_that_is_not_http() -> None:
    with pytest.raises(local.ServiceError) as refused:
        local.s3_request(
            endpoint="ftp://127.0.0.1:1",
            access_key="a",
            secret_key="b",
            method="GET",
            path="/",
        )
    assert str(refused.value) == "Ungültiger S3-Endpunkt: 'ftp://127.0.0.1:1'"
