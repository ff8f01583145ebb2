"""The S3 sink, the S3 cursor store and the follow-up status payload, against moto's S3
server over HTTP (boto3 finds it through AWS_ENDPOINT_URL)."""

from __future__ import annotations

import json
import os
import stat
from datetime import timedelta

import pytest
import requests
from django.core.management import CommandError, call_command

from exports.cursors import Checkpoint, CursorStoreError, S3CursorStore
from exports.models import ExportRun
from exports.status import status_read
from tests.exports.conftest import expected_order, make_follow_ups

pytestmark = pytest.mark.django_db


def export_to_s3(s3, *extra: str) -> None:
    call_command(
        "export_guardrail_followups",
        "--sink",
        "s3",
        "--s3-uri",
        f"s3://{s3.bucket}/landing",
        "--cursor-store",
        "s3",
        "--cursor-store-uri",
        f"s3://{s3.bucket}/cursors/guardrail_followups.json",
        *extra,
        stderr=open("/dev/null", "w"),  # noqa: SIM115
    )


def objects(s3, prefix: str) -> list[str]:
    listing = s3.list_objects_v2(Bucket=s3.bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def body(s3, key: str) -> bytes:
    return s3.get_object(Bucket=s3.bucket, Key=key)["Body"].read()


def test_s3_sink_lands_one_ndjson_object_per_batch_and_resumes_from_the_s3_cursor(s3):
    rows = make_follow_ups(5, per_timestamp=2)
    export_to_s3(s3, "--batch-size", "2", "--limit", "3")
    export_to_s3(s3, "--batch-size", "2")

    keys = objects(s3, "landing/")
    assert all(key.startswith("landing/guardrail_followups/2026/01/22/") for key in keys)
    assert all(key.endswith(".ndjson") for key in keys)
    exported = [
        json.loads(line)["followUpId"] for key in keys for line in body(s3, key).splitlines()
    ]
    assert exported == expected_order(rows)
    cursor = json.loads(body(s3, "cursors/guardrail_followups.json"))
    assert cursor["rows"] == 2 and cursor["cursor"].endswith(str(expected_order(rows)[-1]))


def test_resending_a_batch_overwrites_its_object_instead_of_adding_one(s3):
    make_follow_ups(2)
    export_to_s3(s3)
    s3.delete_object(Bucket=s3.bucket, Key="cursors/guardrail_followups.json")
    export_to_s3(s3)
    assert len(objects(s3, "landing/")) == 1


def test_s3_cursor_store_round_trip_and_bad_content(s3):
    from django.utils import timezone

    store = S3CursorStore(f"s3://{s3.bucket}/c/feed.json")
    assert store.load() is None
    store.save(Checkpoint(cursor="2026-01-22T04:00:00Z~1", rows=3, updated_at=timezone.now()))
    assert store.load() == "2026-01-22T04:00:00Z~1"

    s3.put_object(Bucket=s3.bucket, Key="c/broken.json", Body=b"{not json")
    with pytest.raises(CursorStoreError, match="not valid JSON"):
        S3CursorStore(f"s3://{s3.bucket}/c/broken.json").load()


def test_follow_up_status_payload_has_a_working_download_link(s3, settings):
    settings.GUARDRAIL_EXPORT_STATUS_S3_URI = f"s3://{s3.bucket}/status/guardrail.json"
    settings.GUARDRAIL_EXPORT_WORKFLOW_URL = "https://github.com/smplat/smplat/actions/workflows/x"
    rows = make_follow_ups(3)

    export_to_s3(s3)

    status = status_read(settings.GUARDRAIL_EXPORT_STATUS_S3_URI)
    assert set(status) == {"cursor", "rows", "updatedAt", "downloadUrl", "workflowUrl"}
    assert status["rows"] == 3
    assert status["cursor"] == ExportRun.objects.get().cursor_after
    assert status["workflowUrl"] == settings.GUARDRAIL_EXPORT_WORKFLOW_URL
    download = requests.get(status["downloadUrl"], timeout=5)
    assert download.status_code == 200
    assert [json.loads(line)["followUpId"] for line in download.text.splitlines()] == (
        expected_order(rows)
    )

    export_to_s3(s3)  # nothing new: the link to the newest rows is kept

    again = status_read(settings.GUARDRAIL_EXPORT_STATUS_S3_URI)
    assert again["rows"] == 0 and again["downloadUrl"] == status["downloadUrl"]
    assert again["updatedAt"] > status["updatedAt"]


def test_the_status_download_link_gives_the_whole_run_of_several_objects(s3, settings):
    """The issue's case: 166 rows in two batch objects; the link offered only the last 66."""
    settings.GUARDRAIL_EXPORT_STATUS_S3_URI = f"s3://{s3.bucket}/status/guardrail.json"
    rows = make_follow_ups(166, per_timestamp=3)

    export_to_s3(s3, "--batch-size", "100")

    assert len(objects(s3, "landing/guardrail_followups/")) == 2
    status = status_read(settings.GUARDRAIL_EXPORT_STATUS_S3_URI)
    download = requests.get(status["downloadUrl"], timeout=5)
    assert download.status_code == 200
    assert [json.loads(line)["followUpId"] for line in download.text.splitlines()] == (
        expected_order(rows)
    )
    # The whole-run copy lies beside the feed's day folders, so the warehouse loads no row twice.
    assert objects(s3, "landing/latest/") == ["landing/latest/guardrail_followups.ndjson"]

    more = make_follow_ups(2, start=rows[-1].created_at + timedelta(minutes=1))
    export_to_s3(s3)  # a run of one object links that object, and the copy is left alone
    status = status_read(settings.GUARDRAIL_EXPORT_STATUS_S3_URI)
    lines = requests.get(status["downloadUrl"], timeout=5).text.splitlines()
    assert [json.loads(line)["followUpId"] for line in lines] == expected_order(more)
    assert "/landing/guardrail_followups/" in status["downloadUrl"]


def test_the_whole_run_copy_of_large_objects_is_byte_exact_in_parts(s3):
    """Three 4 MiB objects (S3 parts must be 5 MiB but the last): one 12 MiB object, exact."""
    from exports.s3 import S3Location
    from exports.sinks.s3 import S3Sink

    sink = S3Sink(f"s3://{s3.bucket}/landing", client=s3)
    parts = [bytes([65 + index]) * (4 * 1024 * 1024 - index) + b"\n" for index in range(3)]
    for index, part in enumerate(parts):
        s3.put_object(Bucket=s3.bucket, Key=f"landing/feed/{index}.ndjson", Body=part)
        sink.locations.append(S3Location(s3.bucket, f"landing/feed/{index}.ndjson"))

    target = sink.whole_run_location("feed")

    assert str(target) == f"s3://{s3.bucket}/landing/latest/feed.ndjson"
    assert body(s3, "landing/latest/feed.ndjson") == b"".join(parts)
    head = s3.head_object(Bucket=s3.bucket, Key="landing/latest/feed.ndjson")
    assert head["ContentType"] == "application/x-ndjson"
    assert head["ETag"].strip('"').endswith("-2")  # uploaded in two parts, not held whole


def test_status_payload_to_a_local_path_with_the_github_run_link(tmp_path, settings):
    settings.GUARDRAIL_EXPORT_STATUS_S3_URI = str(tmp_path / "status" / "guardrail.json")
    settings.GITHUB_SERVER_URL = "https://github.com"
    settings.GITHUB_REPOSITORY = "smplat/smplat"
    settings.GITHUB_RUN_ID = "1234567890"
    make_follow_ups(2)

    call_command(
        "export_guardrail_followups",
        stdout=open("/dev/null", "w"),  # noqa: SIM115
        stderr=open("/dev/null", "w"),  # noqa: SIM115
    )

    status = json.loads((tmp_path / "status" / "guardrail.json").read_text())
    assert status["workflowUrl"] == "https://github.com/smplat/smplat/actions/runs/1234567890"
    assert status["downloadUrl"] is None and status["rows"] == 2
    assert ExportRun.objects.get().external_url == status["workflowUrl"]


def test_cursor_and_status_files_are_readable_by_others_as_the_umask_allows(tmp_path, settings):
    """A site or a monitoring agent running as another user reads them after each replace."""
    settings.GUARDRAIL_EXPORT_STATUS_S3_URI = str(tmp_path / "guardrail-status.json")
    make_follow_ups(2)
    previous = os.umask(0o022)
    try:
        call_command(
            "export_guardrail_followups",
            "--cursor-store",
            "file",
            "--cursor-store-path",
            str(tmp_path / "cursor.json"),
            stdout=open("/dev/null", "w"),  # noqa: SIM115
            stderr=open("/dev/null", "w"),  # noqa: SIM115
        )
    finally:
        os.umask(previous)
    for name in ("cursor.json", "guardrail-status.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_s3_batches_default_to_10000_rows_an_object(s3):
    make_follow_ups(10_001, per_timestamp=3)
    export_to_s3(s3)

    keys = objects(s3, "landing/")
    assert sorted(len(body(s3, key).splitlines()) for key in keys) == [1, 10_000]


def test_a_follow_up_status_destination_that_is_a_url_fails_the_run_before_any_row(
    tmp_path, settings
):
    settings.GUARDRAIL_EXPORT_STATUS_S3_URI = "https://status.example.com/guardrail.json"
    make_follow_ups(2)
    with pytest.raises(CommandError, match="cannot write a status payload to https://"):
        call_command(
            "export_guardrail_followups",
            "--sink",
            "file",
            "--file-path",
            str(tmp_path / "out.ndjson"),
            stderr=open("/dev/null", "w"),  # noqa: SIM115
        )
    assert not (tmp_path / "out.ndjson").exists()
    assert ExportRun.objects.get().outcome == "failed"


def test_a_missing_bucket_fails_the_sink_and_the_cursor_store_in_one_line(s3):
    make_follow_ups(2)
    with pytest.raises(CommandError, match=r"S3 upload to s3://no-such-bucket/.* NoSuchBucket"):
        call_command(
            "export_guardrail_followups",
            "--sink",
            "s3",
            "--s3-uri",
            "s3://no-such-bucket/landing",
            stderr=open("/dev/null", "w"),  # noqa: SIM115
        )
    from django.utils import timezone

    store = S3CursorStore("s3://no-such-bucket/cursor.json")
    with pytest.raises(CursorStoreError, match=r"writing s3://no-such-bucket/cursor.json .*NoSuch"):
        store.save(Checkpoint(cursor="2026-01-22T04:00:00Z~1", rows=1, updated_at=timezone.now()))


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_download_urls_are_presigned_with_sigv4_in_every_region(s3, monkeypatch, region):
    # botocore presigns with SigV2 in us-east-1 and eu-west-1 unless told otherwise, and
    # buckets created since June 2020 refuse SigV2 links.
    from urllib.parse import parse_qs, urlparse

    import boto3

    from exports.s3 import S3Location, presigned_url

    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    regional = boto3.client("s3", region_name=region)
    bucket = f"{s3.bucket}-{region}"
    if region == "us-east-1":
        regional.create_bucket(Bucket=bucket)
    else:
        regional.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
        )
    regional.put_object(Bucket=bucket, Key="snap/latest.ndjson", Body=b'{"a": 1}\n')

    url = presigned_url(S3Location(bucket, "snap/latest.ndjson"))

    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert f"/{region}/s3/aws4_request" in query["X-Amz-Credential"][0]
    assert "Signature" not in query and "AWSAccessKeyId" not in query
    response = requests.get(url, timeout=5)
    assert response.status_code == 200 and response.content == b'{"a": 1}\n'
