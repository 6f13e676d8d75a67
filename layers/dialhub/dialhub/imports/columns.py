"""Which column of a file is which contact field: named by the analyst's mapping, or recognised by its header.

The contact it builds has the API's JSON shape, so a row goes through the same validation as a contact posted to
the API (dialhub.campaigns.ContactIn).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dialhub.imports.rows import ImportFailed, Row, join_names

MAX_VARIABLES = 50  # ContactIn.variables' max_length: more variable columns would reject every row
FIELDS = ("contactId", "phone", "name", "timezone")
_DESCRIBED_ONLY = ("contactIdFromRowNumber", "ignored")  # keys of describe() that are not a mapping's
_NOT_IN_KEY = re.compile(r"[\s_\-.]+")


def header_key(name: str) -> str:
    """A header as compared for recognition: case, spaces, underscores, dashes and dots ignored."""
    return _NOT_IN_KEY.sub("", name).casefold()


def _keys(*names: str) -> frozenset[str]:
    return frozenset(header_key(name) for name in names)


# Headers as loan systems and spreadsheets name them: English, Indonesian, Chinese. Disjoint sets.
# fmt: off
RECOGNISED = {
    "phone": _keys(
        "phone", "mobile", "msisdn", "cellphone", "cell phone number", "phone_number", "phone no", "mobile_number",
        "mobile no", "mobile phone", "telephone", "tel", "contact number", "handphone", "hp", "no_hp",
        "no handphone", "nomor_hp", "nomor handphone", "nomor_telepon", "no telepon", "no telp", "telepon",
        "手机号", "手机", "手机号码", "电话", "电话号码", "联系电话", "移动电话",
    ),
    "contactId": _keys(
        "contact_id", "id", "loan_id", "customer_id", "account_id", "account_no", "loan_no", "customer_no",
        "contract_no", "contract_id", "id pinjaman", "no pinjaman", "id pelanggan",
        "客户编号", "贷款编号", "合同号", "合同编号",
    ),
    "name": _keys(
        "name", "full_name", "customer_name", "nama", "nama lengkap", "nama nasabah", "姓名", "客户姓名", "客户名称",
    ),
    "timezone": _keys("timezone", "tz", "time_zone", "zona waktu", "时区"),
}
# fmt: on


@dataclass(frozen=True)
class ColumnMapping:
    """The analyst's choice of columns, by header. A field left None is recognised from the headers; `variables`
    None means every column not used for a field, named by its header; a list names the columns (a variable
    named by each header); a dict maps header to variable name."""

    contact_id: str | None = None
    phone: str | None = None
    name: str | None = None
    timezone: str | None = None
    variables: Sequence[str] | Mapping[str, str] | None = None

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> ColumnMapping:
        """From the request's `columns` JSON (the API's camelCase; `chosenColumns` from an earlier import too)."""
        unknown = sorted(set(data) - {*FIELDS, "variables", *_DESCRIBED_ONLY})
        if unknown:
            raise ImportFailed(
                f"unknown key '{unknown[0]}' in the column mapping: expected contactId, phone, name, timezone, "
                "variables"
            )
        fields: dict[str, str | None] = {}
        for field in FIELDS:
            value = data.get(field)
            if value is not None and not (isinstance(value, str) and value.strip()):
                raise ImportFailed(f"the column mapping's {field} must be a header name")
            fields[field] = value
        variables = data.get("variables")
        if variables is not None:
            if isinstance(variables, Mapping):
                pairs = list(variables.items())
            elif isinstance(variables, list):
                pairs = [(header, header) for header in variables]
            else:
                raise ImportFailed("the column mapping's variables must be a list of headers or header: name pairs")
            if not all(isinstance(key, str) and isinstance(value, str) for key, value in pairs):
                raise ImportFailed("the column mapping's variables must be headers (text) and names (text)")
            variables = dict(variables) if isinstance(variables, Mapping) else list(variables)
        return cls(fields["contactId"], fields["phone"], fields["name"], fields["timezone"], variables)


@dataclass(frozen=True)
class ChosenColumns:
    """The columns an import reads, by index into the header. `contact_id` None: each contact's id is its row
    number (`row-<n>`), which the import reports."""

    header: tuple[str, ...]
    phone: int
    contact_id: int | None
    name: int | None
    timezone: int | None
    variables: tuple[tuple[str, int], ...]  # (variable name, column index)

    @property
    def contact_id_from_row_number(self) -> bool:
        return self.contact_id is None

    def ignored(self) -> list[str]:
        """Columns not read at all, so the analyst can see data that will not reach the bot."""
        used = {self.phone, self.contact_id, self.name, self.timezone, *(index for _, index in self.variables)}
        return [
            name or f"(column {index + 1}, no header)" for index, name in enumerate(self.header) if index not in used
        ]

    def describe(self) -> dict[str, Any]:
        """JSON for the import's `chosenColumns` (and, sent back as `columns`, the same choice again)."""

        def named(index: int | None) -> str | None:
            return None if index is None else self.header[index]

        return {
            "contactId": named(self.contact_id),
            "contactIdFromRowNumber": self.contact_id_from_row_number,
            "phone": self.header[self.phone],
            "name": named(self.name),
            "timezone": named(self.timezone),
            "variables": {self.header[index]: variable for variable, index in self.variables},
            "ignored": self.ignored(),
        }


class _Headers:
    """Finds columns by name (exactly, else by header_key when only one matches) and by recognition."""

    def __init__(self, header: Sequence[str]) -> None:
        self.names = [name.strip() for name in header]
        self._keys = [header_key(name) for name in self.names]

    def named(self, wanted: str) -> int:
        wanted = wanted.strip()
        exact = [index for index, name in enumerate(self.names) if name == wanted]
        if len(exact) == 1:
            return exact[0]
        if exact:
            raise ImportFailed(f"duplicate header '{wanted}': rename one of the columns")
        key = header_key(wanted)
        similar = [index for index, name_key in enumerate(self._keys) if key and name_key == key]
        if len(similar) == 1:
            return similar[0]
        if similar:
            raise ImportFailed(
                f"'{wanted}' could be any of the headers {join_names([self.names[i] for i in similar])}: "
                "name it exactly"
            )
        raise ImportFailed(f"no column named '{wanted}': the headers are {join_names(self.names)}")

    def recognised(self, field: str) -> int | None:
        for index, key in enumerate(self._keys):
            if key in RECOGNISED[field]:
                self.refuse_duplicate(index)
                return index  # the leftmost: predictable, and the import says which it chose
        return None

    def refuse_duplicate(self, index: int) -> None:
        name = self.names[index]
        if self.names.count(name) > 1:
            raise ImportFailed(f"duplicate header '{name}': rename one of the columns")


def choose_columns(header: Sequence[str], mapping: ColumnMapping | None = None) -> ChosenColumns:
    """The columns to read for each contact field, or ImportFailed saying why the file cannot give contacts."""
    mapping = mapping or ColumnMapping()
    headers = _Headers(header)
    named = {
        "contactId": mapping.contact_id,
        "phone": mapping.phone,
        "name": mapping.name,
        "timezone": mapping.timezone,
    }
    chosen = {
        field: headers.named(wanted) if wanted is not None else headers.recognised(field)
        for field, wanted in named.items()
    }
    phone = chosen["phone"]
    if phone is None:
        raise ImportFailed(
            f"no phone column: the headers are {join_names(headers.names)}; name the phone column in the column mapping"
        )
    variables = _variables(headers, mapping.variables, {index for index in chosen.values() if index is not None})
    return ChosenColumns(
        tuple(headers.names), phone, chosen["contactId"], chosen["name"], chosen["timezone"], tuple(variables)
    )


def _variables(
    headers: _Headers, wanted: Sequence[str] | Mapping[str, str] | None, fields: set[int]
) -> list[tuple[str, int]]:
    if isinstance(wanted, str):
        wanted = [wanted]  # one header given where a list was meant
    if wanted is None:  # every other column with a header, named by it
        found = [(name, index) for index, name in enumerate(headers.names) if name and index not in fields]
        for _, index in found:
            headers.refuse_duplicate(index)
    elif isinstance(wanted, Mapping):
        found = [(str(variable).strip(), headers.named(column)) for column, variable in wanted.items()]
    else:
        found = [(headers.names[index], index) for index in (headers.named(column) for column in wanted)]
    seen: set[str] = set()
    for variable, _ in found:
        if not variable:
            raise ImportFailed("a variable in the column mapping has an empty name")
        if variable in seen:
            raise ImportFailed(f"two columns would become the variable '{variable}'")
        seen.add(variable)
    if len(found) > MAX_VARIABLES:
        raise ImportFailed(
            f"{len(found)} columns would become variables, more than the {MAX_VARIABLES} a contact can carry: "
            "list the variables wanted in the column mapping"
        )
    return found


def reported_contact_id(row: Row, chosen: ChosenColumns) -> str | None:
    """The contactId that names the row in a rejection report, also when the row could not be read: its id
    cell (None when empty), or `row-<n>` when the file has no id column."""
    if chosen.contact_id is None:
        return f"row-{row.number}"
    cells = row.values
    return (cells[chosen.contact_id].strip() if chosen.contact_id < len(cells) else "") or None


def contact_fields(row: Row, chosen: ChosenColumns) -> dict[str, Any]:
    """The row as the API's contact JSON ({"contactId", "phone", "name", "timezone", "variables"}), texts trimmed,
    empty cells left out, for the contact validation to accept or reject with its reason."""
    if row.error is not None:
        raise ValueError(f"row {row.number} could not be read ({row.error}): it has no contact")
    cells = row.values

    def text(index: int | None) -> str:
        return cells[index].strip() if index is not None and index < len(cells) else ""

    contact: dict[str, Any] = {}
    for field, value in (
        ("contactId", reported_contact_id(row, chosen)),
        ("phone", text(chosen.phone)),
        ("name", text(chosen.name)),
        ("timezone", text(chosen.timezone)),
    ):
        if value:
            contact[field] = value
    contact["variables"] = {variable: value for variable, index in chosen.variables if (value := text(index))}
    return contact
