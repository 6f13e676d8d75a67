"""Each vendor account's daily cap (`dailyCap` in its secret), shared by every campaign's planning.

Planning takes the cap a block at a time from a count per vendor and account-local day, so a run of 100,000
contacts costs one conditional write per block, not per contact; what a run took and did not plan is given
back at its end. A contact planned counts against the cap whether or not it is sent in the end: the cap is
never exceeded, at the price of sometimes sending a little less.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from dialhub.store import Store
from dialhub.vendors import Adapters

CAPACITY_HOLD = "vendor_capacity"  # the hold reason of a contact waiting for its vendor's next day


class DailyCaps:
    def __init__(self, store: Store, adapters: Adapters, block: Callable[[str], int]) -> None:
        self._store = store
        self._adapters = adapters
        self._block = block  # how much to take at a time for a vendor: its batch size
        self._caps: dict[str, tuple[int, dt.date] | None] = {}
        self._left: dict[str, int] = {}

    def _cap(self, vendor: str) -> tuple[int, dt.date] | None:
        if vendor not in self._caps:
            cap = self._adapters.terms(vendor).get("dailyCap")
            if isinstance(cap, int) and not isinstance(cap, bool) and cap >= 0:
                self._caps[vendor] = (cap, self._adapters.get(vendor).today())
            else:
                self._caps[vendor] = None
            self._left[vendor] = 0
        return self._caps[vendor]

    def allows(self, vendor: str) -> bool:
        """One more contact for the vendor today, taken from its cap (always, for a vendor without one)."""
        found = self._cap(vendor)
        if found is None:
            return True
        cap, day = found
        if not self._left[vendor]:
            self._left[vendor] = self._store.take_capacity(vendor, day, self._block(vendor), cap)
            if not self._left[vendor]:
                return False
        self._left[vendor] -= 1
        return True

    def cap_of(self, vendor: str) -> int:
        """The cap of a vendor that has one (planning asks only about contacts a cap turned away)."""
        found = self._cap(vendor)
        assert found is not None
        return found[0]

    def next_day_starts(self, vendor: str) -> dt.datetime:
        """When the vendor's account-local day after this one begins, in UTC: a held contact waits for it."""
        found = self._cap(vendor)
        assert found is not None
        return self._adapters.get(vendor).day_starts(found[1] + dt.timedelta(days=1))

    def give_back(self) -> None:
        """What was taken and not planned, once, at the end of the planning run."""
        for vendor, left in self._left.items():
            found = self._caps[vendor]
            if left and found is not None:
                self._store.give_back_capacity(vendor, found[1], left)
