"""The only code that touches S3: export files, written whole or in parts, and read through short-lived links;
uploaded contact files, read as a stream, and the rejections of their import.

An object appears only once it is whole: a small export is one PUT, a large one a multipart upload that S3
shows under its key only when completed. Uploads left incomplete are removed by the bucket's lifecycle rule.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from dialhub.settings import MissingSetting


@dataclass(frozen=True)
class DownloadLink:
    url: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class StoredObject:
    size: int
    etag: str


def _download_name(name: str) -> str:
    """A file name any browser and spreadsheet accepts (S3 metadata headers are ASCII)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:150] or "export"


class BucketObjects:
    def __init__(self, bucket: str | None, client: Any = None, setting: str = "EXPORT_BUCKET") -> None:
        self._bucket = bucket
        self._client = client
        self._setting = setting

    @property
    def bucket(self) -> str:
        if self._bucket is None:  # only a function that does not touch this bucket is made without it
            raise MissingSetting(f"{self._setting} not set")
        return self._bucket

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("s3", config=Config(signature_version="s3v4"))
        return self._client

    def _attributes(self, content_type: str, file_name: str) -> dict[str, str]:
        return {
            "ContentType": content_type,
            "ContentDisposition": f'attachment; filename="{_download_name(file_name)}"',
        }

    def put(self, key: str, body: bytes, content_type: str, file_name: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, **self._attributes(content_type, file_name))

    def start_upload(self, key: str, content_type: str, file_name: str) -> str:
        response = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, **self._attributes(content_type, file_name)
        )
        return str(response["UploadId"])

    def upload_part(self, key: str, upload_id: str, number: int, body: bytes) -> str:
        """Upload (or upload again: the same number replaces it) one part; its ETag."""
        response = self.client.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )
        return str(response["ETag"])

    def complete(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
        """Make the upload the object; done already (a retry after a crash) counts as done."""
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": number, "ETag": etag} for number, etag in parts]},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchUpload" or not self.exists(key):
                raise

    def abort(self, key: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                raise

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def download_link(self, key: str, minutes: int, now: dt.datetime) -> DownloadLink:
        """A plain-GET link, signed with this function's credentials (so it also ends if they do first)."""
        url = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=minutes * 60
        )
        return DownloadLink(url, now + dt.timedelta(minutes=minutes))

    def upload_link(self, key: str, minutes: int, now: dt.datetime) -> DownloadLink:
        """A plain-PUT link (`curl -T file URL`), signed like download links; the size is checked on arrival."""
        url = self.client.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=minutes * 60
        )
        return DownloadLink(url, now + dt.timedelta(minutes=minutes))

    def describe(self, key: str) -> StoredObject | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return StoredObject(int(head["ContentLength"]), str(head["ETag"]).strip('"'))

    def stream(self, key: str, etag: str) -> IO[bytes]:
        """The object as a seekable stream read by ranged GETs (Powertools' S3Object), never whole in memory;
        each read is of this very version (If-Match), so a file replaced while it is read fails loudly."""
        from aws_lambda_powertools.utilities.streaming import S3Object

        return S3Object(bucket=self.bucket, key=key, boto3_client=self.client, IfMatch=f'"{etag}"')

    def keys_under(self, prefix: str) -> list[str]:
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(str(item["Key"]) for item in page.get("Contents", []))
        return sorted(keys)

    def read(self, key: str) -> bytes:
        body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)
