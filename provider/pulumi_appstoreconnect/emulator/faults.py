"""Fault injection for ``/v1`` requests and upload URLs: latency, 429 bursts, 5xx and dropped
connections.

Rules are set at run time through the admin API (``/_emulator/faults``, see
:class:`~.app.AdminApi`) and live in memory (a restart or ``POST /_emulator/reset`` clears
them). They never apply to ``/_emulator`` requests; they do apply to the ``/_uploads`` URLs of
screenshot and preview reservations (``"path": "/_uploads/*"``), whose ``PUT``s a client
re-sends like any idempotent request.

A rule is ``{"kind", "methods"?, "path"? | "pathRegex"?, "probability"?, "times"?, "seed"?,
"seconds"? (latency), "retryAfter"? (429/500/503), "html"? (500/503)}``:

``kind``
    ``latency`` (sleep ``seconds`` before handling), ``429`` (Apple's RATE_LIMIT_EXCEEDED,
    with ``Retry-After`` when ``retryAfter`` is given; ``X-Rate-Limit`` still shows budget
    left, as Apple's burst limit does), ``500`` / ``503`` (Apple-shaped error documents, or the
    edge's HTML page with ``"html": true``), ``drop_before_commit`` (the connection closes
    without an answer and the request is not processed) and ``drop_after_commit`` (the request
    is processed and committed, then the connection closes without an answer).
``methods``
    HTTP methods the rule applies to (default: all).
``path`` / ``pathRegex``
    A glob matched against the whole path (``/v1/bundleIds*``; ``*`` also crosses ``/``) or
    a regular expression searched in it (anchor with ``^…$``). Default: every ``/v1`` path and
    upload URL.
``probability`` / ``times``
    The rule fires on a matching request with ``probability`` (default 1) until it has fired
    ``times`` times (default: no limit). ``{"times": 3}`` is "the next three matching
    requests". Exhausted rules stay listed (with their counts) until deleted.
``seed``
    Whether a ``probability`` rule fires on a request is a function of the rule's seed and
    the request's identity: method, path, query (parameters sorted) and how many requests of
    that identity the rule has met before (:func:`chance`). Arrival order and thread timing
    do not change which requests fail; a retry is the next occurrence and gets its own
    decision. The seed is the rule's ``seed``, else ``"<seed of the call>:<index in the
    call>"`` when the admin call gave a top-level ``seed``, else a random one; the listing
    shows it so that a run can be replayed. (``times`` still counts arrivals: which of
    several concurrent matching requests is "the next" one is the clients' affair.)

Per request every matching latency rule adds its seconds (they stack); then the first other
rule (in the order they were added) that fires decides the outcome, and later rules are not
consulted (their ``matched``/``fired`` counts are untouched; they still count the request's
occurrence, so their later decisions do not depend on it).

Drops are signalled by the WSGI app raising :func:`dropped_connection`'s exception, an
``httpx.RemoteProtocolError`` marked with ``emulator_fault``: the emulator's socket server
(:mod:`.server`) closes the connection without writing a byte, so an HTTP client sees the
server disconnect without a response; ``httpx.WSGITransport`` lets the exception through to
the client, which sees the same ``RemoteProtocolError`` a real socket would give.
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

from .store import ApiError, ErrorItem, rate_limit_exceeded, unexpected_error

LATENCY = "latency"
RATE_LIMITED = "429"
SERVER_ERROR = "500"
UNAVAILABLE = "503"
DROP_BEFORE_COMMIT = "drop_before_commit"
DROP_AFTER_COMMIT = "drop_after_commit"

KINDS = (LATENCY, RATE_LIMITED, SERVER_ERROR, UNAVAILABLE, DROP_BEFORE_COMMIT, DROP_AFTER_COMMIT)
DROPS = (DROP_BEFORE_COMMIT, DROP_AFTER_COMMIT)
STATUS_KINDS = (RATE_LIMITED, SERVER_ERROR, UNAVAILABLE)

MAX_LATENCY = 300.0  # seconds; a rule asking for more is a typo, not a test
MAX_RETRY_AFTER = 86400

# What httpcore says when a server closes the connection before answering.
DROP_MESSAGE = "Server disconnected without sending a response."

_RULE_KEYS = {"kind", "methods", "path", "pathRegex", "probability", "times", "seed", "seconds", "retryAfter", "html"}


def _fault_error(detail: str) -> ApiError:
    return ApiError(ErrorItem(400, "INVALID_FAULT", "Emulator admin request failed", detail))


def service_unavailable() -> ErrorItem:
    """A 503 in Apple's error shape (Apple's edge often sends an HTML page instead: ``html``)."""
    return ErrorItem(
        503,
        "SERVICE_UNAVAILABLE",
        "The service is temporarily unavailable.",
        "The server is currently unable to handle the request. Please try again later.",
    )


_HTML = (
    "<html>\r\n<head><title>{status}</title></head>\r\n<body>\r\n<center><h1>{status}</h1></center>\r\n"
    "<hr><center>Apple</center>\r\n</body>\r\n</html>\r\n"
)
_HTML_STATUS = {500: "500 Internal Server Error", 503: "503 Service Temporarily Unavailable"}


def dropped_connection(kind: str, *, committed: bool) -> httpx.RemoteProtocolError:
    """The exception the WSGI app raises to drop the connection (see the module docstring).

    It is a plain ``httpx.RemoteProtocolError`` (the exception httpx raises for a real
    connection closed before the answer, so clients see the same type either way) carrying
    ``emulator_fault`` (the kind) and ``emulator_committed``.
    """
    exc = httpx.RemoteProtocolError(DROP_MESSAGE)
    exc.emulator_fault = kind  # type: ignore[attr-defined]
    exc.emulator_committed = committed  # type: ignore[attr-defined]
    return exc


def is_dropped_connection(exc: BaseException | None) -> bool:
    """True for the exception :func:`dropped_connection` makes."""
    return exc is not None and getattr(exc, "emulator_fault", None) in DROPS


def request_identity(method: str, path: str, query: str = "") -> str:
    """``"GET /v1/devices?filter%5Budid%5D=X&limit=200"``: what tells requests apart for the
    probability draws (query parameters sorted, so their order in the URL does not count)."""
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return f"{method} {path}?{urlencode(pairs)}" if pairs else f"{method} {path}"


def chance(seed: str, identity: str, occurrence: int) -> float:
    """A number in [0, 1) fixed by the seed, the request identity and its occurrence (1: the
    first request of that identity the rule met): the rule fires when it is below
    ``probability``. A hash, not a random stream, so no request's draw depends on another's."""
    digest = hashlib.sha256(f"{seed}\n{identity}\n{occurrence}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class FaultRule:
    """One rule and its counters (``matched``: matching requests seen while it was active;
    ``fired``: how often it was applied)."""

    id: str
    kind: str
    methods: tuple[str, ...] | None = None
    path: str | None = None
    path_regex: str | None = None
    probability: float | None = None
    times: int | None = None
    seed: str = ""
    seconds: float | None = None
    retry_after: int | None = None
    html: bool = False
    matched: int = 0
    fired: int = 0
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)
    # Requests of each identity this rule's method/path matched, whether or not it was consulted.
    _seen: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        if self.path is not None and not fnmatch.fnmatchcase(path, self.path):
            return False
        if self._pattern is not None and not self._pattern.search(path):
            return False
        return True

    def meet(self, identity: str) -> int:
        """Count one matching request of ``identity``; returns its occurrence (caller locks)."""
        occurrence = self._seen.get(identity, 0) + 1
        self._seen[identity] = occurrence
        return occurrence

    def draw(self, identity: str, occurrence: int) -> bool:
        """Count a consulted request and decide whether the rule fires on it (caller locks)."""
        self.matched += 1
        if self.probability is not None and self.probability < 1.0:
            if chance(self.seed, identity, occurrence) >= self.probability:
                return False
        self.fired += 1
        return True

    def error(self, rate_header: str) -> ApiError:
        """The error answer of a status kind (429/500/503)."""
        headers: dict[str, str] = {"X-Rate-Limit": rate_header}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        item = {RATE_LIMITED: rate_limit_exceeded, SERVER_ERROR: unexpected_error, UNAVAILABLE: service_unavailable}[
            self.kind
        ]()
        return ApiError(item, headers=headers)

    def html_body(self) -> bytes:
        return _HTML.format(status=_HTML_STATUS[int(self.kind)]).encode()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "methods": list(self.methods) if self.methods is not None else None,
            "path": self.path,
            "pathRegex": self.path_regex,
            "probability": self.probability,
            "times": self.times,
            "seed": self.seed,
            "seconds": self.seconds,
            "retryAfter": self.retry_after,
            "html": self.html,
            "matched": self.matched,
            "fired": self.fired,
            "remaining": None if self.times is None else max(self.times - self.fired, 0),
            "exhausted": self.exhausted,
        }


@dataclass(frozen=True)
class Injection:
    """What the faults do to one request: ``delay`` seconds of latency first, then ``fault``
    (the rule deciding the outcome; None: handle normally)."""

    delay: float = 0.0
    fault: FaultRule | None = None
    latency_rules: tuple[str, ...] = ()

    @property
    def kind(self) -> str | None:
        """The kind to log: the deciding rule's, else ``latency`` if any was added."""
        if self.fault is not None:
            return self.fault.kind
        return LATENCY if self.latency_rules else None


NO_INJECTION = Injection()


class FaultInjector:
    """The active rules and the run's totals per kind. Thread-safe.

    Totals count every fault injected since the start or the last :meth:`reset`; deleting
    rules keeps them, so a suite can report "faults injected by kind" at its end.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next = 1
        self._totals = dict.fromkeys(KINDS, 0)

    # -- admin ------------------------------------------------------------------------

    def add(self, payload: Any) -> tuple[list[FaultRule], bool]:
        """Add the rules of an admin body: one rule, a list of rules, or
        ``{"seed"?, "rules": [...]}``. All are validated before any is added. Returns the
        new rules and whether the body named a single rule."""
        seed: Any = None
        single = False
        if isinstance(payload, dict) and "rules" in payload:
            extra = set(payload) - {"rules", "seed"}
            if extra:
                raise _fault_error(f"Unknown key(s) {sorted(extra)}: a rule set is {{\"seed\"?, \"rules\": [...]}}")
            seed = payload.get("seed")
            payload = payload["rules"]
            if not isinstance(payload, list):
                raise _fault_error("'rules' must be a list of rules")
        elif isinstance(payload, dict):
            payload, single = [payload], True
        if not isinstance(payload, list) or not payload:
            raise _fault_error("Expected a rule object, a non-empty list of rules or {\"seed\"?, \"rules\": [...]}")
        if seed is not None and (not isinstance(seed, (int, str)) or isinstance(seed, bool)):
            raise _fault_error("'seed' must be an integer or a string")
        call_seed = seed if seed is not None else secrets.randbelow(2**32)
        parsed = [self._parse(item, index, call_seed) for index, item in enumerate(payload)]
        with self._lock:
            for rule in parsed:
                rule.id = f"f{self._next}"
                self._next += 1
                self._rules.append(rule)
        return parsed, single

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def get(self, rule_id: str) -> FaultRule | None:
        with self._lock:
            return next((r for r in self._rules if r.id == rule_id), None)

    def listing(self) -> dict[str, Any]:
        """``{"data": [rules with counters], "totals": {kind: n}, "injected": n}``."""
        with self._lock:
            return {
                "data": [r.to_json() for r in self._rules],
                "totals": dict(self._totals),
                "injected": sum(self._totals.values()),
            }

    def totals(self) -> dict[str, int]:
        with self._lock:
            return dict(self._totals)

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> int:
        """Delete every rule (the totals stay); returns how many there were."""
        with self._lock:
            count = len(self._rules)
            self._rules = []
            return count

    def reset(self) -> None:
        """Delete every rule and zero the totals."""
        with self._lock:
            self._rules = []
            self._totals = dict.fromkeys(KINDS, 0)

    # -- requests ---------------------------------------------------------------------

    def decide(self, method: str, path: str, query: str = "") -> Injection:
        """What to do with one ``/v1`` request (counts the rules that fire)."""
        with self._lock:
            if not self._rules:
                return NO_INJECTION
            identity = request_identity(method, path, query)
            delay = 0.0
            latency: list[str] = []
            fault: FaultRule | None = None
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                # Every matching rule counts the request, so a rule's occurrences (and so its
                # decisions) do not depend on whether an earlier rule fired on it.
                occurrence = rule.meet(identity)
                if rule.exhausted:
                    continue
                if rule.kind == LATENCY:
                    if rule.draw(identity, occurrence):
                        delay += rule.seconds or 0.0
                        latency.append(rule.id)
                        self._totals[LATENCY] += 1
                elif fault is None and rule.draw(identity, occurrence):
                    fault = rule
                    self._totals[rule.kind] += 1
            if fault is None and not latency:
                return NO_INJECTION
            return Injection(delay, fault, tuple(latency))

    # -- parsing ----------------------------------------------------------------------

    @staticmethod
    def _parse(item: Any, index: int, call_seed: Any) -> FaultRule:
        where = f"rule {index}"
        if not isinstance(item, dict):
            raise _fault_error(f"{where}: expected an object with a 'kind'")
        unknown = set(item) - _RULE_KEYS
        if unknown:
            raise _fault_error(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(_RULE_KEYS)}")
        kind = item.get("kind")
        if isinstance(kind, int) and not isinstance(kind, bool):
            kind = str(kind)
        if kind not in KINDS:
            raise _fault_error(f"{where}: 'kind' must be one of {list(KINDS)}, not {item.get('kind')!r}")
        rule = FaultRule(id="", kind=kind)

        methods = item.get("methods")
        if methods is not None:
            if isinstance(methods, str):
                methods = [methods]
            if not isinstance(methods, list) or not methods or not all(isinstance(m, str) and m.strip() for m in methods):
                raise _fault_error(f"{where}: 'methods' must be a method or a non-empty list of methods")
            rule.methods = tuple(sorted({m.strip().upper() for m in methods}))

        path, path_regex = item.get("path"), item.get("pathRegex")
        if path is not None and path_regex is not None:
            raise _fault_error(f"{where}: give 'path' (a glob) or 'pathRegex', not both")
        if path is not None:
            if not isinstance(path, str) or not path:
                raise _fault_error(f"{where}: 'path' must be a non-empty glob such as '/v1/bundleIds*'")
            rule.path = path
        if path_regex is not None:
            if not isinstance(path_regex, str) or not path_regex:
                raise _fault_error(f"{where}: 'pathRegex' must be a non-empty regular expression")
            try:
                rule._pattern = re.compile(path_regex)
            except re.error as exc:
                raise _fault_error(f"{where}: 'pathRegex' does not compile: {exc}") from None
            rule.path_regex = path_regex

        probability = item.get("probability")
        if probability is not None:
            if not _is_number(probability) or not 0.0 <= float(probability) <= 1.0:
                raise _fault_error(f"{where}: 'probability' must be a number from 0 to 1")
            rule.probability = float(probability)
        times = item.get("times")
        if times is not None:
            if not isinstance(times, int) or isinstance(times, bool) or times < 1:
                raise _fault_error(f"{where}: 'times' must be a whole number of at least 1")
            rule.times = times

        seconds = item.get("seconds")
        if kind == LATENCY:
            if not _is_number(seconds) or not 0.0 < float(seconds) <= MAX_LATENCY:
                raise _fault_error(f"{where}: a latency rule needs 'seconds', more than 0 and at most {MAX_LATENCY:g}")
            rule.seconds = float(seconds)
        elif seconds is not None:
            raise _fault_error(f"{where}: 'seconds' belongs to latency rules only")

        retry_after = item.get("retryAfter")
        if retry_after is not None:
            if kind not in STATUS_KINDS:
                raise _fault_error(f"{where}: 'retryAfter' belongs to 429, 500 and 503 rules only")
            if not isinstance(retry_after, int) or isinstance(retry_after, bool) or not 0 <= retry_after <= MAX_RETRY_AFTER:
                raise _fault_error(f"{where}: 'retryAfter' must be whole seconds from 0 to {MAX_RETRY_AFTER}")
            rule.retry_after = retry_after

        html = item.get("html", False)
        if not isinstance(html, bool):
            raise _fault_error(f"{where}: 'html' must be true or false")
        if html and kind not in (SERVER_ERROR, UNAVAILABLE):
            raise _fault_error(f"{where}: 'html' belongs to 500 and 503 rules only")
        rule.html = html

        seed = item.get("seed")
        if seed is not None and (not isinstance(seed, (int, str)) or isinstance(seed, bool)):
            raise _fault_error(f"{where}: 'seed' must be an integer or a string")
        rule.seed = str(seed) if seed is not None else f"{call_seed}:{index}"
        return rule


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


__all__ = [
    "DROPS",
    "DROP_AFTER_COMMIT",
    "DROP_BEFORE_COMMIT",
    "FaultInjector",
    "FaultRule",
    "Injection",
    "KINDS",
    "LATENCY",
    "chance",
    "dropped_connection",
    "is_dropped_connection",
    "request_identity",
]
