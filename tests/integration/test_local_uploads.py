"""A contact file put in the import bucket reaches the import queue as S3 -> EventBridge -> SQS delivers it, in
both of the local stack's modes: through moto's server, uploaded by plain HTTP to a link the API would sign
(`make serve`, `make demo`), and in-process, put by boto3 (`make chaos`). The bucket's notification setting,
the rule and the queue policy all come from template.yaml; the importer itself is not run here, the queue is
read directly."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.stack import LocalStack

pytestmark = pytest.mark.e2e

CONTACTS = b"loan_id,mobile,name\nL-1,09171234567,Ana\nL-2,09181234567,Ben\n"


@pytest.fixture(scope="module", params=["moto-server", "in-process"])
def stack(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    with LocalStack(vendors=("blu",), aws_in_process=request.param == "in-process") as running:
        yield running


# Links are used over HTTP: through moto's server only.
served_only = pytest.mark.parametrize("stack", ["moto-server"], indirect=True)


def _s3() -> Any:
    return boto3.client("s3", config=Config(signature_version="s3v4"))  # as the functions sign their links


def _upload_link(stack: LocalStack, key: str) -> str:
    """A PUT link signed with the API function's grants, as POST /campaigns/{id}/imports signs it."""
    with stack.acting_as("ApiFunction"):
        return str(
            _s3().generate_presigned_url(
                "put_object", Params={"Bucket": stack.bucket_names["ImportBucket"], "Key": key}, ExpiresIn=900
            )
        )


def _put(stack: LocalStack, key: str, body: bytes = CONTACTS) -> None:
    """Upload as a user would: a plain PUT to a link through moto's server; boto3's put_object in-process."""
    bucket = stack.bucket_names["ImportBucket"]
    if stack.aws_in_process:
        _s3().put_object(Bucket=bucket, Key=key, Body=body)
        return
    if key.startswith("uploads/"):
        url = _upload_link(stack, key)
    else:  # no function may sign it: the stack itself does
        url = _s3().generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=900)
    response = httpx.put(url, content=body, verify=stack.https_verify())
    assert response.status_code == 200, response.text


def _import_queue_bodies(stack: LocalStack) -> list[dict[str, Any]]:
    """Everything on the import queue now, taken off it (moto delivers a notification before S3 answers)."""
    url = stack.queue_urls["ImportQueue"]
    bodies: list[dict[str, Any]] = []
    while messages := stack.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            stack.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_an_upload_becomes_one_object_created_event_on_the_import_queue(stack: LocalStack) -> None:
    _put(stack, "uploads/imp_first")
    [event] = _import_queue_bodies(stack)
    bucket = stack.bucket_names["ImportBucket"]
    assert event["source"] == "aws.s3" and event["detail-type"] == "Object Created"
    assert event["account"] == "123456789012" and event["region"] == "us-east-1"
    assert event["resources"] == [f"arn:aws:s3:::{bucket}"]
    assert event["time"].endswith("Z")
    detail = event["detail"]
    assert detail["bucket"] == {"name": bucket}
    assert detail["object"]["key"] == "uploads/imp_first"
    assert detail["object"]["size"] == len(CONTACTS)
    assert detail["reason"] == "PutObject"
    # The importer's event source is wired to this very queue (it is not run here: the queue is read directly).
    assert stack.sqs_drivers["ImporterFunction"].queue_url == stack.queue_urls["ImportQueue"]


def test_each_upload_is_its_own_event_and_nothing_outside_uploads_is_announced(stack: LocalStack) -> None:
    _put(stack, "rejections/imp_first.csv")
    _put(stack, "uploads-not/imp_x")
    assert _import_queue_bodies(stack) == []
    _put(stack, "uploads/imp_second")
    _put(stack, "uploads/imp_second", CONTACTS + b"L-3,09191234567,Cy\n")  # the same key again: notified again
    events = _import_queue_bodies(stack)
    assert [event["detail"]["object"]["key"] for event in events] == ["uploads/imp_second"] * 2
    assert len({event["id"] for event in events}) == 2
    assert [event["detail"]["object"]["size"] for event in events] == [len(CONTACTS), len(CONTACTS) + 19]


@served_only
def test_an_uploaded_file_can_be_read_back_through_a_download_link(stack: LocalStack) -> None:
    _put(stack, "uploads/imp_read")
    url = _s3().generate_presigned_url(
        "get_object", Params={"Bucket": stack.bucket_names["ImportBucket"], "Key": "uploads/imp_read"}, ExpiresIn=60
    )
    response = httpx.get(url, verify=stack.https_verify())
    assert response.status_code == 200 and response.content == CONTACTS
    _import_queue_bodies(stack)


@served_only
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_uploads_a_file_to_the_link_as_the_readme_shows(stack: LocalStack, tmp_path: Path) -> None:
    contacts = tmp_path / "contacts list.csv"
    contacts.write_bytes(CONTACTS * 2000)
    url = _upload_link(stack, "uploads/imp_curl")
    assert stack.ca_bundle is not None
    done = subprocess.run(
        ["curl", "-sS", "--fail", "--cacert", stack.ca_bundle, "-T", str(contacts), url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    [event] = _import_queue_bodies(stack)
    assert event["detail"]["object"] | {"etag": "", "sequencer": ""} == {
        "key": "uploads/imp_curl",
        "size": contacts.stat().st_size,
        "etag": "",
        "sequencer": "",
    }


@served_only
def test_a_link_the_function_may_not_use_is_refused_when_it_signs_it(stack: LocalStack) -> None:
    bucket = stack.bucket_names["ImportBucket"]
    with stack.acting_as("ApiFunction"), pytest.raises(ClientError, match="presigned link"):
        _s3().generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "rejections/imp_x.csv"})
    with stack.acting_as("ApiFunction"):
        _s3().generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "rejections/imp_x.csv"})
        _s3().generate_presigned_post(bucket, "uploads/imp_post")
        with pytest.raises(ClientError, match=r"s3:PutObject on arn:aws:s3:::.*/elsewhere/x"):
            _s3().generate_presigned_post(bucket, "elsewhere/x")
