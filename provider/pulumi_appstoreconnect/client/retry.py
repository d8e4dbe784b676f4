"""When to re-send a request, how long to wait first, and what it cost.

Three pieces, all shared by every thread that uses one :class:`~.client.AppStoreConnectClient`:

:class:`RetryPolicy`
    Frozen settings plus pure decisions (no I/O, no sleeping): given the method and what came
    back (a response or an ``httpx.TransportError``), the attempt number and the seconds already
    waited, it returns a :class:`Decision` -- re-send after ``wait`` seconds, or stop and why.
    The client's request loop (``AppStoreConnectClient._exchange``) does the sleeping.

:class:`Throttle`
    Proactive slow-down from Apple's ``X-Rate-Limit`` header, and a shared hold after a 429 so
    that the other threads do not spend budget on requests Apple will refuse.

:class:`ClientStats` / :class:`RequestStats`
    Thread-safe counters (requests, HTTP exchanges sent, retries and waits by reason, give-ups,
    ambiguous failures) and their immutable snapshot.

The rules (see DESIGN.md section 4):

* **429** on any method, POST included: Apple did not process the request, so it is re-sent
  after ``Retry-After`` seconds (delta-seconds or an HTTP date) or, without that header, after
  an exponential backoff with full jitter. Apple also answers 429 with budget left (burst
  limits); the handling is the same.
* **500/502/503/504 and transport errors** (``httpx.TransportError``): GET, HEAD, OPTIONS,
  PUT, PATCH and DELETE are re-sent after a backoff with full jitter (``Retry-After`` wins when
  a 503 carries one). Apple's PATCH sets attributes, so sending it twice is harmless.
* **POST** is never re-sent after a 5xx or after a transport error that may have happened once
  the request was on the wire (read/write errors and timeouts, protocol errors): Apple may have
  created the object. The client raises and the caller looks the object up by its natural key.
  A POST whose connection failed *before* anything was sent (``ConnectError``,
  ``ConnectTimeout``, ``PoolTimeout``) provably never reached Apple and is re-sent like a GET.
* ``UnsupportedProtocol`` and ``LocalProtocolError`` are bugs on this side: never re-sent.
* Bounds: ``max_attempts`` for 5xx/transport failures, ``max_rate_limited_attempts`` for 429s,
  and ``max_wait`` seconds of sleeping per request in total (backoff, ``Retry-After``,
  slow-down and hold together). The client never sleeps when the sleep would cross
  ``max_wait``: it gives up at once and says so, with what is left of the hourly budget and
  when it comes back.
* **Exhausted budget**: a request does not start while the latest ``X-Rate-Limit`` (at most
  ``budget_reading_max_age`` seconds old) says nothing remains: Apple would refuse it. The
  client raises :class:`~.errors.BudgetExhausted` without sending anything (:mod:`.budget`).
  A request already under way (re-sent after a 429, a 5xx or a dropped connection) follows
  the rules above.

Slow-down (:meth:`RetryPolicy.pace_interval`): while ``user-hour-rem`` is at or above
``slowdown_below`` x ``user-hour-lim`` (10 % by default) nothing is slowed. Below it, request
starts across all threads are spaced at least ::

    window / limit * threshold / max(remaining, 1)      (capped at max_pace)

seconds apart, ``threshold = slowdown_below * limit``. For Apple's 3600 per rolling hour that is
one second just under 360 left (the pace at which a rolling hour frees budget if it was spent
evenly), 2 s at 180, 10 s at 36, and ``max_pace`` (30 s) from 12 left down to 0. The spacing
only ever makes a request wait up to ``max_pace``; when more threads queue than fit in that
horizon, the extra ones go at the horizon together.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Callable, Mapping

import httpx

from .errors import _seconds, parse_retry_after
from .transport import RateLimit

__all__ = [
    "ClientStats",
    "Decision",
    "NOT_SENT",
    "RequestStats",
    "RetryPolicy",
    "Throttle",
]

# Transport failures raised before any byte of the request left this machine.
NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)
# Deterministic failures on this side: sending again cannot help.
NEVER_RETRIED: tuple[type[Exception], ...] = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)

RATE_LIMITED = 429


@dataclass(frozen=True)
class Decision:
    """What to do after one attempt.

    ``retry``: re-send after ``wait`` seconds. ``reason``: the failure (``"503"``, ``"429"``,
    ``"ReadError"``), used as the stats key. ``gave_up``: why a retryable failure is not retried
    (attempts or wait exhausted). ``ambiguous``: the request may have taken effect and was not
    re-sent for that reason (POST after a 5xx or a failure once sent).
    """

    retry: bool
    reason: str
    wait: float = 0.0
    limit: int = 0
    gave_up: str | None = None
    ambiguous: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    """The retry, backoff and slow-down settings of a client (immutable; share freely).

    ``max_attempts``: attempts (the first included) for 5xx and transport failures.
    ``max_rate_limited_attempts``: attempts while Apple answers 429.
    ``max_wait``: seconds one request may spend sleeping in total before the client gives up.
    ``backoff_base``/``backoff_cap``: full jitter, the n-th retry waits a uniform random
    time in ``[0, min(cap, base * 2 ** (n - 1))]``.
    ``slowdown_below``/``max_pace``/``window``: the proactive slow-down (module docstring);
    ``slowdown_below=0`` turns it off.
    ``budget_reading_max_age``: seconds during which an ``X-Rate-Limit`` reading of 0 stops
    new requests (:class:`~.errors.BudgetExhausted`); older, one is sent to read the budget
    again. 0 turns the check off (see :mod:`.budget`).
    """

    max_attempts: int = 4
    max_rate_limited_attempts: int = 8
    max_wait: float = 120.0
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    retry_statuses: frozenset[int] = frozenset({500, 502, 503, 504})
    idempotent_methods: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
    slowdown_below: float = 0.10
    max_pace: float = 30.0
    window: float = 3600.0
    budget_reading_max_age: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.max_rate_limited_attempts < 1:
            raise ValueError("max_attempts and max_rate_limited_attempts must be at least 1")
        if min(self.max_wait, self.backoff_base, self.backoff_cap, self.max_pace, self.budget_reading_max_age) < 0:
            raise ValueError("waits must not be negative")
        if not 0 <= self.slowdown_below < 1:
            raise ValueError("slowdown_below is a fraction of the hourly limit in [0, 1)")

    @classmethod
    def no_retries(cls) -> RetryPolicy:
        """Every request is sent exactly once and nothing waits (tests of error parsing, tools)."""
        return cls(max_attempts=1, max_rate_limited_attempts=1, max_wait=0.0, slowdown_below=0.0)

    # -- waits ---------------------------------------------------------------------------

    def backoff(self, retry_number: int, rand: Callable[[], float]) -> float:
        """Full jitter: uniform in ``[0, min(cap, base * 2 ** (retry_number - 1))]``."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** max(retry_number - 1, 0))
        return rand() * ceiling

    def pace_interval(self, rate_limit: RateLimit | None) -> float:
        """Minimum spacing of request starts for this ``X-Rate-Limit`` (0: no slow-down)."""
        if rate_limit is None or rate_limit.limit is None or rate_limit.remaining is None:
            return 0.0
        if rate_limit.limit <= 0 or self.slowdown_below <= 0:
            return 0.0
        threshold = self.slowdown_below * rate_limit.limit
        if rate_limit.remaining >= threshold:
            return 0.0
        interval = self.window / rate_limit.limit * threshold / max(rate_limit.remaining, 1)
        return min(interval, self.max_pace)

    # -- decisions -----------------------------------------------------------------------

    def is_idempotent(self, method: str) -> bool:
        return method.upper() in self.idempotent_methods

    def after_response(
        self,
        method: str,
        response: httpx.Response,
        *,
        attempt: int,
        waited: float,
        now: float,
        rand: Callable[[], float],
    ) -> Decision | None:
        """None when the response is final (success or an error not worth re-sending)."""
        status = response.status_code
        reason = str(status)
        if status == RATE_LIMITED:
            limit = self.max_rate_limited_attempts
        elif status in self.retry_statuses:
            if not self.is_idempotent(method):
                return Decision(False, reason, ambiguous=True)
            limit = self.max_attempts
        else:
            return None
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now=now)
        wait = retry_after if retry_after is not None else self.backoff(attempt, rand)
        return self._bounded(reason, wait, limit, attempt, waited, asked=retry_after is not None)

    def after_error(
        self,
        method: str,
        error: httpx.TransportError,
        *,
        attempt: int,
        waited: float,
        rand: Callable[[], float],
    ) -> Decision:
        """What to do after a transport failure (no response at all)."""
        reason = type(error).__name__
        if isinstance(error, NEVER_RETRIED):
            return Decision(False, reason)
        if not isinstance(error, NOT_SENT) and not self.is_idempotent(method):
            return Decision(False, reason, ambiguous=True)
        wait = self.backoff(attempt, rand)
        return self._bounded(reason, wait, self.max_attempts, attempt, waited, asked=False)

    def _bounded(self, reason: str, wait: float, limit: int, attempt: int, waited: float, *, asked: bool) -> Decision:
        if attempt >= limit:
            return Decision(False, reason, wait, limit, gave_up=f"{attempt} attempts is the limit")
        if waited + wait > self.max_wait:
            left = max(self.max_wait - waited, 0.0)
            what = f"Retry-After asked for {_seconds(wait)}" if asked else f"the next backoff is {_seconds(wait)}"
            return Decision(
                False,
                reason,
                wait,
                limit,
                gave_up=f"{what}, more than the {_seconds(left)} left of the {_seconds(self.max_wait)} limit on waiting",
            )
        return Decision(True, reason, wait, limit)


class Throttle:
    """Spaces request starts when the hourly budget runs low and holds every thread after a 429.

    Thread-safe: :meth:`reserve` hands out start times under a lock, so concurrent callers are
    spaced from each other, not only from their own previous request.
    """

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self._lock = threading.Lock()
        self._last_start = -math.inf
        self._hold_until = -math.inf

    def hold(self, until: float) -> None:
        """No request starts before ``until`` (set after a 429)."""
        with self._lock:
            self._hold_until = max(self._hold_until, until)

    def reserve(
        self, now: float, rate_limit: RateLimit | None, budget: float, *, pace: bool = True
    ) -> tuple[float, str | None]:
        """Seconds the caller must wait before sending, and why (``"slowdown"``/``"hold"``).

        The wait never exceeds ``budget``. ``pace=False`` skips the spacing (a retry after a
        429 goes when Apple said) but still records the start for the callers after it.
        """
        interval = self.policy.pace_interval(rate_limit) if pace else 0.0
        with self._lock:
            start, reason = now, None
            if interval > 0:
                paced = min(self._last_start + interval, now + self.policy.max_pace)
                if paced > start:
                    start, reason = paced, "slowdown"
            if self._hold_until > start:
                start, reason = self._hold_until, "hold"
            start = min(start, now + max(budget, 0.0))
            self._last_start = start
        wait = start - now
        return (wait, reason) if wait > 0 else (0.0, None)


@dataclass(frozen=True)
class RequestStats:
    """A snapshot of a client's request counters (see :attr:`.AppStoreConnectClient.stats`).

    ``requests``: logical requests (calls of ``send``/``request``/``get``/...).
    ``sent``: HTTP exchanges handed to the transport: retries and 401 re-sends included, failed
    connects included. ``sent - requests`` is the overhead retries and token refreshes cost.
    ``retries``: re-sends by reason (``"429"``, ``"503"``, ``"ReadError"``, ...).
    ``waits``: seconds slept by reason (the retry reasons, ``"slowdown"``, ``"hold"``).
    ``auth_refreshes``: 401s answered by minting a new token and re-sending once.
    ``gave_up``: requests that failed although retryable (attempts or wait exhausted), by reason;
    ``"budget"``: requests not sent because the hourly budget was used up.
    ``ambiguous``: failures not re-sent because the request may have taken effect (POST after
    a 5xx, a timeout or a broken connection), by reason.
    """

    requests: int = 0
    sent: int = 0
    retries: Mapping[str, int] = field(default_factory=dict)
    waits: Mapping[str, float] = field(default_factory=dict)
    auth_refreshes: int = 0
    gave_up: Mapping[str, int] = field(default_factory=dict)
    ambiguous: Mapping[str, int] = field(default_factory=dict)

    @property
    def retried(self) -> int:
        """Total re-sends."""
        return sum(self.retries.values())

    @property
    def waited(self) -> float:
        """Total seconds slept."""
        return sum(self.waits.values())

    def __sub__(self, other: RequestStats) -> RequestStats:
        """What happened between two snapshots (``after - before``)."""

        def diff(a: Mapping[str, float], b: Mapping[str, float]) -> dict:
            keys = list(a) + [k for k in b if k not in a]
            out = {k: a.get(k, 0) - b.get(k, 0) for k in keys}
            return {k: v for k, v in out.items() if v}

        return RequestStats(
            requests=self.requests - other.requests,
            sent=self.sent - other.sent,
            retries=diff(self.retries, other.retries),
            waits=diff(self.waits, other.waits),
            auth_refreshes=self.auth_refreshes - other.auth_refreshes,
            gave_up=diff(self.gave_up, other.gave_up),
            ambiguous=diff(self.ambiguous, other.ambiguous),
        )

    def as_dict(self) -> dict[str, object]:
        """Plain data (JSON-ready), with the ``retried`` and ``waited`` totals."""
        return {
            "requests": self.requests,
            "sent": self.sent,
            "retried": self.retried,
            "retries": dict(self.retries),
            "waited": self.waited,
            "waits": dict(self.waits),
            "auth_refreshes": self.auth_refreshes,
            "gave_up": dict(self.gave_up),
            "ambiguous": dict(self.ambiguous),
        }


class ClientStats:
    """The live, thread-safe counters behind :class:`RequestStats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests = 0
            self._sent = 0
            self._auth_refreshes = 0
            self._retries: dict[str, int] = {}
            self._waits: dict[str, float] = {}
            self._gave_up: dict[str, int] = {}
            self._ambiguous: dict[str, int] = {}

    def count_request(self) -> None:
        with self._lock:
            self._requests += 1

    def count_sent(self) -> None:
        with self._lock:
            self._sent += 1

    def count_auth_refresh(self) -> None:
        with self._lock:
            self._auth_refreshes += 1

    def count_retry(self, reason: str) -> None:
        with self._lock:
            self._retries[reason] = self._retries.get(reason, 0) + 1

    def count_wait(self, reason: str, seconds: float) -> None:
        with self._lock:
            self._waits[reason] = self._waits.get(reason, 0.0) + seconds

    def count_gave_up(self, reason: str) -> None:
        with self._lock:
            self._gave_up[reason] = self._gave_up.get(reason, 0) + 1

    def count_ambiguous(self, reason: str) -> None:
        with self._lock:
            self._ambiguous[reason] = self._ambiguous.get(reason, 0) + 1

    def snapshot(self) -> RequestStats:
        with self._lock:
            return RequestStats(
                requests=self._requests,
                sent=self._sent,
                retries=dict(self._retries),
                waits=dict(self._waits),
                auth_refreshes=self._auth_refreshes,
                gave_up=dict(self._gave_up),
                ambiguous=dict(self._ambiguous),
            )
