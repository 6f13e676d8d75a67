"""The only code that touches S3: export files, written whole or in parts, and read through short-lived links.

An object appears only once it is whole: a small export is one PUT, a large one a multipart upload that S3
shows under its key only when completed. Uploads left incomplete are removed by the bucket's lifecycle rule.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from dialhub.settings import MissingSetting


@dataclass(frozen=True)
class DownloadLink:
    url: str
    expires_at: dt.datetime


def _download_name(name: str) -> str:
    """A file name any browser and spreadsheet accepts (S3 metadata headers are ASCII)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:150] or "export"


class ExportObjects:
    def __init__(self, bucket: str | None, client: Any = None) -> None:
        self._bucket = bucket
        self._client = client

    @property
    def bucket(self) -> str:
        if self._bucket is None:  # only a function that does not touch exports is made without it
            raise MissingSetting("EXPORT_BUCKET not set")
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
