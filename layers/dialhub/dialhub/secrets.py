"""Vendor accounts and webhook secrets, read from Secrets Manager through Powertools (cached per container)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters

from dialhub.settings import get_settings


def vendor_account(vendor: str, *, force_fetch: bool = False) -> dict[str, Any]:
    """The vendor's account secret (JSON object) named `<VENDOR_SECRET_PREFIX><vendor>`."""
    settings = get_settings()
    secret_id = f"{settings.vendor_secret_prefix}{vendor}"
    return account_secret(
        secret_id, max_age=settings.parameters_max_age, force_fetch=force_fetch, named=f"secret of vendor {vendor}"
    )


def account_secret(
    secret_id: str, *, max_age: int = 0, force_fetch: bool = True, named: str | None = None
) -> dict[str, Any]:
    """An account secret by its name or ARN (the contract check reads one outside any function)."""
    value = parameters.get_secret(secret_id, transform="json", max_age=max_age, force_fetch=force_fetch)
    if not isinstance(value, dict):
        raise ValueError(f"{named or f'secret {secret_id}'} is not a JSON object")
    return value
