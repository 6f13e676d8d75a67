"""Open a contact file (CSV or XLSX) as rows, streamed, from the start or from a checkpoint.

Nothing here touches AWS: the source is any seekable binary file (Powertools' S3Object in the importer).
"""

from __future__ import annotations

from dialhub.imports.delimited import CsvRowReader
from dialhub.imports.rows import DEFAULT_LIMITS, Checkpoint, ImportFailed, ReadLimits, RowReader, SeekableBinary

FORMATS = ("csv", "xlsx")


def open_rows(
    source: SeekableBinary,
    kind: str,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    start: Checkpoint | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> RowReader:
    """Rows of `source` as declared: `kind` "csv" (with `encoding` when it is neither UTF-8 nor marked by a BOM)
    or "xlsx" (the first worksheet, or `sheet`). Reads the header at once, so a file that cannot be imported
    fails here with ImportFailed; `start` resumes after the checkpoint's row."""
    declared = kind.strip().lower()
    if declared == "csv":
        return CsvRowReader(source, encoding=encoding, start=start, limits=limits)
    if declared == "xlsx":
        from dialhub.imports.workbook import XlsxRowReader  # loads openpyxl only when it is needed

        return XlsxRowReader(source, sheet=sheet, start=start, limits=limits)
    raise ImportFailed(f"not a CSV or XLSX file: the format '{kind}' is not one of {', '.join(FORMATS)}")
