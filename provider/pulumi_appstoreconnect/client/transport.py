"""The one HTTP stack: an ``httpx.Client`` over :class:`ClientTransport`.

``ClientTransport`` wraps the real transport (or a test's ``MockTransport`` /
``WSGITransport``) and sees every response, including the first attempt of a request that
the auth flow retries after a 401. It records Apple's ``X-Rate-Limit`` header; it is also
the seam where rate limiting, backoff and retries of GET/PATCH/DELETE will live. It never
retries a POST.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Mapping

import httpx

from .auth import BearerAuth, TokenProvider

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
    """Wraps the transport that does the I/O; records rate-limit state from every response.

    The place for the retry/backoff policy (GET/PATCH/DELETE only) when it is added.
    """

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.last_rate_limit: RateLimit | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        rate_limit = RateLimit.parse(response.headers.get("X-Rate-Limit"))
        if rate_limit is not None:
            with self._lock:
                self.last_rate_limit = rate_limit
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
) -> tuple[httpx.Client, ClientTransport]:
    """The ``httpx.Client`` every request goes through, and its :class:`ClientTransport`."""
    wrapped = ClientTransport(transport if transport is not None else httpx.HTTPTransport())
    http = httpx.Client(
        base_url=base_url,
        transport=wrapped,
        auth=BearerAuth(tokens),
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
    )
    return http, wrapped
