"""What each contact adds to its campaign's counts, and that a change adds exactly new minus old."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dialhub.store.counting import add_up, change, contributions, counts_from, totals_of

STATES = ["queued", "planned", "submitting", "submitted", "final", "cancelled", "failed"]
contact = st.fixed_dictionaries(
    {"state": st.sampled_from(STATES)},
    optional={
        "disposition": st.sampled_from(["promise_to_pay", "opt_out", "not_connected"]),
        "lastCallVendor": st.sampled_from(["blu", "nxtele"]),
        "hold": st.fixed_dictionaries({"reason": st.sampled_from(["suppressed", "quiet_period"])}),
    },
)


def test_a_contact_counts_by_state_disposition_vendor_and_hold() -> None:
    queued = {"state": "queued", "hold": {"reason": "suppressed"}}
    closed = {"state": "final", "disposition": "opt_out", "lastCallVendor": "blu", "hold": {"reason": "x"}}
    assert contributions(queued) == {"total": 1, "state.queued": 1, "held.suppressed": 1}
    assert contributions(closed) == {
        "total": 1,
        "state.final": 1,
        "disposition.opt_out": 1,
        "vendor.blu.opt_out": 1,
    }  # a hold counts only while the contact is queued
    assert change(queued, closed) == {
        "state.queued": -1,
        "held.suppressed": -1,
        "state.final": 1,
        "disposition.opt_out": 1,
        "vendor.blu.opt_out": 1,
    }
    assert change(None, queued) == contributions(queued) and change(closed, None) == dict.fromkeys(
        contributions(closed), -1
    )


@given(st.lists(st.tuples(contact, contact), max_size=30))
def test_changes_added_up_give_the_recount_of_where_contacts_end(moves: list[tuple[Any, Any]]) -> None:
    totals: dict[str, int] = add_up({}, [before for before, _ in moves])
    for before, after in moves:
        for name, count in change(before, after).items():
            totals[name] = totals.get(name, 0) + count
    assert counts_from(totals) == counts_from(add_up({}, [after for _, after in moves]))
    recount = counts_from(add_up({}, [after for _, after in moves]))
    assert counts_from(totals_of(recount)) == recount
