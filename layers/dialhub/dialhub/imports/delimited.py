"""CSV (and TAB-separated "Unicode text") files, streamed by byte offset so an import can resume mid-file.

The file is cut into records on the raw bytes (only quotes and line breaks matter for that), and each record is
decoded on its own: a row with bytes that are not valid text in the file's encoding is reported by its number
while the rest is read, and the byte offset after any record is a checkpoint. This is exact because the bytes
of a quote, CR, LF and separator never occur inside another character in the encodings accepted: UTF-8,
single-byte code pages, the East Asian double-byte code pages (whose trailing bytes are all >= 0x40, above the
quote, CR, LF, TAB, comma and semicolon), and UTF-16/UTF-32, scanned by whole code units. One gap is left:
in those double-byte code pages a trailing byte can be 0x7C, the pipe, so in a `|`-separated GBK/Big5/Shift-JIS
file such a character written right before a quote makes that quote look like the start of a quoted value.

Row numbers are what Excel shows: one per record (a quoted value with line breaks stays in its record), blank
lines counted but not yielded.
"""

from __future__ import annotations

import codecs
import csv
import functools
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass

from dialhub.imports.rows import (
    OLE_MAGIC,
    ZIP_MAGIC,
    Checkpoint,
    ImportFailed,
    ReadLimits,
    Row,
    RowReader,
    SeekableBinary,
    old_excel_message,
    size_text,
    sniff_binary_kind,
)

SEPARATORS = (",", "\t", ";", "|")  # in order of preference when a header line has as many of two
_BOMS = (  # longest first: the UTF-32 LE mark starts like the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_UNIT_BYTES = {"utf-16-le": 2, "utf-16-be": 2, "utf-32-le": 4, "utf-32-be": 4}
_WITHOUT_BOM = {"utf-8-sig": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}  # Windows' byte order
# Multi-byte encodings whose quote, CR, LF, TAB, comma and semicolon bytes only ever mean themselves.
_ASCII_SAFE_MULTIBYTE = frozenset(
    {
        "utf-8",
        "gbk",
        "gb2312",
        "gb18030",
        "big5",
        "big5hkscs",
        "cp950",
        "cp932",
        "shift_jis",
        "shift_jis_2004",
        "shift_jisx0213",
        "euc_jp",
        "euc_jis_2004",
        "euc_jisx0213",
        "euc_kr",
        "cp949",
    }
)
_STATEFUL = ("hz", "utf-7", "iso2022")  # escape sequences change what later bytes mean: no cutting by bytes
_QUOTED = re.compile(r'"[^"]*"?')


@dataclass(frozen=True)
class TextEncoding:
    """How the file's bytes become text: `codec` decodes one record, `unit` is the code-unit size that byte offsets
    keep to, `bom` the length of the byte-order mark before the header."""

    codec: str
    label: str  # what the analyst reads in an error, e.g. "utf-8", "gbk"
    unit: int
    bom: int
    declared: bool


def resolve_encoding(declared: str | None, head: bytes) -> TextEncoding:
    """A byte-order mark decides (it cannot be mistaken: Excel writes one only for the encoding it used); else the
    declared encoding; else UTF-8."""
    for mark, codec in _BOMS:
        if head.startswith(mark):
            return TextEncoding(codec, codec, _UNIT_BYTES.get(codec, 1), len(mark), declared is not None)
    if declared is None:
        return TextEncoding("utf-8", "utf-8", 1, 0, declared=False)
    name = declared.strip()
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise ImportFailed(f"unknown encoding '{name}'") from None
    if not getattr(info, "_is_text_encoding", True):
        raise ImportFailed(f"'{name}' is not a text encoding")
    codec = _WITHOUT_BOM.get(info.name, info.name)
    if codec in _UNIT_BYTES:
        return TextEncoding(codec, name, _UNIT_BYTES[codec], 0, declared=True)
    if codec in _ASCII_SAFE_MULTIBYTE or (not codec.startswith(_STATEFUL) and _is_single_byte(codec)):
        return TextEncoding(codec, name, 1, 0, declared=True)
    raise ImportFailed(
        f"the encoding '{name}' cannot be read in rows (its bytes change meaning along the file): "
        "save the file as UTF-8 CSV"
    )


@functools.cache
def _is_single_byte(codec: str) -> bool:
    """Each byte one character, on its own or in a run: then any structural character can be found by its byte."""
    singles = [bytes([value]).decode(codec, "replace") for value in range(256)]
    return all(len(text) == 1 for text in singles) and bytes(range(256)).decode(codec, "replace") == "".join(singles)


@dataclass(frozen=True)
class _Syntax:
    """The encoded bytes of the characters that shape a CSV file, and fast searches for them."""

    unit: int
    quote: bytes
    cr: bytes
    lf: bytes
    separator: bytes
    line_break: re.Pattern[bytes]  # CR or LF
    field_end: re.Pattern[bytes]  # CR, LF or the separator
    breaks: re.Pattern[bytes]  # a whole line break: CRLF, CR or LF

    @classmethod
    def of(cls, codec: str, separator: str) -> _Syntax:
        quote, cr, lf, sep = (char.encode(codec) for char in ('"', "\r", "\n", separator))
        unit = len(quote)

        def any_of(*tokens: bytes) -> re.Pattern[bytes]:
            if unit == 1:
                return re.compile(b"[" + b"".join(re.escape(token) for token in tokens) + b"]")
            return re.compile(b"|".join(re.escape(token) for token in tokens))

        breaks = re.compile(b"|".join(re.escape(token) for token in (cr + lf, cr, lf)))
        return cls(unit, quote, cr, lf, sep, any_of(cr, lf), any_of(cr, lf, sep), breaks)

    def find(self, token: bytes, buffer: bytes, start: int, end: int) -> int:
        """The first occurrence of `token` on a code-unit boundary (buffer[0] is on one), or -1."""
        at = buffer.find(token, start, end)
        if self.unit > 1:
            while at >= 0 and at % self.unit:
                at = buffer.find(token, at + 1, end)
        return at

    def search(self, pattern: re.Pattern[bytes], buffer: bytes, start: int) -> int:
        found = pattern.search(buffer, start)
        if self.unit > 1:
            while found is not None and found.start() % self.unit:
                found = pattern.search(buffer, found.start() + 1)
        return -1 if found is None else found.start()

    def record_end(self, buffer: bytes, start: int, at_eof: bool) -> tuple[int, int, bool] | None:
        """(end of the record's content, start of the next record, whether it has a quote) for the record that
        starts at `start`, or None when the buffer ends before the record can be known to end."""
        size, unit = len(buffer), self.unit
        line_break = self.search(self.line_break, buffer, start)
        if line_break < 0 and not at_eof:
            return None
        end = size if line_break < 0 else line_break
        if self.find(self.quote, buffer, start, end) < 0:  # the usual case: no quote, the record is the line
            return (size, size, False) if line_break < 0 else self._after_break(buffer, line_break, at_eof)
        at, field_start = start, True  # quotes: follow them as the csv module does (they count at a field's start)
        while True:
            if field_start and buffer.startswith(self.quote, at):
                at += unit
                while True:
                    closing = self.find(self.quote, buffer, at, size)
                    if closing < 0 or (size - closing < 2 * unit and not at_eof):
                        return (size, size, True) if at_eof else None  # unclosed at the end: the rest is the value
                    if not buffer.startswith(self.quote, closing + unit):
                        at = closing + unit
                        break
                    at = closing + 2 * unit  # "" is a quote inside the value
            stop = self.search(self.field_end, buffer, at)
            if stop < 0:
                return (size, size, True) if at_eof else None
            if buffer.startswith(self.separator, stop):
                at, field_start = stop + unit, True
                continue
            found = self._after_break(buffer, stop, at_eof)
            return None if found is None else (found[0], found[1], True)

    def _after_break(self, buffer: bytes, at: int, at_eof: bool) -> tuple[int, int, bool] | None:
        unit = self.unit
        if buffer.startswith(self.cr, at):
            if len(buffer) - at < 2 * unit and not at_eof:
                return None  # a CR last in the buffer: an LF may follow
            if buffer.startswith(self.lf, at + unit):
                return at, at + 2 * unit, False
        return at, at + unit, False


class _Records:
    """Raw records from a byte offset on, read a chunk at a time. While a record is being handed out, `offset` is
    the byte offset after it and `row_number` its row number."""

    def __init__(
        self, source: SeekableBinary, syntax: _Syntax, offset: int, row_number: int, limits: ReadLimits
    ) -> None:
        self._source, self._syntax, self._limits = source, syntax, limits
        self.offset, self.row_number = offset, row_number

    def __iter__(self) -> Iterator[tuple[bytes, bool]]:
        """Each record's bytes (without its line break) and whether it holds a quote."""
        syntax, source, limits = self._syntax, self._source, self._limits
        unit, quote, cr, breaks = syntax.unit, syntax.quote, syntax.cr, syntax.breaks
        buffer, position, base, at_eof = b"", 0, self.offset, False
        source.seek(base)
        while True:
            size = len(buffer)
            # Before the next quote, each line break ends a record: the bulk of most files, found in one scan.
            next_quote = syntax.find(quote, buffer, position, size)
            for found in breaks.finditer(buffer, position, size if next_quote < 0 else next_quote):
                start, end = found.span()
                if (unit > 1 and start % unit) or (size - end < unit and not at_eof and found.group() == cr):
                    break  # inside a character (UTF-16/32), or a CR last in the buffer that an LF may follow
                self.row_number += 1
                self.offset = base + end
                record, position = buffer[position:start], end
                yield record, False
            if position < size:  # a record with quotes, or one the buffer cuts: followed field by field
                ends = syntax.record_end(buffer, position, at_eof)
                if ends is not None:
                    content_end, next_start, quoted = ends
                    self.row_number += 1
                    self.offset = base + next_start
                    record, position = buffer[position:content_end], next_start
                    yield record, quoted
                    continue
            elif at_eof:
                return
            if size - position > limits.max_row_bytes:
                raise ImportFailed(
                    f"row {self.row_number + 1} is longer than {size_text(limits.max_row_bytes)}: "
                    "a quote that is never closed?"
                )
            chunk = source.read(limits.chunk_bytes)
            at_eof = not chunk
            base += position
            buffer, position = buffer[position:] + chunk, 0


class CsvRowReader(RowReader):
    """Rows of a CSV file. Opening reads the header (from the start, also when resuming) and then seeks to `start`."""

    def __init__(
        self, source: SeekableBinary, *, encoding: str | None, start: Checkpoint | None, limits: ReadLimits
    ) -> None:
        self.sheet = None
        self._source, self._limits = source, limits
        source.seek(0)
        head = _read_head(source, limits)
        if not head:
            raise ImportFailed("the file is empty")
        _refuse_binary(head)
        self._encoding = text = resolve_encoding(encoding, head)
        self.encoding = text.label
        if len(head) == text.bom:
            raise ImportFailed("the file is empty")
        self.separator = self._separator = _detect_separator(head[text.bom :], text)
        try:
            self._syntax = _Syntax.of(text.codec, self._separator)
        except UnicodeEncodeError:
            raise ImportFailed(f"the encoding '{text.label}' has no quote or line break: not one for CSV") from None
        self._records = _Records(source, self._syntax, text.bom, 0, limits)
        raw_records = iter(self._records)
        self.header = self._read_header(raw_records)
        self.header_row = self._records.row_number
        if start is not None:
            self._records = self._resume(start)
            raw_records = iter(self._records)
        self._rows = self._read_rows(raw_records)

    def __iter__(self) -> Iterator[Row]:
        return self._rows

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self._records.offset, self._records.row_number)

    def close(self) -> None:
        self._rows.close()

    def _read_header(self, raw_records: Iterator[tuple[bytes, bool]]) -> list[str]:
        for raw, quoted in raw_records:
            if self._encoding.unit == 1 and b"\x00" in raw:
                raise ImportFailed(
                    "the header row contains NUL bytes: a UTF-16 file without a byte-order mark? "
                    "Declare its encoding (utf-16-le or utf-16-be)"
                )
            try:
                values = self._split(raw.decode(self._encoding.codec), quoted)
            except UnicodeDecodeError:
                hint = "" if self._encoding.declared else ": declare the file's encoding (for example gbk or cp1252)"
                raise ImportFailed(f"the header row is not valid {self._encoding.label} text{hint}") from None
            except csv.Error as exc:
                raise ImportFailed(f"the header row cannot be read as CSV: {exc}") from None
            header = [value.strip() for value in values]
            while header and not header[-1]:
                header.pop()  # "a,b,,," : empty columns on the right, as Excel writes formatted ones
            if header:
                if len(header) > self._limits.max_columns:
                    raise ImportFailed(
                        f"the header has {len(header)} columns, more than {self._limits.max_columns}: "
                        "is this a contact list?"
                    )
                return header
        raise ImportFailed("no header row: the file has only blank lines")

    def _resume(self, start: Checkpoint) -> _Records:
        data_start, unit = self._records.offset, self._syntax.unit
        if start.row_number < self.header_row or start.byte_offset < data_start:
            raise ImportFailed("the checkpoint lies before the end of this file's header: not this file's")
        if (start.byte_offset - data_start) % unit:
            raise ImportFailed("the checkpoint is not on a character boundary of this file: not this file's")
        if start.byte_offset > data_start:  # a row starts after a line break: a cheap check of a wrong checkpoint
            self._source.seek(start.byte_offset - unit)
            around = self._source.read(2 * unit)  # the unit before the checkpoint, and one after unless at the end
            if len(around) < unit:
                raise ImportFailed("the checkpoint lies past the end of this file: not this file's")
            if len(around) > unit and around[:unit] not in (self._syntax.cr, self._syntax.lf):
                raise ImportFailed("the checkpoint does not fall at the start of a row: not this file's")
        return _Records(self._source, self._syntax, start.byte_offset, start.row_number, self._limits)

    def _read_rows(self, raw_records: Iterator[tuple[bytes, bool]]) -> Generator[Row]:
        records, codec, label = self._records, self._encoding.codec, self._encoding.label
        separator, width = self._separator, len(self.header)
        for raw, quoted in raw_records:
            error = None
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:  # reported; its values still name the row (contactId) in the report
                text, error = raw.decode(codec, "replace"), f"row is not valid {label} text"
            if quoted:
                try:
                    values = self._split(text, quoted)
                except csv.Error as exc:
                    yield Row(records.row_number, [], f"row cannot be read as CSV: {exc}")
                    continue
                if not any(value.strip() for value in values):
                    continue  # blank: its number is counted, it is no contact
            elif text.replace(separator, "").strip():
                values = text.split(separator)
            else:
                continue  # blank (also ",,,")
            if len(values) < width:
                values += [""] * (width - len(values))  # Excel leaves trailing empty cells out
            elif len(values) > width:
                if error is None and any(value.strip() for value in values[width:]):
                    error = (
                        f"row has {len(values)} cells but the header has {width}: "
                        f"a {_shown(separator)} inside a value that is not quoted?"
                    )
                del values[width:]
            yield Row(records.row_number, values, error)

    def _split(self, text: str, quoted: bool) -> list[str]:
        if not quoted:
            return text.split(self._separator)
        return next(csv.reader((text,), delimiter=self._separator, quotechar='"', doublequote=True, strict=False), [])


def _read_head(source: SeekableBinary, limits: ReadLimits) -> bytes:
    """The first chunk, extended until it holds a line break (a header longer than a chunk) or the file ends."""
    head = source.read(limits.chunk_bytes)
    while head and b"\n" not in head and b"\r" not in head and len(head) <= limits.max_row_bytes:
        more = source.read(limits.chunk_bytes)
        if not more:
            break
        head += more
    return head


def _refuse_binary(head: bytes) -> None:
    if head.startswith(ZIP_MAGIC):
        raise ImportFailed("declared csv but the file is a zip archive (an .xlsx?)")
    if head.startswith(OLE_MAGIC):
        raise ImportFailed(old_excel_message("csv"))
    if kind := sniff_binary_kind(head):
        raise ImportFailed(f"not a CSV or XLSX file: it looks like {kind}")


def _detect_separator(head: bytes, encoding: TextEncoding) -> str:
    """The separator that occurs most often outside quotes in the first non-blank line (comma when none does)."""
    text = head.decode(encoding.codec, "replace")
    line = next((line for line in text.splitlines() if line.strip()), "")
    unquoted = _QUOTED.sub("", line)
    counts = {separator: unquoted.count(separator) for separator in SEPARATORS}
    best = max(SEPARATORS, key=lambda separator: counts[separator])
    return best if counts[best] else ","


def _shown(separator: str) -> str:
    return "TAB" if separator == "\t" else f"'{separator}'"
