"""Per account (base URL and APPKey), shared by every adapter of the container: the token, so a rebuilt
adapter reuses it, and how long queries pause after AIRudder's query limit (10705)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass

TOKEN_REFRESH_AFTER = dt.timedelta(hours=23)  # tokens live 24 h (TOKEN); refresh a little early

AccountKey = tuple[str, str]


@dataclass(frozen=True)
class _Token:
    value: str
    obtained_at: dt.datetime


_TOKENS: dict[AccountKey, _Token] = {}
_TOKEN_LOCK = threading.Lock()
_QUERIES_PAUSED_UNTIL: dict[AccountKey, dt.datetime] = {}


def cached_token(
    account: AccountKey, clock: Callable[[], dt.datetime], fetch: Callable[[], str], refused: str | None = None
) -> str:
    """The cached token; fetched only when none is cached, it is 23 h old, or `refused` is the cached one.

    Under one lock, so concurrent requests that all see a refused token refresh it once, not each.
    """
    with _TOKEN_LOCK:
        cached = _TOKENS.get(account)
        now = clock()
        if cached and cached.value != refused and now - cached.obtained_at < TOKEN_REFRESH_AFTER:
            return cached.value
        value = fetch()
        _TOKENS[account] = _Token(value, now)
        return value


def queries_paused_until(account: AccountKey) -> dt.datetime | None:
    return _QUERIES_PAUSED_UNTIL.get(account)


def pause_queries(account: AccountKey, until: dt.datetime) -> None:
    _QUERIES_PAUSED_UNTIL[account] = until


def forget_tokens() -> None:
    """Drop every cached token and query pause (tests; a cold start does the same)."""
    with _TOKEN_LOCK:
        _TOKENS.clear()
        _QUERIES_PAUSED_UNTIL.clear()
