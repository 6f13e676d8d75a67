"""Vendor accounts and webhook secrets, read from Secrets Manager through Powertools (cached per container)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters

from dialhub.settings import get_settings


def vendor_account(vendor: str, *, force_fetch: bool = False) -> dict[str, Any]:
    """The vendor's account secret (JSON object) named `<VENDOR_SECRET_PREFIX><vendor>`."""
    settings = get_settings()
    value = parameters.get_secret(
        f"{settings.vendor_secret_prefix}{vendor}",
        transform="json",
        max_age=settings.parameters_max_age,
        force_fetch=force_fetch,
    )
    if not isinstance(value, dict):
        raise ValueError(f"secret of vendor {vendor} is not a JSON object")
    return value
