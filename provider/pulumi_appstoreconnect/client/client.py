"""``AppStoreConnectClient``: JSON:API documents in, typed errors out; retries, backoff and
rate-limit slow-down around every request (rules in :mod:`.retry`)."""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Mapping, NamedTuple
from urllib.parse import quote

import httpx

from .auth import DEFAULT_TOKEN_LIFETIME, TokenProvider
from .budget import HourlyBudget
from .errors import BudgetExhausted, ConnectionFailed, NotFoundError, ProtocolError, error_from_response, parse_retry_after
from .paging import collect
from .retry import NOT_SENT, ClientStats, Decision, RequestStats, RetryPolicy, Throttle
from .transport import USER_AGENT, RateLimit, build_http_client, encode_params
from .uploads import Uploader

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["AppStoreConnectClient"]

log = logging.getLogger("pulumi_appstoreconnect.client")

# Waits shorter than this are not slept, counted or logged (clock granularity).
_MIN_WAIT = 0.001


class _Exchange(NamedTuple):
    response: httpx.Response
    attempts: int
    waited: float
    gave_up: str | None


class AppStoreConnectClient:
    """A client for one API key: one token, one connection pool, one retry budget view;
    safe to share across threads.

    Paths such as ``/v1/bundleIds`` are relative to ``settings.base_url``; absolute URLs
    (``links.next``) are used as they are. Failed requests raise
    :class:`~.errors.AppStoreConnectError` subclasses.

    ``retry`` sets the retry, backoff and slow-down rules (:class:`~.retry.RetryPolicy`;
    ``RetryPolicy.no_retries()`` sends everything once). ``clock`` (Unix time: token dates,
    HTTP-date ``Retry-After``, slow-down spacing), ``sleep`` and ``rand`` (uniform in [0, 1),
    the jitter) are injectable so that tests run without real waiting; a fake ``sleep`` should
    advance the fake ``clock``. :attr:`stats` counts what retries cost.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        token_lifetime: float = DEFAULT_TOKEN_LIFETIME,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.retry_policy = retry if retry is not None else RetryPolicy()
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self._stats = ClientStats()
        self._throttle = Throttle(self.retry_policy)
        self._budget = HourlyBudget(
            clock, window=self.retry_policy.window, max_age=self.retry_policy.budget_reading_max_age
        )
        self.tokens = TokenProvider(
            settings.key_id, settings.issuer_id, settings.private_key_pem, lifetime=token_lifetime, clock=clock
        )
        self._http, self._transport = build_http_client(
            settings.base_url, self.tokens, transport=transport, timeout=timeout, stats=self._stats, budget=self._budget
        )
        self._uploader: Uploader | None = None
        self._uploader_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AppStoreConnectClient(base_url={self.settings.base_url!r}, key_id={self.settings.key_id!r})"

    @property
    def last_rate_limit(self) -> RateLimit | None:
        """The ``X-Rate-Limit`` values of the latest response that carried the header."""
        return self._transport.last_rate_limit

    @property
    def stats(self) -> RequestStats:
        """A snapshot of the request counters (``after - before`` gives one run's share)."""
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        self._stats.reset()

    # -- primitives --------------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """One request (with the 401 retry, retries and waits); returns the final response
        whatever its status.

        Raises :class:`~.errors.ConnectionFailed` when no response arrived.
        """
        return self._exchange(method, path, params, json).response

    def _exchange(self, method: str, path: str, params: Mapping[str, Any] | None, json: Any) -> _Exchange:
        """The request loop: refuse if the budget is spent, slow down, send (auth flow
        included), decide, wait, re-send."""
        method = method.upper()
        url = httpx.URL(path).path  # for logs and errors: never the query string
        query = encode_params(params) or None
        policy = self.retry_policy
        self._stats.count_request()
        attempt, waited, after_429 = 0, 0.0, False
        while True:
            attempt += 1
            if attempt == 1:
                self._refuse_if_spent(method, url)
            pause, why = self._throttle.reserve(
                self._clock(), self.last_rate_limit, policy.max_wait - waited, pace=not after_429
            )
            if pause >= _MIN_WAIT and why is not None:
                log.debug("%s %s: %s %.1f s before sending (rate limit: %s)", method, url, why, pause, self._describe_rate())
                waited += self._wait(why, pause)
                if attempt == 1:  # another thread's answer may have spent the budget meanwhile
                    self._refuse_if_spent(method, url)
            try:
                response = self._http.request(method, path, params=query, json=json)
            except httpx.TransportError as exc:
                decision = policy.after_error(method, exc, attempt=attempt, waited=waited, rand=self._rand)
                if decision.retry:
                    waited += self._retry(method, url, decision, attempt, type(exc).__name__)
                    after_429 = False
                    continue
                self._final(method, url, decision, attempt, waited, type(exc).__name__)
                raise ConnectionFailed(
                    f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
                    method=method,
                    url=url,
                    ambiguous=not isinstance(exc, NOT_SENT),
                    attempts=attempt,
                    waited=waited,
                ) from exc
            log.debug("%s %s -> %s (rate limit: %s)", method, url, response.status_code, self._describe_rate())
            decision = policy.after_response(
                method, response, attempt=attempt, waited=waited, now=self._clock(), rand=self._rand
            )
            if decision is None:
                return _Exchange(response, attempt, waited, None)
            described = self._describe_response(response)
            if decision.retry:
                if response.status_code == 429:
                    # Every thread waits with this one: the others' requests would be refused too.
                    self._throttle.hold(self._clock() + decision.wait)
                waited += self._retry(method, url, decision, attempt, described)
                after_429 = response.status_code == 429
                continue
            self._final(method, url, decision, attempt, waited, described)
            return _Exchange(response, attempt, waited, decision.gave_up)

    def _refuse_if_spent(self, method: str, url: str) -> None:
        """Raise :class:`BudgetExhausted`, sending nothing, while a recent reading says the
        hourly budget is used up: Apple would answer 429 (issue 8, scenario 9)."""
        now = self._clock()
        reading = self._budget.spent(now)
        if reading is None:
            return
        self._stats.count_gave_up("budget")
        log.info(
            "%s %s: not sent: the hourly budget is used up (rate limit: %s, read %.0f s ago)",
            method, url, reading.rate_limit.describe(), now - reading.seen_at,
        )
        raise BudgetExhausted(
            rate_limit=reading.rate_limit,
            refill=self._budget.refill(reading.seen_at, now, reading.retry_after),
            retry_after=reading.retry_after,
            method=method,
            url=url,
        )

    def pause(self, seconds: float, reason: str) -> None:
        """Wait on the client's clock (a test's fake one too), counted in :attr:`stats`."""
        if seconds >= _MIN_WAIT:
            log.debug("waiting %.1f s: %s", seconds, reason)
            self._wait(reason, seconds)

    def _wait(self, reason: str, seconds: float) -> float:
        self._sleep(seconds)
        self._stats.count_wait(reason, seconds)
        return seconds

    def _retry(self, method: str, url: str, decision: Decision, attempt: int, what: str) -> float:
        log.info(
            "%s %s: %s; retrying in %.1f s (attempt %d of at most %d)",
            method, url, what, decision.wait, attempt + 1, decision.limit,
        )
        self._stats.count_retry(decision.reason)
        return self._wait(decision.reason, decision.wait) if decision.wait >= _MIN_WAIT else 0.0

    def _final(self, method: str, url: str, decision: Decision, attempt: int, waited: float, what: str) -> None:
        if decision.ambiguous:
            self._stats.count_ambiguous(decision.reason)
            log.info("%s %s: %s after the request may have reached App Store Connect; not re-sending it", method, url, what)
        elif decision.gave_up:
            self._stats.count_gave_up(decision.reason)
            log.info(
                "%s %s: %s; giving up after %d attempts and %.1f s of waiting: %s",
                method, url, what, attempt, waited, decision.gave_up,
            )

    def _describe_rate(self) -> str:
        rate = self.last_rate_limit
        return rate.describe() if rate else "n/a"

    @staticmethod
    def _describe_response(response: httpx.Response) -> str:
        text = f"{response.status_code} {response.reason_phrase}".strip()
        extra = [f"{name}: {response.headers[name]}" for name in ("Retry-After", "X-Rate-Limit") if name in response.headers]
        return f"{text} ({', '.join(extra)})" if extra else text

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> dict[str, Any] | None:
        """Send a request and return its JSON document (None for an empty body, e.g. 204)."""
        response, attempts, waited, gave_up = self._exchange(method, path, params, json)
        if not response.is_success:
            # This response's own header: another thread may have recorded a later one.
            rate_limit = RateLimit.parse(response.headers.get("X-Rate-Limit")) or self.last_rate_limit
            now = self._clock()
            refill = None
            if response.status_code == 429:  # say when the budget comes back
                retry_after = parse_retry_after(response.headers.get("Retry-After"), now=now)
                refill = self._budget.refill(now, now, retry_after)
            raise error_from_response(
                response, rate_limit=rate_limit, attempts=attempts, waited=waited, gave_up=gave_up, now=now, refill=refill
            )
        if response.status_code == 204 or not response.content.strip():
            return None
        try:
            document = response.json()
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise ProtocolError(
                f"response is not a JSON object (Content-Type {response.headers.get('Content-Type', 'none')})",
                status=response.status_code,
                method=response.request.method,
                url=response.request.url.path,
            )
        return document

    # -- reading -----------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET a document. 404 raises :class:`~.errors.NotFoundError`."""
        return self.request("GET", path, params=params) or {}

    def get_object(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The ``data`` object at ``path``; None when it does not exist (404)."""
        try:
            document = self.get(path, params)
        except NotFoundError:
            return None
        return document.get("data")

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a collection, following ``links.next`` to the end (``limit=200``)."""
        return collect(self.get, path, params, base_url=self.settings.base_url)

    # -- writing -----------------------------------------------------------------------

    def create(
        self,
        rest_type: str,
        attributes: Mapping[str, Any],
        relationships: Mapping[str, Any] | None = None,
        *,
        path: str | None = None,
    ) -> dict[str, Any]:
        """POST ``{"data": {type, attributes, relationships}}`` to ``/v1/<rest_type>``; the
        created object. Never retried: the caller decides what an ambiguous failure means."""
        data: dict[str, Any] = {"type": rest_type, "attributes": dict(attributes)}
        if relationships:
            data["relationships"] = dict(relationships)
        return self._data("POST", path or f"/v1/{rest_type}", {"data": data})

    def update(
        self,
        rest_type: str,
        id: str,
        attributes: Mapping[str, Any] | None = None,
        relationships: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """PATCH ``/v1/<rest_type>/<id>`` with only the given attributes; the updated object."""
        data: dict[str, Any] = {"type": rest_type, "id": id}
        if attributes is not None:
            data["attributes"] = dict(attributes)
        if relationships:
            data["relationships"] = dict(relationships)
        return self._data("PATCH", f"/v1/{rest_type}/{quote(id, safe='')}", {"data": data})

    def delete(self, path: str) -> None:
        """DELETE ``path`` (204/202). 404 raises :class:`~.errors.NotFoundError`."""
        self.request("DELETE", path)

    def _data(self, method: str, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        document = self.request(method, path, json=body)
        data = document.get("data") if document else None
        if not isinstance(data, dict):
            raise ProtocolError("response has no data object", method=method, url=httpx.URL(path).path)
        return data

    # -- asset uploads ------------------------------------------------------------------

    @property
    def uploads(self) -> Uploader:
        """Sends asset bytes to a reservation's upload URLs: same transport, no token, no
        budget (:mod:`.uploads`)."""
        with self._uploader_lock:
            if self._uploader is None:
                self._uploader = Uploader(
                    self._transport.inner, policy=self.retry_policy, sleep=self._sleep, rand=self._rand, user_agent=USER_AGENT
                )
            return self._uploader

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        if self._uploader is not None:
            self._uploader.close()
        self._http.close()

    def __enter__(self) -> AppStoreConnectClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
