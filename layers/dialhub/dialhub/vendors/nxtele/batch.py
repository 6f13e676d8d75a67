"""An addBatchCall answer read back onto the contacts sent: taken, refused, or in doubt.

NXTele answers `totalCount`, `successCount` and `errList[{phone, errMsg}]` (an `orderID` in an entry is read
when there is one). Acceptance is never inferred from silence (A6, A20): a contact counts as accepted only
when every errList entry is matched to the contact it names and the counts add up. Otherwise the contacts
the answer does not account for become unconfirmed: never sent again, settled by the poller from NXTele's
results. A contact an entry clearly refuses stays refused.

phonenumbers is imported only when an entry has to be matched by its phone (as is dialhub.phones).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dialhub.observability import logger
from dialhub.phones import mask_phone
from dialhub.vendors.base import DialRequest, SubmitResult, vendor_count
from dialhub.vendors.nxtele.codes import EXISTING_ORDER_WORDS

VENDOR = "nxtele"


def settle_batch(
    answer: Mapping[str, Any], requests: Sequence[DialRequest], order_ids: Sequence[str], result: SubmitResult
) -> None:
    """Fill `result` from NXTele's answer to these requests (sent with these orderIDs, in this order)."""
    record_ids = {request.contact_id: oid for request, oid in zip(requests, order_ids, strict=True)}
    errors = answer.get("errList")
    if errors is None:
        errors = []
    result.accepted |= record_ids
    if not isinstance(errors, list):
        result.doubt("addBatchCall: errList is not a list", record_ids)
        return
    read = _read_errors(errors, requests, record_ids)
    for contact_id, reason in read.refused.items():
        result.accepted.pop(contact_id, None)
        result.rejected[contact_id] = reason
    if read.ambiguous:
        result.doubt(
            f"addBatchCall: {read.ambiguous_entries} errList entries name a phone shared by "
            f"{len(read.ambiguous)} contacts sent",
            {contact_id: record_ids[contact_id] for contact_id in read.ambiguous},
        )
    listed = set(read.refused) | read.retried | read.ambiguous
    unlisted = {contact_id: oid for contact_id, oid in record_ids.items() if contact_id not in listed}
    sent = len(record_ids)
    total = vendor_count(answer.get("totalCount"))
    success = vendor_count(answer.get("successCount"))
    # Every contact listed was not taken, a repeated order among them (an entry listed twice counts once)...
    least = sent - len(read.refused) - len(read.retried) - read.ambiguous_entries - read.unmatched
    most = least + len(read.retried)  # ...or a repeated order was counted as taken: either is consistent
    # What the answer does not account for: one reason is enough to doubt every contact it does not name.
    if read.unmatched:
        result.doubt(f"addBatchCall: {read.unmatched} errList entries match no contact sent", unlisted)
    elif answer.get("totalCount") is not None and total != sent:
        result.doubt(f"addBatchCall: totalCount {'unreadable' if total is None else total} for {sent} sent", unlisted)
    elif success is None:
        result.doubt("addBatchCall: no readable successCount", unlisted)
    elif success < least:
        result.doubt(
            f"addBatchCall: successCount {success} of {sent} sent with {len(errors)} listed in errList", unlisted
        )
    if success is not None and success > most and read.refused:
        # NXTele counts as taken some it lists as refused: they may be dialled, so they are not refused either.
        for contact_id in read.refused:
            result.rejected.pop(contact_id, None)
        result.doubt(
            f"addBatchCall: successCount {success} of {sent} sent although {len(errors)} listed in errList",
            {contact_id: record_ids[contact_id] for contact_id in read.refused},
        )


class _ReadErrors:
    """errList entries matched to contacts: refused (with why), repeats of an order NXTele holds (taken),
    contacts an entry could mean more than one of, and entries that mean none."""

    def __init__(self) -> None:
        self.refused: dict[str, str] = {}
        self.retried: set[str] = set()
        self.ambiguous: set[str] = set()
        self.ambiguous_entries = 0
        self.unmatched = 0


def _read_errors(errors: list[Any], requests: Sequence[DialRequest], record_ids: Mapping[str, str]) -> _ReadErrors:
    """By our orderID first; by the phone, read as E.164 either way it may be written, only without one."""
    by_order = {oid: contact_id for contact_id, oid in record_ids.items()}
    phones = _PhoneBook(requests)
    read = _ReadErrors()
    for error in errors:
        if not isinstance(error, dict):
            read.unmatched += 1
            continue
        message = str(error.get("errMsg") or "refused")
        contact_id = by_order.get(str(error.get("orderID") or ""))
        if contact_id is None:
            phone = str(error.get("phone") or "")
            candidates = [c for c in phones.named(phone) if c not in read.refused and c not in read.retried]
            if len(candidates) > 1:
                read.ambiguous.update(candidates)  # which of them is meant would be a guess
                read.ambiguous_entries += 1
                continue
            if not candidates:
                read.unmatched += 1
                logger.warning(
                    "nxtele errList entry matches no contact", extra={"phone": mask_phone(phone), "problem": message}
                )
                continue
            contact_id = candidates[0]
        if names_existing_order(message):
            read.retried.add(contact_id)  # NXTele holds this order already: a retry, the contact is in
            continue
        code = error.get("retCode")
        known = code not in (None, "")
        read.refused[contact_id] = (
            f"{VENDOR} error {code}: {message}" if known else f"{VENDOR} refused the contact: {message}"
        )
    read.ambiguous -= set(read.refused) | read.retried
    return read


def names_existing_order(message: str) -> bool:
    """An errMsg saying this orderID is already there: it names the order and says it is a repeat."""
    text = message.casefold()
    return all(any(word in text for word in words) for words in EXISTING_ORDER_WORDS)


class _PhoneBook:
    """The contacts sent, by their number in E.164 (what we send is its digits without '+')."""

    def __init__(self, requests: Sequence[DialRequest]) -> None:
        self._requests = requests
        self._by_number: dict[str, list[str]] | None = None
        self._regions: list[str] = []

    def named(self, phone: str) -> list[str]:
        """The contacts an errList phone may mean, in request order."""
        if not any(char.isdigit() for char in phone):
            return []
        by_number = self._index()
        found: list[str] = []
        for number in sorted(_readings(phone, self._regions)):
            found.extend(c for c in by_number.get(number, []) if c not in found)
        return found

    def _index(self) -> dict[str, list[str]]:
        if self._by_number is None:
            import phonenumbers

            self._by_number = {}
            for request in self._requests:
                number = "+" + "".join(char for char in request.phone if char.isdigit())
                self._by_number.setdefault(number, []).append(request.contact_id)
                try:
                    country = phonenumbers.parse(number, None).country_code
                except phonenumbers.NumberParseException:
                    continue
                region = phonenumbers.region_code_for_country_code(country or 0)
                if region not in self._regions and region != phonenumbers.UNKNOWN_REGION:
                    self._regions.append(region)
        return self._by_number


def _readings(phone: str, regions: list[str]) -> set[str]:
    """Every E.164 number the text may be: written with '+', as international digits without it (how we
    send it), after a 00 prefix, or nationally ("0917…") in the country of one of the numbers sent."""
    import phonenumbers

    text = phone.strip()
    digits = "".join(char for char in text if char.isdigit())
    if text.startswith("+"):
        return {f"+{digits}"}
    readings = set()
    if not digits.startswith("0"):
        readings.add(f"+{digits}")
    elif digits.startswith("00"):
        readings.add(f"+{digits[2:]}")
    for region in regions:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        readings.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return readings
