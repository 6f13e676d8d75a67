"""What every file reader hands out: rows numbered as a spreadsheet shows them, and checkpoints to resume at.

Kept apart from the readers so the CSV and XLSX modules share these types without importing each other.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self

MB = 1024 * 1024


class ImportFailed(Exception):
    """The whole file cannot be imported. The message is shown to the analyst who uploaded it: plain words that
    name the problem (and, where it helps, what to do about it)."""


class SeekableBinary(Protocol):
    """A file opened for binary reading that can seek: an open file, BytesIO, or Powertools' S3Object (which reads
    by HTTP range, so a seek costs a new request and the readers seek only when they start or resume)."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def tell(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Row:
    """One record of the file. `number` is the row Excel shows for it (the header row is usually 1, the first data
    row 2; a quoted value with line breaks keeps its record one row). `values` has one text per header column
    (missing trailing cells are ""). A row that cannot be read has `error` set and is reported by its number
    while the reading goes on; its values are then a best effort (undecodable bytes as U+FFFD), only to name the
    row in the report, never to make a contact."""

    number: int
    values: list[str]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where to resume: opening the same file again with `start=` this continues with the row after `row_number`.

    `byte_offset` is where that next row starts in a CSV file (always on a code-unit boundary); it is 0 for an
    XLSX file, whose rows can only be skipped (XML is not seekable by row).
    """

    byte_offset: int
    row_number: int

    def to_wire(self) -> dict[str, int]:
        """JSON for storing the checkpoint between invocations."""
        return {"byteOffset": self.byte_offset, "rowNumber": self.row_number}

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Checkpoint:
        offset, number = data.get("byteOffset"), data.get("rowNumber")
        if not isinstance(offset, int) or not isinstance(number, int) or offset < 0 or number < 1:
            raise ValueError(f"not a checkpoint: {dict(data)!r}")
        return cls(offset, number)


@dataclass(frozen=True)
class ReadLimits:
    """Bounds that keep one import's memory and time flat whatever the file holds."""

    chunk_bytes: int = 256 * 1024  # one read from the source (one HTTP range on S3)
    max_row_bytes: int = 1 * MB  # a CSV record longer than this is an unclosed quote, not a contact
    max_columns: int = 1_000
    # XLSX (a zip of XML parts), checked from the zip's directory before any part is decompressed:
    max_uncompressed_bytes: int = 1024 * MB
    max_compression_ratio: int = 200  # ...for a part that also expands to more than the next figure
    ratio_checked_above_bytes: int = 50 * MB
    max_archive_members: int = 10_000
    # openpyxl holds the workbook's shared-strings table in memory even in read-only mode.
    max_shared_strings_bytes: int = 256 * MB


DEFAULT_LIMITS = ReadLimits()


class RowReader(ABC):
    """Rows of one CSV file or worksheet, streamed. Iterate once; after each yielded row, `checkpoint()` says how
    to resume right after it. Close it (or use it as a context manager) to release the source's parser."""

    header: list[str]  # trimmed header names, one per column ("" for a column without a header)
    header_row: int  # the row number of the header (1 unless blank rows come before it)
    encoding: str | None  # CSV: the text encoding used, e.g. "utf-8", "utf-16-le", "gbk"
    separator: str | None  # CSV: the detected separator
    sheet: str | None  # XLSX: the worksheet read

    @abstractmethod
    def __iter__(self) -> Iterator[Row]: ...

    @abstractmethod
    def checkpoint(self) -> Checkpoint:
        """Resume point after the last row read (before the first row: right after the header)."""

    @abstractmethod
    def close(self) -> None:
        """Release what the reader holds (the XLSX parser's archive); the source itself stays open."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def sniff_binary_kind(head: bytes) -> str | None:
    """A plain name for a well-known non-text file type, from its first bytes, or None."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an Excel 97-2003 .xls, or a password-protected .xlsx
_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)


def old_excel_message(declared: str) -> str:
    return (
        f"declared {declared} but the file is an Excel 97-2003 .xls workbook or a password-protected .xlsx: "
        "save it as an unprotected .xlsx or as CSV"
    )


def size_text(size: int) -> str:
    """A byte count for a message, rounded up: "300 MB", "2 KB", "512 bytes"."""
    if size >= MB:
        return f"{-(-size // MB)} MB"
    if size >= 1024:
        return f"{-(-size // 1024)} KB"
    return f"{size} bytes"


def join_names(names: list[str], limit: int = 30) -> str:
    """Header or sheet names for a message, quoted, cut after `limit`."""
    shown = ", ".join(f"'{name}'" for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
