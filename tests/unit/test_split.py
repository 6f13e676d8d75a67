"""A split campaign's vendor per contact: the same whenever asked, untouched by contacts added later, and
within a few points of the asked shares on a large list."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialhub.models import Campaign, VendorShare
from dialhub.split import assign

SHARES = [("blu", 60), ("nxtele", 25), ("airudder", 15)]


@settings(max_examples=40, deadline=None)
@given(
    campaign=st.text(min_size=1, max_size=20),
    weights=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=5),
)
def test_each_vendor_gets_its_share_within_three_points_on_ten_thousand_contacts(
    campaign: str, weights: list[int]
) -> None:
    shares = [(f"v{index}", weight) for index, weight in enumerate(weights)]
    got = Counter(assign(campaign, f"loan-{n}", shares) for n in range(10_000))
    total = sum(weights)
    for vendor, weight in shares:
        assert abs(got[vendor] / 10_000 - weight / total) < 0.03, (vendor, got, shares)


def test_the_assignment_is_the_same_every_time_and_unmoved_by_contacts_added_later() -> None:
    first = {f"c{n}": assign("cmp_1", f"c{n}", SHARES) for n in range(1_000)}
    later = {f"c{n}": assign("cmp_1", f"c{n}", SHARES) for n in range(2_000)}  # a file added 1,000 more
    assert {contact: later[contact] for contact in first} == first
    assert len(set(first.values())) == 3


def test_another_campaign_splits_the_same_contacts_differently() -> None:
    one = [assign("cmp_1", f"c{n}", SHARES) for n in range(1_000)]
    other = [assign("cmp_2", f"c{n}", SHARES) for n in range(1_000)]
    assert sum(a != b for a, b in zip(one, other, strict=True)) > 200


def test_a_single_vendor_takes_everything_and_a_split_without_a_positive_share_is_refused() -> None:
    assert {assign("cmp", f"c{n}", [("blu", 1)]) for n in range(100)} == {"blu"}
    with pytest.raises(ValueError, match="positive share"):
        assign("cmp", "c1", [("blu", 100), ("airudder", 0)])
    with pytest.raises(ValueError, match="at least one vendor"):
        assign("cmp", "c1", [])


def test_each_vendor_of_a_campaign_sees_its_own_options_and_the_campaign_as_its_own() -> None:
    campaign = Campaign(
        campaign_id="cmp_1",
        name="n",
        vendor="blu",
        vendor_options={"botId": 7},
        vendors=[
            VendorShare(vendor="blu", share=70, vendor_options={"botId": 7}),
            VendorShare(vendor="nxtele", share=30, vendor_options={"sceneID": "s"}),
            VendorShare(vendor="airudder", share=0, vendor_options={"voiceId": "v"}),
        ],
        dial_date=dt.date(2026, 11, 25),
        timezone="Asia/Manila",
        created_at=dt.datetime(2026, 11, 25, tzinfo=dt.UTC),
    )
    assert [campaign.options_of(vendor) for vendor in ("blu", "nxtele", "airudder")] == [
        {"botId": 7},
        {"sceneID": "s"},
        {"voiceId": "v"},
    ]
    assert campaign.for_vendor("blu") is campaign
    fallback = campaign.for_vendor("airudder")
    assert (fallback.vendor, fallback.vendor_options, fallback.campaign_id) == ("airudder", {"voiceId": "v"}, "cmp_1")
    with pytest.raises(ValueError, match="stranger is not a vendor of campaign cmp_1"):
        campaign.options_of("stranger")
