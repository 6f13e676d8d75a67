"""XLSX worksheets, streamed with openpyxl's read-only mode after the zip has been checked against bombs.

openpyxl is imported here only, when an XLSX file is read: it is heavy, and only the importer function needs it
(it is not in the layer's requirements).
"""

from __future__ import annotations

import datetime as dt
import warnings
import zipfile
from collections.abc import Generator, Iterator
from typing import IO, TYPE_CHECKING, cast
from xml.etree.ElementTree import ParseError

from dialhub.imports.rows import (
    OLE_MAGIC,
    ZIP_MAGIC,
    Checkpoint,
    ImportFailed,
    ReadLimits,
    Row,
    RowReader,
    SeekableBinary,
    join_names,
    old_excel_message,
    size_text,
    sniff_binary_kind,
)

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet
    from openpyxl.worksheet.worksheet import Worksheet

SHARED_STRINGS = "sharedstrings.xml"  # the table of texts, xl/sharedStrings.xml as Excel names it
_EXACT_DIGITS = 10**15  # Excel keeps 15 significant digits: whole numbers below this are exact


def check_archive(source: SeekableBinary, limits: ReadLimits) -> None:
    """Refuse what is not an .xlsx, and a zip that would expand past the limits, from the zip's directory alone
    (nothing is decompressed). The sizes it declares are binding: Python's zipfile stops a member at its declared
    size, and openpyxl reads through it."""
    source.seek(0)
    head = source.read(8)
    if not head:
        raise ImportFailed("the file is empty")
    if not head.startswith(ZIP_MAGIC):
        if head.startswith(OLE_MAGIC):
            raise ImportFailed(old_excel_message("xlsx"))
        if kind := sniff_binary_kind(head):
            raise ImportFailed(f"not a CSV or XLSX file: it looks like {kind}")
        raise ImportFailed("declared xlsx but the file is not a zip archive (a CSV?)")
    source.seek(0)
    try:
        with zipfile.ZipFile(cast(IO[bytes], source)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ImportFailed("the .xlsx cannot be opened as a zip archive: damaged or cut short?") from None
    if len(members) > limits.max_archive_members:
        raise ImportFailed(
            f"the .xlsx holds {len(members)} parts, more than {limits.max_archive_members}: not a plain workbook"
        )
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        if "xl/workbook.bin" in names:
            raise ImportFailed("the file is an Excel binary workbook (.xlsb): save it as .xlsx or CSV")
        if "mimetype" in names and "content.xml" in names:
            raise ImportFailed("the file is an OpenDocument spreadsheet (.ods): save it as .xlsx or CSV")
        raise ImportFailed("declared xlsx but the file is a zip archive without an Excel workbook in it")
    total = sum(member.file_size for member in members)
    if total > limits.max_uncompressed_bytes:
        raise ImportFailed(
            f"the .xlsx expands to more than {size_text(limits.max_uncompressed_bytes)} (a compressed bomb?): "
            "split it, or save it as CSV"
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > limits.ratio_checked_above_bytes and ratio > limits.max_compression_ratio:
            raise ImportFailed(
                f"the .xlsx holds a part that expands {ratio:.0f} times, to {size_text(member.file_size)} "
                "(a compressed bomb?)"
            )
        shared_strings = member.filename.lower().endswith(SHARED_STRINGS)
        if shared_strings and member.file_size > limits.max_shared_strings_bytes:
            raise ImportFailed(
                f"the .xlsx's table of texts is {size_text(member.file_size)}, more than the "
                f"{size_text(limits.max_shared_strings_bytes)} an import holds in memory: save the sheet as CSV"
            )


def cell_text(value: object) -> str:
    """A cell as the analyst sees it in Excel: whole numbers without ".0" or an exponent (a phone stored as a
    number stays its digits), dates as ISO dates, booleans as TRUE/FALSE, an empty cell as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _EXACT_DIGITS:
            return str(int(value))
        return format(value, ".15g")  # 15 significant digits, as Excel shows them (0.1 + 0.2 reads 0.3)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time() and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(timespec="seconds" if not value.microsecond else "auto")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


class XlsxRowReader(RowReader):
    """Rows of one worksheet. Row numbers are the sheet's; a checkpoint is the last row number read, and resuming
    parses (without yielding) the rows before it."""

    def __init__(
        self, source: SeekableBinary, *, sheet: str | None, start: Checkpoint | None, limits: ReadLimits
    ) -> None:
        check_archive(source, limits)
        self.encoding = self.separator = None
        self._row_number = 0
        self._workbook = _load(source)
        try:
            worksheet = _pick_sheet(self._workbook, sheet)
            worksheet.reset_dimensions()  # some writers record a wrong used range: read what is there
            self.sheet = worksheet.title
            cells = self._guarded(_values(worksheet, 1))  # one iterator: closing a wrapper would close the parser
            self.header, self.header_row = _read_header(cells, limits)
            self._row_number = self.header_row
            if start is not None and start.row_number > self.header_row:
                self._row_number = start.row_number
                cells = self._guarded(_values(worksheet, start.row_number + 1))
            self._rows = self._read_rows(cells)
        except BaseException:
            self._workbook.close()
            raise

    def __iter__(self) -> Iterator[Row]:
        return self._rows

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(0, self._row_number)

    def close(self) -> None:
        self._rows.close()
        self._workbook.close()

    def _guarded(self, cells: Iterator[tuple[object, ...]]) -> Iterator[tuple[object, ...]]:
        """The rows, a damaged part of the file (bad XML, a part longer than its zip entry says) as ImportFailed."""
        try:
            yield from cells
        except (zipfile.BadZipFile, ParseError, EOFError, KeyError, ValueError, TypeError) as exc:
            where = f" after row {self._row_number}" if self._row_number else ""
            raise ImportFailed(f"the sheet cannot be read{where}: a damaged .xlsx? ({exc})") from None

    def _read_rows(self, cells: Iterator[tuple[object, ...]]) -> Generator[Row]:
        width = len(self.header)
        for found in cells:
            self._row_number += 1
            values = [cell_text(value) for value in found[:width]]
            if not any(value.strip() for value in values):
                continue  # blank: its number is kept, no contact
            values += [""] * (width - len(values))
            yield Row(self._row_number, values)


def _load(source: SeekableBinary) -> Workbook:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    source.seek(0)
    try:
        with warnings.catch_warnings():  # e.g. "no default style": nothing the analyst can act on
            warnings.simplefilter("ignore")
            return load_workbook(cast(IO[bytes], source), read_only=True, data_only=True, keep_links=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, ParseError, OSError) as exc:
        raise ImportFailed(f"the .xlsx cannot be read as an Excel workbook ({type(exc).__name__})") from None


def _pick_sheet(workbook: Workbook, sheet: str | None) -> ReadOnlyWorksheet:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    sheets = [found for found in workbook.worksheets if isinstance(found, ReadOnlyWorksheet)]
    if not sheets:
        raise ImportFailed("the workbook has no worksheet")
    if sheet is None:
        return sheets[0]
    wanted = sheet.strip().casefold()  # Excel's sheet names are unique whatever their case
    for found in sheets:
        if found.title.strip().casefold() == wanted:
            return found
    raise ImportFailed(f"no sheet named '{sheet}': the sheets are {join_names([found.title for found in sheets])}")


def _values(worksheet: ReadOnlyWorksheet, first_row: int) -> Iterator[tuple[object, ...]]:
    """Cell values of each row from `first_row` on, one tuple per row number (a row missing from the XML is ())."""
    # ReadOnlyWorksheet borrows Worksheet.iter_rows, which its type stubs declare for Worksheet only.
    return cast("Worksheet", worksheet).iter_rows(min_row=first_row, values_only=True)


def _read_header(cells: Iterator[tuple[object, ...]], limits: ReadLimits) -> tuple[list[str], int]:
    for number, found in enumerate(cells, start=1):
        header = [cell_text(value).strip() for value in found]
        while header and not header[-1]:
            header.pop()  # cells formatted but empty on the right
        if header:
            if len(header) > limits.max_columns:
                raise ImportFailed(
                    f"the header has {len(header)} columns, more than {limits.max_columns}: is this a contact list?"
                )
            return header, number
    raise ImportFailed("no header row: the sheet is empty")
