"""Files to and from the links the API hands out (S3 presigned URLs): streamed, never whole in memory.

An upload is one PUT with its length declared (S3 refuses a chunked one); S3 stores nothing of a PUT cut short.
A download is written beside its destination under a temporary name and renamed only once whole, so an
interrupted one leaves no half file behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

from dialhub_cli.client import CliError, unreachable

CHUNK_BYTES = 1024 * 1024
STDOUT = Path("-")


def _link_error(what: str, response: httpx.Response) -> CliError:
    """S3 answers errors in XML: its Code and Message say what was wrong (an expired link, most often)."""
    code = re.search(r"<Code>(.*?)</Code>", response.text)
    message = re.search(r"<Message>(.*?)</Message>", response.text)
    said = ": ".join(match.group(1) for match in (code, message) if match) or response.reason_phrase
    return CliError(f"the {what} was refused ({response.status_code}): {said}")


def upload(url: str, path: Path, verify: Any, advance: Callable[[int], None], timeout: float = 60.0) -> None:
    size = path.stat().st_size

    def chunks() -> Iterator[bytes]:
        with path.open("rb") as file:
            while chunk := file.read(CHUNK_BYTES):
                yield chunk
                advance(len(chunk))

    try:
        response = httpx.put(
            url, content=chunks(), headers={"Content-Length": str(size)}, verify=verify, timeout=timeout
        )
    except httpx.HTTPError as exc:
        raise unreachable(url, exc) from exc
    if response.is_error:
        raise _link_error("upload", response)


def file_name_of(response: httpx.Response) -> str | None:
    """The name the server gave the file (Content-Disposition), reduced to a plain name in this folder."""
    disposition = response.headers.get("content-disposition", "")
    match = re.search(r"filename\*=UTF-8''([^;]+)", disposition, re.IGNORECASE) or re.search(
        r'filename="?([^";]+)"?', disposition, re.IGNORECASE
    )
    if match is None:
        return None
    name = Path(unquote(match.group(1)).replace("\\", "/")).name.strip()
    return name if name not in ("", ".", "..") else None


@dataclass(frozen=True)
class Downloaded:
    path: Path  # STDOUT when written there
    bytes: int


def download(
    url: str,
    destination: Path | None,
    verify: Any,
    started: Callable[[int | None], None],
    advance: Callable[[int], None],
    fallback_name: str,
    timeout: float = 60.0,
) -> Downloaded:
    """GET the link into `destination` (None: the server's file name in the current folder; `-`: stdout)."""
    try:
        with httpx.stream("GET", url, verify=verify, timeout=timeout) as response:
            if response.is_error:
                response.read()
                raise _link_error("download", response)
            length = response.headers.get("content-length")
            started(int(length) if length and length.isdigit() else None)
            if destination == STDOUT:
                written = 0
                for chunk in response.iter_bytes(CHUNK_BYTES):
                    sys.stdout.buffer.write(chunk)
                    written += len(chunk)
                    advance(len(chunk))
                sys.stdout.buffer.flush()
                return Downloaded(STDOUT, written)
            target = destination or Path(file_name_of(response) or fallback_name)
            return Downloaded(target, _write_whole(target, response, advance))
    except httpx.HTTPError as exc:
        raise unreachable(url, exc) from exc


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_whole(target: Path, response: httpx.Response, advance: Callable[[int], None]) -> int:
    folder = target.parent
    if not folder.is_dir():
        raise CliError(f"cannot write {target}: {folder} is not a folder")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    written = 0
    try:
        with os.fdopen(handle, "wb") as file:
            for chunk in response.iter_bytes(CHUNK_BYTES):
                file.write(chunk)
                written += len(chunk)
                advance(len(chunk))
        os.chmod(temporary, 0o666 & ~_umask())  # as a file made with open() would be, not mkstemp's 0600
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return written
