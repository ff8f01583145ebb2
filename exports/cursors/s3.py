"""The S3 cursor store: the checkpoint as one S3 object, one PUT per accepted batch."""

from __future__ import annotations

import json

from botocore.exceptions import BotoCoreError, ClientError

from exports.cursors.base import Checkpoint, CursorStoreError, cursor_from_json
from exports.s3 import parse_s3_uri, s3_client, s3_errors


class S3CursorStore:
    """The cursor JSON as one S3 object; a single PUT replaces it atomically."""

    name = "s3"

    def __init__(self, uri: str, *, client=None):
        self.location = parse_s3_uri(uri)
        if not self.location.key:
            raise CursorStoreError(f"{uri} names a bucket, not an object")
        self._client = client
        self.found = False

    @property
    def client(self):
        self._client = self._client or s3_client()
        return self._client

    def load(self) -> str | None:
        try:
            response = self.client.get_object(Bucket=self.location.bucket, Key=self.location.key)
            text = response["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                self.found = False
                return None
            raise CursorStoreError(f"cannot read {self.location}: {exc}") from exc
        except BotoCoreError as exc:
            raise CursorStoreError(f"cannot read {self.location}: {exc}") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CursorStoreError(f"{self.location} is not valid JSON: {exc}") from exc
        cursor = cursor_from_json(data, str(self.location))
        self.found = True
        return cursor

    def save(self, checkpoint: Checkpoint) -> None:
        with s3_errors(f"writing {self.location}", CursorStoreError):
            self.client.put_object(
                Bucket=self.location.bucket,
                Key=self.location.key,
                Body=json.dumps(checkpoint.as_json(), indent=2).encode() + b"\n",
                ContentType="application/json",
            )
