"""Compliance policies by name: the shipped presets, or policies stored through the API."""

from __future__ import annotations

from dialhub.compliance import PRESETS, Policy
from dialhub.errors import Conflict, InvalidField, NotFound
from dialhub.models import Campaign
from dialhub.store import Store


def find_policy(store: Store, name: str) -> Policy | None:
    return PRESETS.get(name) or store.get_policy(name)


def campaign_policy(store: Store, campaign: Campaign) -> Policy | None:
    """The policy a campaign names, if any (checked to exist when the campaign was created)."""
    return find_policy(store, campaign.policy) if campaign.policy else None


def require_policy(store: Store, name: str) -> Policy:
    policy = find_policy(store, name)
    if policy is None:
        raise NotFound(f"policy {name}")
    return policy


def save_policy(store: Store, name: str, policy: Policy) -> Policy:
    if name in PRESETS:
        raise Conflict(f"{name} is a preset; store your variant under another name")
    if policy.name != name:
        raise InvalidField("name", "must match the name in the path")
    store.put_policy(policy)
    return policy
