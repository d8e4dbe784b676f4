"""Apple's upload operations: the ``PUT``s that carry an asset's bytes (a screenshot, an app
preview) to the URLs a reservation answered.

Apple ("Uploading Assets to App Store Connect"): each operation names a method, a URL, the
byte range (``offset``, ``length``) of the file to send and the request headers to send with it;
"The provided upload URLs are unauthenticated and time-limited. You don't need to supply a
JWT; don't share the URLs"; parts may be sent "concurrently and in any order", and a part that
failed may be sent again "at any time before you commit the asset".

So these requests go through their own ``httpx.Client`` without the API's auth flow (the
bearer token never leaves for another host), are not counted against the key's hourly budget
(they are not API requests), are sent in parallel up to a bound, and are re-sent after a 5xx,
a 429 or a broken connection like any idempotent request (:class:`~.retry.RetryPolicy`). URLs
are never logged with their query (it carries the upload's credentials).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import httpx

from .errors import ProtocolError, UploadFailed
from .retry import RetryPolicy

__all__ = ["DEFAULT_PARALLEL_PARTS", "UploadOperation", "UploadReport", "Uploader"]

log = logging.getLogger("pulumi_appstoreconnect.client")

DEFAULT_PARALLEL_PARTS = 4


@dataclass(frozen=True)
class UploadOperation:
    """One part of a reservation: what to send where (Apple's ``UploadOperation``)."""

    method: str
    url: str
    offset: int
    length: int
    headers: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, raw: Any) -> UploadOperation:
        """From the reservation's ``uploadOperations`` item; :class:`ProtocolError` if malformed."""
        try:
            headers = tuple((str(h["name"]), str(h["value"])) for h in raw.get("requestHeaders") or [])
            operation = cls(str(raw["method"]).upper(), str(raw["url"]), int(raw["offset"]), int(raw["length"]), headers)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ProtocolError(f"a malformed upload operation in the reservation ({type(exc).__name__}: {exc})") from None
        if operation.offset < 0 or operation.length < 0 or not operation.url.startswith(("https://", "http://")):
            raise ProtocolError("an upload operation with a negative range or a URL that is not http(s)")
        return operation

    @property
    def where(self) -> str:
        """The URL without its query (for logs and errors: the query holds credentials)."""
        return str(httpx.URL(self.url).copy_with(query=None))


@dataclass(frozen=True)
class UploadReport:
    """What one file's upload sent: parts, bytes and HTTP attempts (re-sends included)."""

    parts: int
    bytes: int
    attempts: int


class _Shared(httpx.BaseTransport):
    """The API client's transport, shared: closing the upload client leaves it open."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(request)


class Uploader:
    """Sends the parts of files to their upload URLs (thread-safe; one per API client).

    ``transport`` is the one the API client does its I/O with (an ``httpx.WSGITransport`` to an
    in-process emulator in tests); ``policy``, ``sleep`` and ``rand`` are the client's, so a
    test's fake clock governs the backoff here too.
    """

    def __init__(
        self,
        transport: httpx.BaseTransport,
        *,
        policy: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] | None = None,
        timeout: float = 300.0,
        user_agent: str = "",
        max_parallel: int = DEFAULT_PARALLEL_PARTS,
    ) -> None:
        import random

        self._policy = policy
        self._sleep = sleep
        self._rand = rand or random.random
        self.max_parallel = max(1, max_parallel)
        self._lock = threading.Lock()
        self._http = httpx.Client(
            transport=_Shared(transport), timeout=timeout, follow_redirects=False,
            headers={"User-Agent": user_agent} if user_agent else None,
        )

    def upload(self, path: Path, operations: Sequence[Mapping[str, Any]]) -> UploadReport:
        """PUT each operation's byte range of ``path`` with its headers, in parallel (at most
        :attr:`max_parallel` at once). Raises :class:`UploadFailed` naming the part when one
        cannot be sent after its retries; the parts sent stay sent (Apple keeps them until the
        reservation is committed or deleted)."""
        parsed = [UploadOperation.parse(raw) for raw in operations]
        if not parsed:
            raise ProtocolError("the reservation has no upload operations")
        workers = min(self.max_parallel, len(parsed))
        if workers == 1:
            attempts = [self._send(path, op, n) for n, op in enumerate(parsed, 1)]
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="asc-upload") as pool:
                attempts = list(pool.map(lambda pair: self._send(path, pair[1], pair[0]), enumerate(parsed, 1)))
        return UploadReport(len(parsed), sum(op.length for op in parsed), sum(attempts))

    def _send(self, path: Path, op: UploadOperation, number: int) -> int:
        """One part, re-sent under the retry policy; the number of attempts it took."""
        with path.open("rb") as handle:
            handle.seek(op.offset)
            body = handle.read(op.length)
        if len(body) != op.length:
            raise UploadFailed(f"{path.name} is shorter than the reservation says (part {number} wants bytes {op.offset}-{op.offset + op.length})")
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            try:
                response = self._http.request(op.method, op.url, content=body, headers=dict(op.headers))
            except httpx.TransportError as exc:
                decision = self._policy.after_error(op.method, exc, attempt=attempt, waited=waited, rand=self._rand)
                what = f"{type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    log.debug("%s %s (part %d, %d bytes) -> %s", op.method, op.where, number, op.length, response.status_code)
                    return attempt
                decision = self._policy.after_response(op.method, response, attempt=attempt, waited=waited, now=time.time(), rand=self._rand)
                what = f"{response.status_code} {response.reason_phrase} {response.text[:200].strip()}".strip()
                if decision is None:  # not retryable (a 4xx): the URL or the request is wrong
                    raise UploadFailed(f"{op.method} of part {number} of {path.name} to {op.where} failed: {what}")
            if not decision.retry:
                raise UploadFailed(
                    f"{op.method} of part {number} of {path.name} to {op.where} failed after {attempt} attempts: {what}"
                )
            log.info("%s %s (part %d): %s; retrying in %.1f s", op.method, op.where, number, what, decision.wait)
            self._sleep(decision.wait)
            waited += decision.wait

    def close(self) -> None:
        self._http.close()
