"""Which vendor of a split campaign a contact goes to: decided by a hash of (campaign, contact) alone.

The same contact lands with the same vendor whenever it is asked (a replanned batch, a redial, an import
read twice), contacts added later do not move the ones already assigned, and over a large list each
vendor's share comes out within a few percent of what the campaign asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

_SPAN = 2**64


def assign(campaign_id: str, contact_id: str, shares: Sequence[tuple[str, int]]) -> str:
    """The vendor, from (vendor, share) pairs in the campaign's order; shares are positive weights."""
    if not shares or any(share <= 0 for _, share in shares):
        raise ValueError("a split needs at least one vendor, each with a positive share")
    digest = hashlib.sha256(f"{campaign_id}\x1f{contact_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") * sum(share for _, share in shares) // _SPAN
    for vendor, share in shares[:-1]:
        if point < share:
            return vendor
        point -= share
    return shares[-1][0]
