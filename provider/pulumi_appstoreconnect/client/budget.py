"""What one client knows of its API key's hourly request budget.

Apple sends ``X-Rate-Limit: user-hour-lim:3600;user-hour-rem:N;`` on every response and counts
a key's requests over a rolling hour ("Identifying Rate Limits", developer.apple.com): once
``user-hour-rem`` is 0, every further request is refused with a 429 until requests of the last
hour age out. :class:`HourlyBudget` keeps the latest reading with the time it arrived, and the
start times of this client's requests within the hour, so that the client can

* refuse to send a request while a recent reading says nothing remains
  (:meth:`HourlyBudget.spent`; the client raises :class:`~.errors.BudgetExhausted`), and
* say when the budget comes back (:meth:`HourlyBudget.refill`).

How long a reading of 0 is trusted (``max_age``, 60 s by default): the budget is shared with
every other job using the key and comes back request by request, so an old reading says
little. Within a minute, a request would most likely be refused anyway; after it, one request
is worth sending to read the budget again -- Apple either carries it out or answers a 429
that changes nothing. A reading that came with a 429's ``Retry-After`` stops requests only
until that time, if it is sooner.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from .errors import Refill

if TYPE_CHECKING:
    from .transport import RateLimit

__all__ = ["HourlyBudget", "Reading"]

# Start times kept at most (Apple's budget is 3600 an hour; retries add a few). Dropping the
# oldest only makes the "ages out at" time later than the truth, never earlier.
_MAX_SENT = 20_000


@dataclass(frozen=True)
class Reading:
    """One ``X-Rate-Limit`` header, when it arrived, and a 429's ``Retry-After`` (seconds)."""

    rate_limit: RateLimit
    seen_at: float
    retry_after: float | None = None


class HourlyBudget:
    """The latest budget reading and this client's request start times (thread-safe)."""

    def __init__(
        self, clock: Callable[[], float] = time.time, *, window: float = 3600.0, max_age: float = 60.0
    ) -> None:
        self.clock = clock
        self.window = window
        self.max_age = max_age
        self._lock = threading.Lock()
        self._sent: collections.deque[float] = collections.deque(maxlen=_MAX_SENT)
        self._reading: Reading | None = None

    @property
    def last_rate_limit(self) -> RateLimit | None:
        reading = self._reading
        return reading.rate_limit if reading is not None else None

    def record_sent(self) -> None:
        """A request is about to go out (every HTTP exchange: retries and 401 re-sends too)."""
        now = self.clock()
        with self._lock:
            self._sent.append(now)

    def record_reading(self, rate_limit: RateLimit, retry_after: float | None = None) -> None:
        """An answer carried ``X-Rate-Limit`` (and, on a 429, maybe ``Retry-After``)."""
        reading = Reading(rate_limit, self.clock(), retry_after)
        with self._lock:
            self._reading = reading

    def spent(self, now: float) -> Reading | None:
        """The reading that forbids starting a request now, or None.

        A reading forbids it when it says 0 remain, is at most ``max_age`` seconds old, and
        Apple's ``Retry-After`` (if it came with one) has not passed. ``max_age`` 0: never.
        """
        reading = self._reading
        if reading is None or reading.rate_limit.remaining is None or reading.rate_limit.remaining > 0:
            return None
        if now - reading.seen_at > self.max_age or self.max_age <= 0:
            return None
        if reading.retry_after is not None and now >= reading.seen_at + reading.retry_after:
            return None
        return reading

    def refill(self, seen_at: float, now: float, retry_after: float | None = None) -> Refill:
        """When the budget read as spent at ``seen_at`` comes back (see :class:`~.errors.Refill`)."""
        with self._lock:
            while self._sent and self._sent[0] <= now - self.window:
                self._sent.popleft()
            oldest = self._sent[0] if self._sent else None
            newest = self._sent[-1] if self._sent else seen_at
        return Refill(
            seen_at=seen_at,
            refilled_by=max(seen_at, newest) + self.window,
            now=now,
            oldest_sent=oldest,
            retry_at=seen_at + retry_after if retry_after is not None else None,
            window=self.window,
        )
