"""Contact lists from CSV and XLSX files: reading rows (streamed, resumable) and choosing their columns.

Pure file handling; the importer function adds S3, validation and storage around it.
"""

from dialhub.imports.columns import ChosenColumns, ColumnMapping, choose_columns, contact_fields, reported_contact_id
from dialhub.imports.reader import open_rows
from dialhub.imports.rows import Checkpoint, ImportFailed, ReadLimits, Row, RowReader, SeekableBinary

__all__ = [
    "Checkpoint",
    "ChosenColumns",
    "ColumnMapping",
    "ImportFailed",
    "ReadLimits",
    "Row",
    "RowReader",
    "SeekableBinary",
    "choose_columns",
    "contact_fields",
    "open_rows",
    "reported_contact_id",
]
