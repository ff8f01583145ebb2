"""S3 access shared by the S3 sink, the S3 cursor store, the status payloads and the telemetry
snapshots. boto3 reads the standard AWS variables, ``AWS_ENDPOINT_URL`` included, so the same
code talks to AWS or to any S3-compatible endpoint (moto's server in the tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlparse

from django.conf import settings


class InvalidS3Uri(ValueError):
    pass


class S3Failed(Exception):
    """An S3 call failed (no such bucket, no credentials, endpoint unreachable, ...): one
    line saying what was attempted and what S3 answered."""


@contextmanager
def s3_errors(attempted: str, raising: type[Exception] = S3Failed) -> Iterator[None]:
    """botocore's and boto3's errors inside as ``raising("<attempted> failed: <why>")``: one
    line with S3's code and message (the sink and the cursor store raise their own types)."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        why = " ".join(filter(None, [error.get("Code"), error.get("Message")])) or str(exc)
        raise raising(f"{attempted} failed: {why}") from exc
    except (BotoCoreError, Boto3Error) as exc:
        raise raising(f"{attempted} failed: {exc}") from exc


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def child(self, name: str) -> S3Location:
        prefix = self.key.strip("/")
        return S3Location(self.bucket, f"{prefix}/{name}" if prefix else name)


def parse_s3_uri(uri: str) -> S3Location:
    """``s3://bucket/some/key`` as a location; the key may be empty (a bucket root)."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise InvalidS3Uri(f"{uri!r} is not an s3://bucket/key URI")
    return S3Location(parsed.netloc, parsed.path.lstrip("/"))


def s3_client():
    """A client with the export timeouts; botocore's own retry mode handles throttling."""
    # Imported here: boto3 takes a tenth of a second to import, which every exporter run
    # would pay even when it never talks to S3.
    import boto3
    from botocore.config import Config

    timeout = settings.EXPORT_HTTP_TIMEOUT_SECONDS
    # A session of its own: boto3's shared default session is not safe to create clients
    # from in several threads at once (the cards read their status payloads concurrently).
    return boto3.session.Session().client(
        "s3",
        config=Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"mode": "standard", "max_attempts": settings.EXPORT_RETRY_ATTEMPTS},
            # SigV4 everywhere: left to itself botocore presigns with SigV2 in us-east-1 and
            # a few older regions (``?AWSAccessKeyId=...&Signature=...``), which buckets
            # created since June 2020 refuse, so a status payload's downloadUrl would 403.
            signature_version="s3v4",
        ),
    )


def presigned_url(location: S3Location, *, client=None) -> str:
    client = client or s3_client()
    return client.generate_presigned_url(
        "get_object",
        Params={"Bucket": location.bucket, "Key": location.key},
        ExpiresIn=settings.EXPORT_PRESIGN_SECONDS,
    )
