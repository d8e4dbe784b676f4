"""Typed errors for App Store Connect responses.

Apple answers every failed request with a JSON:API ``ErrorResponse``::

    {"errors": [{"id", "status": "409", "code", "title", "detail",
                 "source": {"pointer": "/data/attributes/name"} | {"parameter": "filter[x]"},
                 "links": {"about", "associated", "see"}, "meta": {"associatedErrors": {...}}}]}

``status`` is a string, ``source.pointer`` comes with and without its leading slash, ``links``
may hold the non-spec ``see`` and ``meta.associatedErrors`` maps resource paths to nested
errors. Gateways may answer with an HTML page or nothing at all. All of that is parsed here,
tolerantly, into :class:`ApiError` values carried by one exception class per status::

    AppStoreConnectError            base: status, errors, method, url (path only)
    ├── ParameterError              400 bad query parameter or body
    ├── AuthenticationError         401 token rejected (key id, issuer, clock, revoked key)
    ├── ForbiddenError              403 key role, agreements
    ├── NotFoundError               404
    ├── ConflictError               409 duplicate, invalid state, Apple's business rules
    ├── UnprocessableEntityError    422
    ├── RateLimitedError            429 (retry_after, rate_limit, refill)
    │   └── BudgetExhausted         not sent: the hourly budget is used up (status 0)
    ├── ServerError                 5xx
    ├── ConnectionFailed            no HTTP response at all (status 0)
    └── ProtocolError               a response the client cannot use (non-JSON, paging loop)

Every error carries ``attempts`` (requests sent for it, retries included) and ``waited``
(seconds the client slept for it); the first line says "failed after N attempts" when the
request was retried. ``ambiguous`` is True when the request may have taken effect although no
success came back (a 5xx, or a connection that broke after the request was sent): a POST that
fails that way must be looked up, never blindly re-sent.

A rate-limit error says what is left of the key's hourly budget and when it comes back
(:class:`Refill`), and that Apple did not process the request.

The message (``str(exc)``) is what users read in a Pulumi traceback: the request, Apple's
code/detail/pointer, the associated errors and a hint about what to do. Messages never hold
a token, a key or the query string of the request.
"""

from __future__ import annotations

import copy

import email.utils
import json
import math
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Mapping

import httpx

if TYPE_CHECKING:
    from .transport import RateLimit

__all__ = [
    "ApiError",
    "AppStoreConnectError",
    "AuthenticationError",
    "BudgetExhausted",
    "ConflictError",
    "ConnectionFailed",
    "ForbiddenError",
    "NotFoundError",
    "ParameterError",
    "ProtocolError",
    "RateLimitedError",
    "Refill",
    "ServerError",
    "UnprocessableEntityError",
    "error_from_response",
    "parse_errors",
    "parse_retry_after",
]

AGREEMENTS_CODE = "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED"
FORBIDDEN_CODE = "FORBIDDEN_ERROR"

HINT_401 = (
    "App Store Connect rejected the token. Check that the key id is the one of the .p8 "
    "(AuthKey_<KEYID>.p8), that the issuer id is the one shown in Users and Access > "
    "Integrations (individual keys have none), that the key has not been revoked, that this "
    "machine's clock is right (tokens are dated) and that the token lifetime is at most 20 "
    "minutes. Run `pulumi-appstoreconnect doctor` to check each of these."
)
HINT_FORBIDDEN = (
    "The API key's role lacks permission for this request: creating, changing or deleting App "
    "IDs, capabilities, devices, certificates and profiles needs a team key with the Admin or App "
    "Manager role (Developer can only read them; individual keys cannot use these endpoints at "
    "all). A key's role cannot be changed: create a team key in Users and Access > Integrations. "
    "`pulumi-appstoreconnect doctor` shows what the current key can read and write."
)
HINT_AGREEMENTS = (
    "The Account Holder must sign the current agreements in the App Store Connect web UI "
    "(Business section): https://appstoreconnect.apple.com/business, often an updated Apple "
    "Developer Program License Agreement. The API cannot accept them, and until then every "
    "request fails with this 403."
)


def _text(value: Any) -> str | None:
    """A string field of an error object, or None when absent or not a scalar."""
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _normalise_pointer(pointer: str | None) -> str | None:
    if not pointer:
        return None
    return pointer if pointer.startswith("/") else "/" + pointer


@dataclass(frozen=True)
class ApiError:
    """One entry of Apple's ``errors[]`` (or of ``meta.associatedErrors``).

    ``status`` is kept as Apple sends it (a string); :attr:`status_code` is its integer.
    ``path`` is set on associated errors: the resource path they belong to.
    """

    status: str = ""
    code: str = ""
    title: str = ""
    detail: str = ""
    id: str | None = None
    pointer: str | None = None
    parameter: str | None = None
    links: Mapping[str, Any] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)
    associated_errors: tuple[ApiError, ...] = ()
    path: str | None = None

    @property
    def status_code(self) -> int | None:
        """``status`` as an integer, None when Apple sent something else."""
        try:
            return int(self.status)
        except (TypeError, ValueError):
            return None

    @classmethod
    def from_dict(cls, obj: Any, *, path: str | None = None) -> ApiError:
        """Parse one error object, tolerating missing or oddly typed members."""
        if not isinstance(obj, Mapping):
            return cls(detail=_text(obj) or "", path=path)
        source = obj.get("source") if isinstance(obj.get("source"), Mapping) else {}
        links = obj.get("links") if isinstance(obj.get("links"), Mapping) else {}
        meta = obj.get("meta") if isinstance(obj.get("meta"), Mapping) else {}
        associated: list[ApiError] = []
        nested = meta.get("associatedErrors")
        if isinstance(nested, Mapping):
            for resource_path, items in nested.items():
                for item in items if isinstance(items, list) else [items]:
                    associated.append(cls.from_dict(item, path=str(resource_path)))
        return cls(
            status=_text(obj.get("status")) or "",
            code=_text(obj.get("code")) or "",
            title=_text(obj.get("title")) or "",
            detail=_text(obj.get("detail")) or "",
            id=_text(obj.get("id")),
            pointer=_normalise_pointer(_text(source.get("pointer"))),
            parameter=_text(source.get("parameter")),
            links=dict(links),
            meta=dict(meta),
            associated_errors=tuple(associated),
            path=path,
        )

    def describe(self) -> str:
        """``CODE: detail (at /pointer)``, the form used in exception messages."""
        text = self.detail or self.title
        head = f"{self.code}: {text}" if self.code and text else self.code or text or "no details"
        where = self.pointer or (f"parameter {self.parameter}" if self.parameter else None)
        if where:
            head += f" (at {where})"
        see = self.links.get("see") or self.links.get("about")
        if isinstance(see, str) and see:
            head += f" [see {see}]"
        return head


def parse_errors(body: bytes | str | Any) -> list[ApiError]:
    """The ``errors[]`` of a response body; [] when the body is not an ErrorResponse."""
    document = body
    if isinstance(body, (bytes, str)):
        try:
            document = json.loads(body) if body else None
        except ValueError:
            return []
    if not isinstance(document, Mapping):
        return []
    errors = document.get("errors")
    if not isinstance(errors, list):
        return []
    return [ApiError.from_dict(item) for item in errors]


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _seconds(value: float) -> str:
    """``3.5 s``, ``120 s``."""
    return f"{value:.1f}".removesuffix(".0") + " s"


def _body_excerpt(text: str, limit: int = 160) -> str:
    """A short, tag-free excerpt of a non-JSON body (an HTML 502 page, a proxy message)."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class AppStoreConnectError(Exception):
    """Base of every error the App Store Connect client raises.

    ``status`` is the HTTP status (0 when there was no response), ``errors`` Apple's parsed
    error objects (possibly empty), ``method`` and ``url`` the request (``url`` is the path
    only: no host, no query string). ``attempts``/``waited``: how often the client sent the
    request and how many seconds it slept for it. ``ambiguous``: the request may have taken
    effect on the server (see the module docstring).
    """

    default_hint: str | None = None
    ambiguous: bool = False

    def __init__(
        self,
        status: int,
        errors: list[ApiError] | tuple[ApiError, ...] | None = None,
        *,
        method: str = "",
        url: str = "",
        hint: str | None = None,
        body_excerpt: str | None = None,
        attempts: int = 1,
        waited: float = 0.0,
    ) -> None:
        self.status = status
        self.errors = list(errors or [])
        self.method = method
        self.url = url
        self.hint = hint
        self.body_excerpt = body_excerpt
        self.attempts = attempts
        self.waited = waited
        super().__init__(self._message())

    def with_hint(self, hint: str) -> AppStoreConnectError:
        """The same error with a hint that says what to do (e.g. which object collides)."""
        clone = copy.copy(self)
        clone.hint = hint
        clone.args = (clone._message(),)
        return clone

    # -- the first error, for convenience ----------------------------------------------

    @property
    def first(self) -> ApiError | None:
        return self.errors[0] if self.errors else None

    @property
    def code(self) -> str | None:
        return self.first.code if self.first else None

    @property
    def title(self) -> str | None:
        return self.first.title if self.first else None

    @property
    def detail(self) -> str | None:
        return self.first.detail if self.first else None

    @property
    def pointer(self) -> str | None:
        return self.first.pointer if self.first else None

    @property
    def associated_errors(self) -> list[ApiError]:
        return [nested for error in self.errors for nested in error.associated_errors]

    # -- message -------------------------------------------------------------------------

    def _summary(self) -> str:
        """What went wrong, after ``<METHOD> <path> failed: ``."""
        status = str(self.status) if self.status else "error"
        if self.errors:
            parts = [f"{status} {self.errors[0].describe()}"]
            parts += [error.describe() for error in self.errors[1:]]
            return "; ".join(parts)
        reason = httpx.codes.get_reason_phrase(self.status) if self.status else ""
        text = f"{status} {reason}".strip()
        if self.body_excerpt:
            text += f": {self.body_excerpt}"
        return text

    def hints(self) -> list[str]:
        """What the user should do about it, most specific first."""
        hints = [self.hint] if self.hint else []
        if self.default_hint:
            hints.append(self.default_hint)
        return hints

    def _message(self) -> str:
        request = f"{self.method} {self.url} failed" if self.method or self.url else "request failed"
        attempts = getattr(self, "attempts", 1)
        if attempts > 1:
            request += f" after {attempts} attempts ({_seconds(getattr(self, 'waited', 0.0))} waited)"
        lines = [f"{request}: {self._summary()}"]
        associated = self.associated_errors
        if associated:
            lines.append(
                "Associated errors: "
                + "; ".join(f"{e.path}: {e.describe()}" if e.path else e.describe() for e in associated)
            )
        lines += [f"Hint: {hint}" for hint in self.hints()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"method={self.method!r}, url={self.url!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle their args by default; keep every attribute instead.
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[AppStoreConnectError], state: dict[str, Any]) -> AppStoreConnectError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error._message())
    return error


class ParameterError(AppStoreConnectError):
    """400: a query parameter or the request body is invalid."""


class AuthenticationError(AppStoreConnectError):
    """401: the token was rejected (after one retry with a freshly minted token)."""

    default_hint = HINT_401


class ForbiddenError(AppStoreConnectError):
    """403: the key's role lacks permission, or an agreement must be signed."""

    def hints(self) -> list[str]:
        hints = super().hints()
        codes = {e.code for e in self.errors}
        if AGREEMENTS_CODE in codes:
            hints.append(HINT_AGREEMENTS)
        if any(code == FORBIDDEN_CODE or code.startswith(FORBIDDEN_CODE + ".") for code in codes):
            hints.append(HINT_FORBIDDEN)
        return hints


class NotFoundError(AppStoreConnectError):
    """404: no such object (or no such path)."""


class ConflictError(AppStoreConnectError):
    """409: a duplicate, an invalid state or another of Apple's business rules."""


class UnprocessableEntityError(AppStoreConnectError):
    """422: the request body is well formed but not acceptable."""


@dataclass(frozen=True)
class Refill:
    """When a spent hourly budget comes back, as far as this client can tell (Unix times).

    Apple counts a key's requests over a rolling hour: "user-hour-rem is your per-hour limit
    minus the total requests you've made in the previous 60 minutes" (developer.apple.com,
    "Identifying Rate Limits"). Capacity therefore returns as requests age out of that hour,
    not at a fixed reset time.

    ``seen_at``: when the ``X-Rate-Limit`` reading (or the 429) arrived. ``refilled_by``: when
    every request counted then, and every later one of this client, has left the hour.
    ``now``: when the error was raised. ``oldest_sent``: this client's oldest request still
    inside the hour. ``retry_at``: Apple's ``Retry-After`` as a time. ``window``: the hour.
    """

    seen_at: float
    refilled_by: float
    now: float
    oldest_sent: float | None = None
    retry_at: float | None = None
    window: float = 3600.0

    @property
    def first_back(self) -> float | None:
        """When this client's oldest request of the hour ages out (a request is free again
        then at the latest, unless someone else spends it)."""
        return None if self.oldest_sent is None else self.oldest_sent + self.window

    def rolling_hour(self) -> str:
        """The sentence that says when the budget comes back."""
        text = (
            "App Store Connect counts a key's requests over a rolling hour, so capacity comes back "
            "as the requests of the last hour age out"
        )
        first = self.first_back
        if first is not None and self.oldest_sent is not None and first < self.refilled_by - 60:
            text += (
                f": the oldest request this run sent within that hour (at {_utc(self.oldest_sent, seconds=True)}) "
                f"ages out at {self._when(first)}"
            )
        return text + f", and the whole budget is back by {self._when(self.refilled_by)} at the latest if nothing else spends it."

    def rerun_after(self) -> str:
        """The earliest time worth re-running: Apple's Retry-After, else the first request freed."""
        if self.retry_at is not None:
            return _utc(self.retry_at, seconds=True)
        first = self.first_back
        return _utc(first if first is not None else self.refilled_by)

    def _when(self, moment: float) -> str:
        return f"{_utc(moment)} (in {max(1, math.ceil((moment - self.now) / 60))} min)"


def _utc(moment: float, *, seconds: bool = False) -> str:
    """``16:07 UTC`` (rounded up: these are "at the latest" times) or ``16:06:40 UTC``."""
    if not seconds:
        moment = math.ceil(moment / 60) * 60
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%H:%M:%S UTC" if seconds else "%H:%M UTC")


class RateLimitedError(AppStoreConnectError):
    """429: too many requests. ``retry_after`` in seconds when Apple said, ``rate_limit`` the
    ``X-Rate-Limit`` values of the last answer, ``gave_up`` why the client stopped waiting,
    ``refill`` when the budget comes back (:class:`Refill`). Apple did not process the request."""

    def __init__(
        self,
        status: int,
        errors: list[ApiError] | tuple[ApiError, ...] | None = None,
        *,
        retry_after: float | None = None,
        rate_limit: RateLimit | None = None,
        gave_up: str | None = None,
        refill: Refill | None = None,
        **kwargs: Any,
    ) -> None:
        self.retry_after = retry_after
        self.rate_limit = rate_limit
        self.gave_up = gave_up
        self.refill = refill
        super().__init__(status, errors, **kwargs)

    @property
    def remaining(self) -> int | None:
        """``user-hour-rem`` of the last answer, None when unknown."""
        return self.rate_limit.remaining if self.rate_limit is not None else None

    @property
    def spent(self) -> bool:
        """The hourly budget is used up (rather than a burst limit, or unknown)."""
        return self.remaining is not None and self.remaining <= 0

    def _budget(self) -> str:
        header = f"X-Rate-Limit: {self.rate_limit.describe()}" if self.rate_limit is not None and self.rate_limit.raw else None
        if self.spent:
            return f"App Store Connect refused the request: the API key's hourly request budget is used up ({header})."
        if self.remaining is not None:
            return (
                f"App Store Connect refused the request although the API key's hourly budget has {self.remaining} "
                f"requests left ({header}): Apple also limits bursts of requests, which clear sooner."
            )
        return (
            f"App Store Connect refused the request ({header or 'no X-Rate-Limit header'}); Apple allows 3600 "
            "requests per rolling hour per key and also limits bursts."
        )

    def _when_back(self) -> list[str]:
        sentences = []
        if self.retry_after is not None:
            at = self.refill.retry_at if self.refill is not None else None
            when = f" (at {_utc(at, seconds=True)})" if at is not None else ""
            sentences.append(f"Apple asked to retry after {_seconds(self.retry_after)}{when}.")
        if self.spent and self.refill is not None:
            sentences.append(self.refill.rolling_hour())
        return sentences

    def _what_to_do(self) -> str:
        share = "every job and person using this API key shares its budget."
        if self.refill is not None and (self.spent or self.refill.retry_at is not None):
            return f"Re-run after {self.refill.rerun_after()}; {share}"
        if self.remaining is not None and not self.spent:
            return f"Re-run in a few minutes, with fewer requests in parallel if it keeps happening; {share}"
        return f"Wait and re-run; {share}"

    def hints(self) -> list[str]:
        sentences = [self._budget(), *self._when_back()]
        gave_up = getattr(self, "gave_up", None)
        if self.attempts > 1 or self.waited > 0:
            why = f"; it gave up because {gave_up}." if gave_up else "."
            sentences.append(f"The client sent the request {self.attempts} times and waited {_seconds(self.waited)} in all{why}")
        elif gave_up:
            sentences.append(f"The client gave up because {gave_up}.")
        sentences.append(
            "A 429 means App Store Connect did not process the request: nothing changed, and sending it "
            "again (a POST included) is safe."
        )
        sentences.append(self._what_to_do())
        return super().hints() + [" ".join(sentences)]


class BudgetExhausted(RateLimitedError):
    """Not sent: the latest ``X-Rate-Limit`` said the key's hourly budget is used up.

    Apple would refuse the request with a 429, so the client fails it before sending
    (``status`` 0, ``attempts`` 0); nothing reached App Store Connect. See
    ``RetryPolicy.budget_reading_max_age`` for how long such a reading is trusted.
    """

    def __init__(
        self,
        *,
        rate_limit: RateLimit,
        refill: Refill,
        retry_after: float | None = None,
        method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(
            0, [], retry_after=retry_after, rate_limit=rate_limit, refill=refill, method=method, url=url, attempts=0
        )

    def _summary(self) -> str:
        assert self.rate_limit is not None and self.refill is not None
        return (
            "not sent: the API key's hourly request budget is used up "
            f"(X-Rate-Limit at {_utc(self.refill.seen_at, seconds=True)}: {self.rate_limit.describe()})"
        )

    def hints(self) -> list[str]:
        sentences = [
            *self._when_back(),
            "Nothing was sent for this request, so it changed nothing in App Store Connect.",
            self._what_to_do(),
        ]
        return AppStoreConnectError.hints(self) + [" ".join(sentences)]


class ServerError(AppStoreConnectError):
    """5xx: App Store Connect (or a gateway in front of it) failed. Ambiguous: Apple may have
    done the work before failing (a 504 in particular)."""

    ambiguous = True


class ConnectionFailed(AppStoreConnectError):
    """No HTTP response: DNS, connect, TLS, timeout or a dropped connection (status 0).

    ``ambiguous`` is True when the request may have reached the server (the connection broke
    after it was sent), so a POST may or may not have created its object.
    """

    def __init__(
        self,
        reason: str,
        *,
        method: str = "",
        url: str = "",
        ambiguous: bool = True,
        attempts: int = 1,
        waited: float = 0.0,
    ) -> None:
        self.reason = reason
        self.ambiguous = ambiguous
        super().__init__(0, [], method=method, url=url, attempts=attempts, waited=waited)

    def _summary(self) -> str:
        return f"no response from App Store Connect ({self.reason})"


class UploadFailed(AppStoreConnectError):
    """An asset's bytes could not be sent to an upload URL (not an API request: status 0, no
    Apple error objects). The reservation stays awaiting upload; the next attempt completes or
    replaces it."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(0, [])

    def _message(self) -> str:
        return "\n".join([self.reason, *(f"Hint: {hint}" for hint in self.hints())])


class ProtocolError(AppStoreConnectError):
    """A response the client cannot use: not JSON, not a collection, a paging loop."""

    def __init__(self, reason: str, *, status: int = 0, method: str = "", url: str = "") -> None:
        self.reason = reason
        super().__init__(status, [], method=method, url=url)

    def _summary(self) -> str:
        return f"{self.status} {self.reason}" if self.status else self.reason


_BY_STATUS: dict[int, type[AppStoreConnectError]] = {
    400: ParameterError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitedError,
}


def error_class(status: int) -> type[AppStoreConnectError]:
    """The exception class for an HTTP status."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, AppStoreConnectError)


def error_from_response(
    response: httpx.Response,
    *,
    rate_limit: RateLimit | None = None,
    attempts: int = 1,
    waited: float = 0.0,
    gave_up: str | None = None,
    now: float | None = None,
    refill: Refill | None = None,
) -> AppStoreConnectError:
    """The typed exception for a failed response (the body must have been read).

    ``attempts``/``waited``/``gave_up`` describe the client's retries; ``refill`` when the
    budget comes back (both shown on a 429 only); ``now`` dates an HTTP-date ``Retry-After``
    (default: the system clock)."""
    status = response.status_code
    errors = parse_errors(response.content)
    excerpt = None
    if not errors and response.content:
        excerpt = _body_excerpt(response.content.decode("utf-8", "replace")) or None
    request = response.request
    kwargs: dict[str, Any] = dict(
        method=request.method, url=request.url.path, body_excerpt=excerpt, attempts=attempts, waited=waited
    )
    cls = error_class(status)
    if cls is RateLimitedError:
        kwargs.update(
            retry_after=parse_retry_after(response.headers.get("Retry-After"), now=now),
            rate_limit=rate_limit,
            gave_up=gave_up,
            refill=refill,
        )
    return cls(status, errors, **kwargs)
