"""Environment as a validated model, read once per cold start so a misconfiguration fails loudly and early."""

from __future__ import annotations

import os
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, field_validator


class MissingSetting(RuntimeError):
    """A function started without a variable it cannot work without: raised by its import, at cold start."""


class Settings(BaseModel):
    table_name: str = Field(min_length=1)
    # What only some functions use is None where it is not set; each function requires its own (`require`).
    dispatch_queue_url: str | None = Field(default=None, min_length=1)
    dispatch_dead_letter_arn: str | None = Field(default=None, min_length=1)  # where the API re-drives from
    vendor_secret_prefix: str = "dialhub/dev/vendors/"  # noqa: S105 - a name, not a secret
    default_phone_region: str = Field(default="PH", pattern=r"^[A-Z]{2}$")
    default_timezone: str = "Asia/Manila"
    # What Blu's pre-dial verification answers when the store cannot be read: dial (open) or not (closed).
    predial_fail_open: bool = False
    outcome_retention_days: int = Field(default=400, ge=1)
    raw_payload_retention_days: int = Field(default=30, ge=1)
    # A vendor task stops being polled this many days after its dial date, whatever is still missing.
    poll_horizon_days: int = Field(default=2, ge=1, le=45)
    # A contact still claimed this long after its claim was given up by its dispatch message (longer than the
    # dispatch queue goes on delivering it: the template checks); the poller's sweep settles it.
    stuck_claim_minutes: int = Field(default=360, ge=1)
    parameters_max_age: int = Field(default=300, ge=0)
    # The outcome feed serves an outcome once it is this old: longer than any outcome write can take to commit
    # and reach the feed's index (store/table.py bounds a write's attempts), so a reader never passes one on its way.
    outcome_feed_delay_seconds: int = Field(default=60, ge=1, le=3600)
    export_bucket: str | None = Field(default=None, min_length=1)
    export_queue_url: str | None = Field(default=None, min_length=1)
    export_url_minutes: int = Field(default=15, ge=1, le=60)
    export_retention_days: int = Field(default=7, ge=1)
    # An export is uploaded in parts of this size (S3 takes 5 MiB at least for every part but the last).
    export_part_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    event_bus_name: str | None = Field(default=None, min_length=1)  # where the events function publishes
    import_bucket: str | None = Field(default=None, min_length=1)
    import_queue_url: str | None = Field(default=None, min_length=1)
    import_max_megabytes: int = Field(default=200, ge=1, le=5000)
    import_retention_days: int = Field(default=3, ge=1)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        fields = {name: env[name.upper()] for name in cls.model_fields if name.upper() in env}
        if "POWERTOOLS_PARAMETERS_MAX_AGE" in env:
            fields["parameters_max_age"] = env["POWERTOOLS_PARAMETERS_MAX_AGE"]
        return cls.model_validate(fields)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_environ()


def require(*needed: str) -> None:
    """Called by a function's module as it is imported: the environment is valid and has what this function
    needs, or the import fails naming the variables, not the first event that needs them."""
    try:
        settings = Settings.from_environ()
    except ValidationError as exc:
        names = sorted({str(error["loc"][0]).upper() for error in exc.errors() if error["loc"]})
        raise MissingSetting(f"missing or invalid environment variables: {', '.join(names)}") from exc
    missing = [name.upper() for name in needed if getattr(settings, name) is None]
    if missing:
        raise MissingSetting(f"{', '.join(missing)} not set: this function cannot work without it")
