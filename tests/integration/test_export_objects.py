"""The export bucket's one module (objects.py) against moto's S3: what a retried completion, an abort of an
upload S3 no longer knows and a look for a missing file answer, and the layer's account secret reader."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from dialhub import settings as settings_module
from dialhub.objects import BucketObjects
from dialhub.secrets import vendor_account
from dialhub.settings import MissingSetting
from dialhub.wiring import Dependencies

PART = b"x" * (5 * 1024 * 1024)  # S3's smallest part but the last


@pytest.fixture
def objects(export_deps: Dependencies) -> BucketObjects:
    return export_deps.objects


def _uploaded(objects: BucketObjects, key: str) -> tuple[str, list[tuple[int, str]]]:
    upload_id = objects.start_upload(key, "text/csv", "export.csv")
    return upload_id, [
        (1, objects.upload_part(key, upload_id, 1, PART)),
        (2, objects.upload_part(key, upload_id, 2, b"end")),
    ]


def test_a_completion_retried_after_it_succeeded_counts_as_done(objects: BucketObjects) -> None:
    upload_id, parts = _uploaded(objects, "exports/a.csv")
    objects.complete("exports/a.csv", upload_id, parts)
    objects.complete("exports/a.csv", upload_id, parts)  # the retry of a crash after S3 took the completion
    assert objects.exists("exports/a.csv")


class _ForgetfulS3:
    """S3 as it answers the completion of an upload it no longer knows (moto's in-process S3 raises KeyError
    there instead); the file is there or not, as told."""

    def __init__(self, file_there: bool) -> None:
        self.file_there = file_there

    def complete_multipart_upload(self, **_: Any) -> None:
        raise ClientError({"Error": {"Code": "NoSuchUpload", "Message": "gone"}}, "CompleteMultipartUpload")

    def head_object(self, **_: Any) -> None:
        if not self.file_there:
            raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadObject")


def test_a_completion_s3_does_not_know_is_done_only_when_the_file_is_there() -> None:
    BucketObjects("bucket", client=_ForgetfulS3(file_there=True)).complete("exports/b.csv", "u-1", [(1, "e")])
    with pytest.raises(ClientError) as failed:
        BucketObjects("bucket", client=_ForgetfulS3(file_there=False)).complete("exports/b.csv", "u-1", [(1, "e")])
    assert failed.value.response["Error"]["Code"] == "NoSuchUpload"


def test_aborting_an_upload_already_gone_is_not_an_error(objects: BucketObjects) -> None:
    upload_id, _ = _uploaded(objects, "exports/c.csv")
    objects.abort("exports/c.csv", upload_id)
    objects.abort("exports/c.csv", upload_id)
    assert not objects.exists("exports/c.csv")


def test_a_bucket_that_refuses_the_look_is_an_error_not_a_missing_file(objects: BucketObjects) -> None:
    with pytest.raises(ClientError):
        BucketObjects("no-such-bucket-here", client=objects.client).exists("exports/d.csv")


def test_objects_made_without_a_bucket_name_it_when_used() -> None:
    with pytest.raises(MissingSetting, match=r"^EXPORT_BUCKET not set$"):
        BucketObjects(None).put("exports/e.csv", b"", "text/csv", "e.csv")


def test_a_vendor_secret_that_is_not_a_json_object_is_refused(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("VENDOR_SECRET_PREFIX", "dialhub/test/vendors/")
    settings_module.get_settings.cache_clear()
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name="dialhub/test/vendors/blu", SecretString=json.dumps(["not", "an", "object"]))
    secrets.create_secret(Name="dialhub/test/vendors/nxtele", SecretString=json.dumps({"uuid": "u"}))
    try:
        with pytest.raises(ValueError, match=r"^secret of vendor blu is not a JSON object$"):
            vendor_account("blu", force_fetch=True)
        assert vendor_account("nxtele", force_fetch=True) == {"uuid": "u"}
    finally:
        settings_module.get_settings.cache_clear()
