"""NXTele's account secret and campaign options, and the callback and order-detail bodies it sends."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator
from pydantic.alias_generators import to_camel

from dialhub.dispositions import Disposition
from dialhub.models import IanaZone
from dialhub.vendors.base import IpAllowlist
from dialhub.vendors.nxtele.codes import MAX_CHUNK


class _Camel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", coerce_numbers_to_str=True
    )


class NxteleAccount(_Camel):
    """The NXTele account secret: console credentials, where NXTele is, and where it calls us back."""

    uuid: str = Field(min_length=1)
    secret_key: SecretStr
    algorithm: Literal["MD5", "SHA256"] = "MD5"
    base_url: str = "https://nxbot.nxcloud.com"
    callback_base_url: str = Field(description="Our webhook base, e.g. https://<api>/webhooks/nxtele")
    timezone: IanaZone = "Asia/Jakarta"
    chunk_size: int = Field(default=MAX_CHUNK, ge=1, le=MAX_CHUNK)
    ip_allowlist: IpAllowlist = Field(default_factory=list)
    max_clock_skew_seconds: int = Field(default=300, ge=1, le=3600)
    intent_map: dict[str, Disposition] = Field(default_factory=dict)

    @field_validator("algorithm", mode="before")
    @classmethod
    def _upper_case_algorithm(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("secret_key")
    @classmethod
    def _secret_present(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("secretKey must not be empty")
        return value

    @field_validator("callback_base_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("callbackBaseUrl must be an absolute http(s) URL")
        return value.rstrip("/")


class NxteleOptions(_Camel):
    """Campaign settings NXTele needs: the script (scene), the variables it reads, optional routing."""

    scene_id: int | str = Field(alias="sceneID", description="NXTele script template (scene) id")
    script_variables: list[str] = Field(
        default_factory=list, description="Script variables every contact must carry, by name"
    )
    strategy_name: str | None = Field(default=None, description="NXTele dialling strategy, if not the default")
    route_id: int | str | None = Field(default=None, alias="routeID", description="NXTele line route")
    max_ring_time: int | None = Field(default=None, ge=1, le=300, description="Seconds to ring before giving up")
    calls_per_order: int = Field(
        default=3, ge=1, le=20, description="Most calls NXTele's strategy makes per order (redial rounds included)"
    )

    @field_validator("scene_id")
    @classmethod
    def _scene_present(cls, value: int | str) -> int | str:
        if isinstance(value, str) and not value.strip():
            raise ValueError("sceneID must not be empty")
        return value

    @field_validator("script_variables")
    @classmethod
    def _distinct_names(cls, value: list[str]) -> list[str]:
        if any(not name.strip() for name in value) or len(set(value)) != len(value):
            raise ValueError("scriptVariables must be distinct, non-empty names")
        return value


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


Number = Annotated[float | None, BeforeValidator(_blank_to_none)]
Text = Annotated[str | None, BeforeValidator(_blank_to_none)]


class _Intent(_Camel):
    intent_id: Text = Field(default=None, alias="intentID")
    intent_tag: Text = None
    intent_name: Text = None
    intent_level: Text = None


class Call(_Camel):
    """One call of an order (callInfoDetail / callInfoDetailList item)."""

    call_id: str = Field(alias="callID", min_length=1)
    call_status: Text = None
    call_start_ts: Number = None
    call_answer_ts: Number = None
    call_end_ts: Number = None
    call_duration: Number = None
    call_audio_url: Text = None
    hangup_cause: Text = None
    term_sip_code: Text = None
    intents: list[_Intent] | None = None


class Order(_Camel):
    """An order as callbacks and listOrderDetail report it (callbackType: int for calls, text for orders)."""

    callback_type: int | str | None = None
    order_id: str = Field(alias="orderID", min_length=1)
    user_task_id: Text = Field(default=None, alias="userTaskID")
    finish: bool = False
    other: str | dict[str, Any] | None = None
    call_info_detail: Call | None = None
    call_info_detail_list: list[Call] | None = None

    @field_validator("call_info_detail", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value in ({}, "", None) else value


class TaskStatus(_Camel):
    callback_type: int | str | None = None
    user_task_id: str = Field(alias="userTaskID", min_length=1)
    task_status: int | None = None
