"""Compliance policies by name: the shipped presets, or policies stored through the API."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import TypeVar

from dialhub.compliance import PRESET_NAMES, Policy, preset
from dialhub.errors import Conflict, InvalidField, NotFound
from dialhub.models import Campaign
from dialhub.store import Store

# How long a container trusts what it read: a policy edited through the API reaches callbacks within this.
CACHE_SECONDS = 60.0
_T = TypeVar("_T")


def find_policy(store: Store, name: str) -> Policy | None:
    return preset(name) or store.get_policy(name)


def campaign_policy(store: Store, campaign: Campaign) -> Policy | None:
    """The policy a campaign names, if any (checked to exist when the campaign was created)."""
    return find_policy(store, campaign.policy) if campaign.policy else None


def require_policy(store: Store, name: str) -> Policy:
    policy = find_policy(store, name)
    if policy is None:
        raise NotFound(f"policy {name}")
    return policy


def save_policy(store: Store, name: str, policy: Policy) -> Policy:
    if name in PRESET_NAMES:
        raise Conflict(f"{name} is a preset; store your variant under another name")
    if policy.name != name:
        raise InvalidField("name", "must match the name in the path")
    store.put_policy(policy)
    return policy


class CampaignPolicies:
    """Each campaign with its policy, for the outcome path: read once a minute per container, not once per
    callback, since every closing call needs the policy's redial rule."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._clock = clock
        self._campaigns: dict[str, tuple[float, Campaign | None]] = {}
        self._policies: dict[str, tuple[float, Policy | None]] = {}

    def get(self, campaign_id: str) -> tuple[Campaign, Policy | None] | None:
        campaign = self._cached(self._campaigns, campaign_id, self._store.get_campaign)
        if campaign is None:
            return None
        policy = (
            self._cached(self._policies, campaign.policy, lambda name: find_policy(self._store, name))
            if campaign.policy
            else None
        )
        return campaign, policy

    def _cached(self, cache: dict[str, tuple[float, _T]], key: str, read: Callable[[str], _T]) -> _T:
        now = self._clock()
        if (entry := cache.get(key)) is not None and now - entry[0] < CACHE_SECONDS:
            return entry[1]
        value = read(key)
        cache[key] = (now, value)
        return value


_per_store: weakref.WeakKeyDictionary[Store, CampaignPolicies] = weakref.WeakKeyDictionary()


def campaign_policies(store: Store) -> CampaignPolicies:
    """The cache that belongs to this store (one per container in Lambda, one per test's store)."""
    if (policies := _per_store.get(store)) is None:
        policies = _per_store[store] = CampaignPolicies(store)
    return policies
