"""What a request to Blu is made of: the account secret, a campaign's options, and the request signature."""

from __future__ import annotations

import hashlib

from pydantic import Field, SecretStr, field_validator

from dialhub.models import IanaZone, WireModel
from dialhub.vendors.base import IpAllowlist
from dialhub.vendors.blu.codes import PAGE_SIZE_LIMIT


class BluAccount(WireModel):
    """The Blu account secret: credentials, where to reach Blu, and how Blu reaches us."""

    app_id: str = Field(min_length=1)
    app_key: SecretStr
    base_url: str = "https://bluapi.shanghu.ai"
    webhook_token: SecretStr
    timezone: IanaZone = "Asia/Manila"
    ip_allowlist: IpAllowlist = Field(default_factory=list)
    page_size: int = Field(default=PAGE_SIZE_LIMIT, ge=1, le=PAGE_SIZE_LIMIT)

    @field_validator("webhook_token")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("webhookToken must be at least 16 characters")
        return value


class BluOptions(WireModel):
    """Campaign settings Blu needs to create a task."""

    bot_id: int | str = Field(description="Blu bot (script) that makes the calls")
    strategy_id: int | str | None = Field(default=None, description="Blu dialling strategy, if not the bot's")


def sign(app_id: str, app_key: str, timestamp_ms: str) -> str:
    """Blu's request signature: lowercase hex sha256 over appId + appKey + timeStamp, no separators."""
    return hashlib.sha256(f"{app_id}{app_key}{timestamp_ms}".encode()).hexdigest()
