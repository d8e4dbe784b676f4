"""The one HTTP stack: an ``httpx.Client`` over :class:`ClientTransport`.

``ClientTransport`` wraps the real transport (or a test's ``MockTransport`` /
``WSGITransport``) and sees every HTTP exchange, including the first attempt of a request
that the auth flow retries after a 401. It records when each exchange started and Apple's
``X-Rate-Limit`` header in the client's :class:`~.budget.HourlyBudget`, and counts the
exchanges (``ClientStats.sent``).

Retries, backoff and the rate-limit slow-down are one level up, in
``AppStoreConnectClient._exchange`` with the decisions in :mod:`.retry`: the loop has to wrap
the auth flow so that every attempt carries a token that is still valid after a long wait,
and so that a 401 re-send and the retries of one request share one wait budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any, Mapping

import httpx

from .auth import BearerAuth, TokenProvider
from .budget import HourlyBudget
from .errors import parse_retry_after

if TYPE_CHECKING:
    from .retry import ClientStats

__all__ = ["ClientTransport", "RateLimit", "USER_AGENT", "build_http_client", "encode_params"]


def _version() -> str:
    try:
        return metadata.version("pulumi-appstoreconnect")
    except metadata.PackageNotFoundError:
        return "0+unknown"


USER_AGENT = f"pulumi-appstoreconnect/{_version()}"


@dataclass(frozen=True)
class RateLimit:
    """Apple's ``X-Rate-Limit: user-hour-lim:3600;user-hour-rem:3598;`` header.

    ``limit``/``remaining`` are None when the header lacks them or is malformed; ``values``
    keeps every ``name:int`` pair seen, ``raw`` the header itself.
    """

    limit: int | None = None
    remaining: int | None = None
    values: Mapping[str, int] = field(default_factory=dict)
    raw: str = ""

    @classmethod
    def parse(cls, header: str | None) -> RateLimit | None:
        """Parse the header; None when absent. Never raises."""
        if header is None:
            return None
        values: dict[str, int] = {}
        for part in header.split(";"):
            name, sep, value = part.partition(":")
            if not sep:
                continue
            try:
                values[name.strip()] = int(value.strip())
            except ValueError:
                continue
        return cls(values.get("user-hour-lim"), values.get("user-hour-rem"), values, header)

    def describe(self) -> str:
        """``user-hour-lim 3600, user-hour-rem 0`` (or the raw header if nothing parsed)."""
        if not self.values:
            return self.raw.strip()
        return ", ".join(f"{name} {value}" for name, value in self.values.items())


class ClientTransport(httpx.BaseTransport):
    """Wraps the transport that does the I/O; records every exchange's start and the
    rate-limit state of every response in ``budget``, and counts the exchanges (thread-safe)."""

    def __init__(
        self, inner: httpx.BaseTransport, stats: ClientStats | None = None, budget: HourlyBudget | None = None
    ) -> None:
        self._inner = inner
        self._stats = stats
        self.budget = budget if budget is not None else HourlyBudget()

    @property
    def last_rate_limit(self) -> RateLimit | None:
        return self.budget.last_rate_limit

    @property
    def inner(self) -> httpx.BaseTransport:
        """The transport that does the I/O (requests that are not API requests use it directly)."""
        return self._inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._stats is not None:
            self._stats.count_sent()
        self.budget.record_sent()
        response = self._inner.handle_request(request)
        rate_limit = RateLimit.parse(response.headers.get("X-Rate-Limit"))
        if rate_limit is not None:
            # Retry-After on a 429 says when this key may send again; on a 5xx it is about
            # the server, not the budget.
            retry_after = None
            if response.status_code == 429:
                retry_after = parse_retry_after(response.headers.get("Retry-After"), now=self.budget.clock())
            self.budget.record_reading(rate_limit, retry_after)
        return response

    def close(self) -> None:
        self._inner.close()


def encode_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Query parameters the way Apple wants them: lists comma-joined (``filter[x]=a,b``),
    booleans lowercase, None dropped."""
    encoded: dict[str, str] = {}
    for name, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        encoded[name] = str(value)
    return encoded


def build_http_client(
    base_url: str,
    tokens: TokenProvider,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 60.0,
    stats: ClientStats | None = None,
    budget: HourlyBudget | None = None,
) -> tuple[httpx.Client, ClientTransport]:
    """The ``httpx.Client`` every request goes through, and its :class:`ClientTransport`."""
    wrapped = ClientTransport(transport if transport is not None else httpx.HTTPTransport(), stats, budget)
    http = httpx.Client(
        base_url=base_url,
        transport=wrapped,
        auth=BearerAuth(tokens, on_refresh=stats.count_auth_refresh if stats is not None else None),
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
    )
    return http, wrapped
