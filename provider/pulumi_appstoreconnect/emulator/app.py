"""The emulator as a plain WSGI application, and the :class:`Emulator` facade.

Request flow for ``/v1/...``: verify the JWT (401 otherwise), take one unit of the key's
hourly budget (429 when spent), check the key's role and the agreements (403, see
:mod:`.access`), route and validate (404/405/400), run the generic handler,
log the request (method, path, query, status — never headers or tokens). Every response,
errors included, carries ``X-Rate-Limit`` and ``Content-Type: application/json``.

``/_emulator/...`` is the admin API (not Apple's, no auth): health, out-of-band object
changes (drift), certificate revocation, the emulator's CA, the request log, fault injection,
the key's access (role, agreements), media upload settings and a reset. See :class:`AdminApi`.

``/_uploads/...`` are the upload URLs of screenshot and preview reservations
(:class:`.media.Uploads`): Apple's are on another host and take no token, so they have no JWT
check, no budget and no ``X-Rate-Limit``; they are logged with the ``/v1`` requests.

Faults (:mod:`.faults`) apply to ``/v1`` requests and upload URLs: latency first, then a
429/500/503 answer instead of handling, or a dropped connection before or after handling (the
app raises :func:`.faults.dropped_connection`'s exception; see :mod:`.server` for the socket
side).
"""

from __future__ import annotations

import collections
import json
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping
from urllib.parse import parse_qsl, unquote

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from .access import KeyAccess
from . import media
from .faults import DROP_AFTER_COMMIT, DROP_BEFORE_COMMIT, FaultInjector, Injection, dropped_connection
from .routes import Api, Registry, Request, ResourceType, Response
from .metadata import INFO_STATE_FOR, STORE_STATE_FOR
from .rules import ADMIN_CREATE, ADMIN_UPDATE, Context
from .testflight import DUPLICATE_TESTERS
from .signing import Authority
from .store import (
    DB_FILENAME,
    ApiError,
    Credentials,
    ErrorItem,
    Store,
    StoredObject,
    not_authorized,
    rate_limit_exceeded,
    unexpected_error,
)

if TYPE_CHECKING:
    from .server import EmulatorServer

StartResponse = Callable[..., Any]
ADMIN_PREFIX = "/_emulator"
API_PREFIX = "/v1"


# --------------------------------------------------------------------------------------
# Authentication
# --------------------------------------------------------------------------------------


class TokenVerifier:
    """Checks App Store Connect JWTs against the one key the emulator issued.

    Apple's rules: ES256 signed by the key, header ``kid`` = key id, ``aud`` =
    ``appstoreconnect-v1``, ``iss`` = issuer id (team keys) or ``sub: "user"`` without
    ``iss`` (individual keys), ``exp`` in the future but at most 20 minutes ahead (Apple
    rejects longer-lived tokens). ``iat`` is optional: Apple's docs list it, but the live API
    accepts tokens without it and widely used clients omit it (the emulator is as liberal as
    Apple); when present it must not be in the future. An optional ``scope`` list restricts the
    token to exact ``"METHOD /path[?query]"`` requests.
    """

    AUDIENCE = "appstoreconnect-v1"
    MAX_LIFETIME = 20 * 60
    EXP_TOLERANCE = 5  # seconds of slack on the 20-minute ceiling (rounding, transit)
    CLOCK_SKEW = 60  # how far in the future `iat` may be

    def __init__(self, credentials: Credentials, clock: Callable[[], float] = time.time) -> None:
        private_key = load_pem_private_key(credentials.private_key_pem.encode(), password=None)
        self._public_key = private_key.public_key()  # loaded once, not per request
        self._key_id = credentials.key_id
        self._issuer_id = credentials.issuer_id
        self._clock = clock

    def verify(self, authorization: str | None, method: str, path: str, raw_query: str) -> str | None:
        """None when the token is good, else the reason (for the log; Apple's answer is generic)."""
        token = _bearer(authorization)
        if token is None:
            return "missing 'Authorization: Bearer <token>' header"
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            return f"malformed token: {exc}"
        if header.get("alg") != "ES256":
            return f"alg must be ES256, not {header.get('alg')!r}"
        if header.get("kid") != self._key_id:
            return f"unknown key id {header.get('kid')!r}"
        try:
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=["ES256"],
                audience=self.AUDIENCE,
                options={"require": ["aud", "exp"], "verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError as exc:
            return f"invalid token: {exc}"
        now = self._clock()
        exp, iat = claims["exp"], claims.get("iat")
        if not isinstance(exp, (int, float)) or (iat is not None and not isinstance(iat, (int, float))):
            return "exp and iat must be numeric dates"
        if exp <= now:
            return "token expired"
        if exp > now + self.MAX_LIFETIME + self.EXP_TOLERANCE:
            return "exp is more than 20 minutes in the future"
        if iat is not None and iat > now + self.CLOCK_SKEW:
            return "iat is in the future"
        if "iss" in claims:
            if claims["iss"] != self._issuer_id:
                return "unknown issuer id"
        elif claims.get("sub") != "user":
            return "iss missing (team keys need iss; individual keys use sub 'user')"
        scope = claims.get("scope")
        if scope is not None:
            # Scope entries look like "GET /v1/apps?filter[platform]=IOS": compare with the
            # query as sent and percent-decoded.
            wanted = {f"{method} {path}"}
            if raw_query:
                wanted = {f"{method} {path}?{raw_query}", f"{method} {path}?{unquote(raw_query)}"}
            if not isinstance(scope, list) or not wanted.intersection(scope):
                return "request not covered by the token's scope"
        return None


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


# --------------------------------------------------------------------------------------
# Rate limit
# --------------------------------------------------------------------------------------


class RateLimiter:
    """Apple's hourly budget per key over a rolling hour (in memory: a restart refills it)."""

    WINDOW = 3600.0

    def __init__(self, limit: int = 3600, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)

    def _trim(self, bucket: collections.deque[float], now: float) -> None:
        while bucket and bucket[0] <= now - self.WINDOW:
            bucket.popleft()

    def consume(self, key: str) -> tuple[int, float | None]:
        """Take one request: (remaining, None), or (0, seconds until one frees) when spent."""
        with self._lock:
            now = self._clock()
            bucket = self._hits[key]
            self._trim(bucket, now)
            if len(bucket) >= self.limit:
                return 0, max(1.0, bucket[0] + self.WINDOW - now)
            bucket.append(now)
            return self.limit - len(bucket), None

    def remaining(self, key: str) -> int:
        with self._lock:
            bucket = self._hits[key]
            self._trim(bucket, self._clock())
            return max(0, self.limit - len(bucket))

    def header(self, remaining: int) -> str:
        return f"user-hour-lim:{self.limit};user-hour-rem:{remaining};"

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


# --------------------------------------------------------------------------------------
# Admin API
# --------------------------------------------------------------------------------------


def _admin_error(status: int, code: str, detail: str) -> ApiError:
    return ApiError(ErrorItem(status, code, "Emulator admin request failed", detail))


class AdminApi:
    """``/_emulator`` endpoints: out-of-band state changes for tests and demos (no auth).

    ``GET /health``; ``GET|POST /objects/{type}``; ``GET|PATCH|DELETE /objects/{type}/{id}``;
    ``POST /certificates/{id}/revoke``; ``GET /ca``; ``GET|DELETE /requests``;
    ``GET|POST|DELETE /faults`` and ``GET|DELETE /faults/{id}`` (see :mod:`.faults`);
    ``GET|PATCH /access`` (the key's roles and the agreements, see :mod:`.access`);
    ``GET|PUT /listing-lag`` (``{"seconds": 2}``: new objects stay out of listings that long);
    ``POST /builds`` (upload a build: ``{"app", "version", "buildNumber", "platform"?,
    "processingState"?, ...}``, its pre-release version made when missing);
    ``GET|PUT /quirks`` (``{"duplicateTesters": true}``: deleted testers leave a detached entry
    with their e-mail behind, see :mod:`.testflight`);
    ``POST /appStoreVersions/{id}/state`` (``{"state": "IN_REVIEW"}``: App Review moves a version,
    see :mod:`.metadata`); ``GET|PUT /media`` (``{"partSize", "processingSeconds"}`` of uploads)
    and ``GET|POST|DELETE /media/failures`` (assets whose processing is to fail, see
    :mod:`.media`); ``POST /reset``.
    Object bodies are ``{"id"?, "attributes": {...}, "relationships"?: {name: id | [ids] | null}}``
    (a JSON array of them creates several in one transaction). Attributes are stored as given
    (unknown enum values and hidden attributes such as a capability's ``enabled`` included, to
    imitate Apple returning new values and the web UI changing things); computed ones are
    filled by the type's rules, unique keys must stay unique, and deletes run the type's
    cascade (revoking a certificate invalidates its profiles). Objects are shown with their
    hidden attributes.
    """

    def __init__(self, emulator: EmulatorApp) -> None:
        self.emulator = emulator
        self.api = emulator.api
        self.store = emulator.store

    def handle(self, method: str, path: str, base_url: str, body: bytes) -> Response:
        parts = [p for p in path[len(ADMIN_PREFIX) :].split("/") if p]
        route = (method, *parts[:1])
        if route == ("GET", "health"):
            creds = self.emulator.credentials
            return Response(
                200,
                {
                    "ok": True,
                    "key_id": creds.key_id,
                    "issuer_id": creds.issuer_id,
                    "team_id": creds.team_id,
                    "objects": self.store.count(),
                },
            )
        if parts[:1] == ["requests"] and len(parts) == 1:
            if method == "GET":
                return Response(200, {"data": self.store.requests()})
            if method == "DELETE":
                self.store.clear_requests()
                return Response(204, None)
        if route == ("POST", "reset") and len(parts) == 1:
            self.store.reset()
            self.store.set_meta(DUPLICATE_TESTERS, "false")
            self.emulator.rate_limiter.reset()
            self.emulator.faults.reset()
            self.emulator.access.reset()
            media.clear(self.store)
            self.api.listing_lag = 0.0
            return Response(200, {"ok": True})
        if parts == ["listing-lag"] and method in ("GET", "PUT"):
            if method == "PUT":
                payload = self._json(body)
                seconds = payload.get("seconds") if isinstance(payload, dict) else None
                if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= 300:
                    raise _admin_error(400, "PARAMETER_ERROR.INVALID", "listing-lag needs {\"seconds\": 0..300}")
                self.api.listing_lag = float(seconds)
            return Response(200, {"seconds": self.api.listing_lag})
        if parts == ["quirks"] and method in ("GET", "PUT"):
            return self._quirks(method, body)
        if parts[:1] == ["media"] and len(parts) <= 2:
            return self._media(method, parts[1:], body)
        if parts == ["builds"] and method == "POST":
            return self._upload(base_url, body)
        if parts == ["access"] and method in ("GET", "PATCH"):
            access = self.emulator.access
            return Response(200, access.update(self._json(body)) if method == "PATCH" else access.to_json())
        if parts[:1] == ["faults"] and len(parts) in (1, 2):
            return self._faults(method, parts[1] if len(parts) == 2 else None, body)
        if route == ("GET", "ca") and len(parts) == 1:
            authority = self.emulator.ctx.ca
            return Response(200, {"certificate": authority.certificate_pem, "subject": authority.certificate.subject.rfc4514_string()})
        if method == "POST" and len(parts) == 3 and parts[0] == "certificates" and parts[2] == "revoke":
            return self._revoke(parts[1])
        if method == "POST" and len(parts) == 3 and parts[0] == "appStoreVersions" and parts[2] == "state":
            return self._move_version(parts[1], base_url, body)
        if parts[:1] == ["objects"] and len(parts) in (2, 3):
            return self._objects(method, parts[1], parts[2] if len(parts) == 3 else None, base_url, body)
        raise _admin_error(404, "NOT_FOUND", f"No admin endpoint {method} {path}")

    def _type(self, rest_type: str) -> ResourceType:
        rt = self.api.registry.get(rest_type)
        if rt is None:
            known = ", ".join(sorted(self.api.registry.types))
            raise _admin_error(404, "NOT_FOUND", f"Unknown type '{rest_type}'. Known types: {known}")
        return rt

    def _objects(self, method: str, rest_type: str, object_id: str | None, base: str, body: bytes) -> Response:
        rt = self._type(rest_type)
        if object_id is None and method == "GET":
            return Response(200, {"data": [self.api.render(o, base, admin=True) for o in self.store.all_of(rest_type)]})
        if object_id is None and method == "POST":
            payload = self._json(body)
            many = isinstance(payload, list)
            with self.store.transaction():
                created = []
                for item in payload if many else [payload]:
                    given_id, attributes, relationships = self._parts(item, creating=True)
                    if given_id is not None and self.store.get(rest_type, given_id) is not None:
                        raise _admin_error(409, "CONFLICT", f"A '{rest_type}' object with id '{given_id}' already exists")
                    created.append(self.api.insert(rt, given_id, attributes, relationships, operation=ADMIN_CREATE))
            rendered = [self.api.render(o, base, admin=True) for o in created]
            return Response(201, {"data": rendered if many else rendered[0]})
        if object_id is not None:
            if method == "GET":
                return Response(200, {"data": self.api.render(self._get(rest_type, object_id), base, admin=True)})
            if method == "PATCH":
                payload = self._json(body)
                _, attributes, relationships = self._parts(payload, creating=False)
                with self.store.transaction():
                    old = self._get(rest_type, object_id)
                    obj = self.api.change(rt, old, attributes, relationships, operation=ADMIN_UPDATE)
                return Response(200, {"data": self.api.render(obj, base, admin=True)})
            if method == "DELETE":
                with self.store.transaction():
                    self.api.remove(rt, self._get(rest_type, object_id))
                return Response(204, None)
        raise _admin_error(405, "METHOD_NOT_ALLOWED", f"{method} is not supported here")

    def _faults(self, method: str, rule_id: str | None, body: bytes) -> Response:
        """``GET`` lists the rules with their counters and the totals per kind; ``POST`` adds
        one rule, a list or ``{"seed"?, "rules": [...]}`` and answers their ids; ``DELETE``
        removes one rule or all of them (the totals stay until ``POST /_emulator/reset``)."""
        faults = self.emulator.faults
        if rule_id is None:
            if method == "GET":
                return Response(200, faults.listing())
            if method == "POST":
                rules, single = faults.add(self._json(body))
                shown = [r.to_json() for r in rules]
                return Response(201, {"ids": [r.id for r in rules], "data": shown[0] if single else shown})
            if method == "DELETE":
                faults.clear()
                return Response(204, None)
        else:
            rule = faults.get(rule_id)
            if rule is None:
                raise _admin_error(404, "NOT_FOUND", f"There is no fault rule '{rule_id}'")
            if method == "GET":
                return Response(200, {"data": rule.to_json()})
            if method == "DELETE":
                faults.remove(rule_id)
                return Response(204, None)
        raise _admin_error(405, "METHOD_NOT_ALLOWED", f"{method} is not supported here")

    def _media(self, method: str, rest: list[str], body: bytes) -> Response:
        """Upload settings (``GET|PUT /media``) and injected processing failures
        (``GET|POST|DELETE /media/failures``)."""
        if not rest and method in ("GET", "PUT"):
            shown = media.update_settings(self.store, self._json(body)) if method == "PUT" else media.settings(self.store)
            return Response(200, shown)
        if rest == ["failures"] and method == "GET":
            return Response(200, {"data": media.failures(self.store)})
        if rest == ["failures"] and method == "POST":
            return Response(201, {"data": media.add_failure(self.store, self._json(body))})
        if rest == ["failures"] and method == "DELETE":
            self.store.set_meta("media.failures", "")
            return Response(204, None)
        raise _admin_error(405, "METHOD_NOT_ALLOWED", f"{method} is not supported here")

    def _quirks(self, method: str, body: bytes) -> Response:
        """Apple's behaviours that are switched on for a test: ``duplicateTesters``."""
        if method == "PUT":
            payload = self._json(body)
            value = payload.get("duplicateTesters") if isinstance(payload, dict) else None
            if not isinstance(value, bool) or set(payload) != {"duplicateTesters"}:
                raise _admin_error(400, "INVALID_BODY", 'quirks takes {"duplicateTesters": true|false}')
            self.store.set_meta(DUPLICATE_TESTERS, "true" if value else "false")
        return Response(200, {"duplicateTesters": self.store.get_meta(DUPLICATE_TESTERS) == "true"})

    def _upload(self, base: str, body: bytes) -> Response:
        """Upload a build as Xcode or Transporter does: ``{"app", "version" (the marketing
        version, CFBundleShortVersionString), "buildNumber" (CFBundleVersion), "platform"
        (IOS), "processingState" (PROCESSING), "buildAudienceType", "uploadedDate",
        "usesNonExemptEncryption", "id"}``. The pre-release version (app, version, platform) is
        made when missing. A build number the version already has is refused, as App Store
        Connect refuses a second upload of one (the "bundle version must be higher" error
        teams see from altool)."""
        payload = self._json(body)
        if not isinstance(payload, dict):
            raise _admin_error(400, "INVALID_BODY", "builds takes an object {app, version, buildNumber, ...}")
        allowed = {"app", "version", "buildNumber", "platform", "processingState", "buildAudienceType", "uploadedDate",
                   "usesNonExemptEncryption", "minOsVersion", "id"}
        unknown = sorted(set(payload) - allowed)
        missing = [k for k in ("app", "version", "buildNumber") if not isinstance(payload.get(k), str) or not payload[k]]
        if unknown or missing:
            raise _admin_error(400, "INVALID_BODY", f"builds: unknown keys {unknown}, missing or not strings {missing}")
        app_id, version, platform = payload["app"], payload["version"], payload.get("platform") or "IOS"
        self._get("apps", app_id)
        with self.store.transaction():
            versions = [
                v for v in self.store.all_of("preReleaseVersions")
                if v.relationships.get("app") == app_id and v.attributes.get("version") == version
                and v.attributes.get("platform") == platform
            ]
            if versions:
                pre_release = versions[0]
            else:
                pre_release = self.api.insert(
                    self._type("preReleaseVersions"), None, {"version": version, "platform": platform}, {"app": app_id},
                    operation=ADMIN_CREATE,
                )
            numbers = {b.attributes.get("version") for b in self.store.all_of("builds") if b.relationships.get("preReleaseVersion") == pre_release.id}
            if payload["buildNumber"] in numbers:
                raise _admin_error(409, "CONFLICT", f"version {version} ({platform}) of app {app_id} already has build {payload['buildNumber']}")
            attributes = {k: payload[k] for k in ("processingState", "buildAudienceType", "uploadedDate", "usesNonExemptEncryption", "minOsVersion") if k in payload}
            build = self.api.insert(
                self._type("builds"), payload.get("id"), {"version": payload["buildNumber"], **attributes},
                {"app": app_id, "preReleaseVersion": pre_release.id}, operation=ADMIN_CREATE,
            )
        return Response(201, {"data": self.api.render(build, base, admin=True)})
    def _move_version(self, version_id: str, base: str, body: bytes) -> Response:
        """Move a version through App Review as Apple does out of band (submission, review,
        approval, release): ``{"state": "IN_REVIEW"}`` (an ``AppStoreVersionState``). The app's
        editable app info follows (:mod:`.metadata`); once a version is READY_FOR_DISTRIBUTION the
        next one can be created through the API."""
        payload = self._json(body)
        state = payload.get("state") if isinstance(payload, dict) else None
        allowed = sorted(INFO_STATE_FOR) + ["REPLACED_WITH_NEW_VERSION"]
        if state not in allowed or set(payload) != {"state"}:
            raise _admin_error(400, "INVALID_BODY", f"state takes {{\"state\": one of {', '.join(allowed)}}}")
        rt = self._type("appStoreVersions")
        with self.store.transaction():
            old = self._get("appStoreVersions", version_id)
            store_state = STORE_STATE_FOR.get(state, state)
            moved = self.api.change(rt, old, {"appVersionState": state, "appStoreState": store_state}, {}, operation=ADMIN_UPDATE)
        return Response(200, {"data": self.api.render(moved, base, admin=True)})

    def _revoke(self, certificate_id: str) -> Response:
        """Revoke a certificate out of band, as the web UI does: the same rule as the API's
        DELETE. Answers the profiles it invalidated."""
        rt = self._type("certificates")
        with self.store.transaction():
            before = {p.id for p in self.store.all_of("profiles") if p.attributes.get("profileState") == "INVALID"}
            self.api.remove(rt, self._get("certificates", certificate_id))
            after = {p.id for p in self.store.all_of("profiles") if p.attributes.get("profileState") == "INVALID"}
        return Response(200, {"revoked": certificate_id, "invalidatedProfiles": sorted(after - before)})

    def _get(self, rest_type: str, object_id: str) -> StoredObject:
        obj = self.store.get(rest_type, object_id)
        if obj is None:
            raise _admin_error(404, "NOT_FOUND", f"There is no resource of type '{rest_type}' with id '{object_id}'")
        return obj

    @staticmethod
    def _json(body: bytes) -> Any:
        try:
            return json.loads(body or b"{}")
        except ValueError as exc:
            raise _admin_error(400, "INVALID_JSON", f"The body is not valid JSON: {exc}") from None

    @staticmethod
    def _parts(item: Any, *, creating: bool) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
        if not isinstance(item, dict):
            raise _admin_error(400, "INVALID_BODY", "Expected an object {id?, attributes, relationships?}")
        object_id = item.get("id")
        attributes = item.get("attributes", {})
        relationships = item.get("relationships", {})
        if not isinstance(attributes, dict) or not isinstance(relationships, dict):
            raise _admin_error(400, "INVALID_BODY", "'attributes' and 'relationships' must be objects")
        if object_id is not None and not isinstance(object_id, str):
            raise _admin_error(400, "INVALID_BODY", "'id' must be a string")
        if not creating and object_id is not None:
            raise _admin_error(400, "INVALID_BODY", "the id is given by the URL")
        links: dict[str, Any] = {}
        for name, value in relationships.items():
            # Accept plain ids or JSON:API linkage ({"data": {"type", "id"}} / {"data": [...]}).
            if isinstance(value, dict) and "data" in value:
                data = value["data"]
                value = [d["id"] for d in data] if isinstance(data, list) else (data or {}).get("id")
            links[name] = value
        return object_id, attributes, links


# --------------------------------------------------------------------------------------
# The WSGI application
# --------------------------------------------------------------------------------------


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EmulatorApp:
    """The WSGI callable. Thread-safe: shared state is the store and the rate limiter."""

    def __init__(
        self,
        store: Store,
        credentials: Credentials,
        registry: Registry,
        *,
        rate_limit: int = 3600,
        clock: Callable[[], float] = time.time,
        access_log: Callable[[str], None] | None = None,
        authority: Authority | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.credentials = credentials
        if authority is None:
            authority = Authority.load_or_create(store, datetime.fromtimestamp(clock(), timezone.utc))
        self.ctx = Context(store=store, team_id=credentials.team_id, clock=clock, authority=authority)
        self.api = Api(self.ctx, registry)
        self.verifier = TokenVerifier(credentials, clock)
        self.rate_limiter = RateLimiter(rate_limit, clock)
        self.faults = FaultInjector()
        self.access = KeyAccess()
        self.uploads = media.Uploads(self.ctx)
        self._sleep = sleep  # the latency faults' (injectable for tests)
        self.admin = AdminApi(self)
        self.access_log = access_log

    def __call__(self, environ: Mapping[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = str(environ.get("PATH_INFO", "") or "/")
        raw_query = str(environ.get("QUERY_STRING", ""))
        base_url = _base_url(environ)
        body = _read_body(environ)
        bucket = self.credentials.key_id
        is_api = path == API_PREFIX or path.startswith(API_PREFIX + "/")
        is_upload = path.startswith(media.UPLOAD_PREFIX + "/")
        injection = self.faults.decide(method, path, raw_query) if is_api or is_upload else Injection()
        fault = injection.fault
        if injection.delay > 0:
            self._sleep(injection.delay)
        try:
            if not is_api and (path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")):
                response = self.admin.handle(method, path, base_url, body)
            elif fault is not None and fault.kind == DROP_BEFORE_COMMIT:
                response = None  # never handled
            elif fault is not None and fault.kind != DROP_AFTER_COMMIT:
                raise fault.error(self.rate_limiter.header(self.rate_limiter.remaining(bucket)))
            elif is_upload:
                response = self._upload_part(environ, method, path, raw_query, body)
            else:
                response, bucket = self._api(environ, method, path, raw_query, base_url, body)
        except ApiError as exc:
            response = Response(exc.status, exc.document(), dict(exc.headers))
            if fault is not None and fault.html:
                response = Response(exc.status, fault.html_body(), {**exc.headers, "Content-Type": "text/html"})  # type: ignore[arg-type]
        except Exception as exc:  # never leak a traceback to the client; log it
            print(f"asc-emulator: internal error on {method} {path}: {exc!r}", file=sys.stderr)
            response = Response(500, ApiError(unexpected_error()).document())
        dropped = fault is not None and fault.kind in (DROP_BEFORE_COMMIT, DROP_AFTER_COMMIT)
        # "committed": the request was carried out (2xx from its handler), whether or not the
        # answer reached the client; a fault that answers or drops first means it was not.
        committed = response is not None and 200 <= response.status < 300 and (fault is None or fault.kind == DROP_AFTER_COMMIT)
        if response is not None and "X-Rate-Limit" not in response.headers and not is_upload:
            response.headers["X-Rate-Limit"] = self.rate_limiter.header(self.rate_limiter.remaining(bucket))
        duration_ms = (time.perf_counter() - started) * 1000
        status = 0 if dropped or response is None else response.status  # 0: no answer was sent
        if is_api or is_upload:
            self.store.log_request(
                method, path, raw_query, status, _now_iso(), duration_ms,
                fault=injection.kind, delay=injection.delay, committed=committed, size=len(body),
            )
        if self.access_log is not None:
            suffix = f"?{raw_query}" if raw_query else ""
            outcome = str(status)
            if dropped:
                handled = f" (handled: {response.status})" if response is not None else ""
                outcome = f"connection dropped: {fault.kind}{handled}"  # type: ignore[union-attr]
            elif injection.kind is not None:
                outcome += f" [fault: {injection.kind}]"
            self.access_log(f"{method} {path}{suffix} -> {outcome} ({duration_ms:.1f} ms)")
        if dropped:
            raise dropped_connection(fault.kind, committed=committed)  # type: ignore[union-attr]
        assert response is not None
        return _send(response, start_response)

    def _upload_part(self, environ: Mapping[str, Any], method: str, path: str, raw_query: str, body: bytes) -> Response:
        """A PUT to an upload URL (no JWT, no budget: Apple's are not API requests)."""
        headers = {key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items() if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        answer = self.uploads.handle(method, path, dict(parse_qsl(raw_query)), headers, body)
        return Response(answer.status, answer.body, dict(answer.headers))  # type: ignore[arg-type]

    def _api(
        self, environ: Mapping[str, Any], method: str, path: str, raw_query: str, base_url: str, body: bytes
    ) -> tuple[Response, str]:
        authorization = environ.get("HTTP_AUTHORIZATION")
        reason = self.verifier.verify(authorization, method, path, raw_query)
        if reason is not None:
            # Apple's 401 is deliberately vague; the reason goes to a debugging header.
            printable = "".join(ch if " " <= ch < "\x7f" else "?" for ch in reason)
            raise ApiError(not_authorized(), headers={"X-Emulator-Auth-Error": printable})
        # A verified token is always signed by the one key the emulator issued: one budget.
        bucket = self.credentials.key_id
        remaining, retry_after = self.rate_limiter.consume(bucket)
        rate_header = self.rate_limiter.header(remaining)
        if retry_after is not None:
            raise ApiError(
                rate_limit_exceeded(), headers={"Retry-After": str(int(retry_after + 0.999)), "X-Rate-Limit": rate_header}
            )
        query = parse_qsl(raw_query, keep_blank_values=True)
        try:
            self.access.check(method, path)
            response = self.api.handle(Request(method, path, query, raw_query, base_url, body))
        except ApiError as exc:
            exc.headers.setdefault("X-Rate-Limit", rate_header)
            raise
        response.headers["X-Rate-Limit"] = rate_header
        return response, bucket


def _base_url(environ: Mapping[str, Any]) -> str:
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST")
    if not host:
        host = str(environ.get("SERVER_NAME", "localhost"))
        port = str(environ.get("SERVER_PORT", ""))
        if port and port != ("443" if scheme == "https" else "80"):
            host = f"{host}:{port}"
    return f"{scheme}://{host}"


def _read_body(environ: Mapping[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    return stream.read(length) if stream is not None and length > 0 else b""


def _send(response: Response, start_response: StartResponse) -> list[bytes]:
    headers = {"X-Request-ID": str(uuid.uuid4()), **response.headers}
    if isinstance(response.body, bytes):  # a fault's HTML page, an upload URL's XML error
        payload = response.body
    else:
        payload = b"" if response.body is None else json.dumps(response.body, separators=(",", ":")).encode()
    if response.body is not None:  # a 204 (or a 202 with nothing to say) has no body, no JSON type
        headers.setdefault("Content-Type", "application/json")
    if response.status != 204:
        headers["Content-Length"] = str(len(payload))
    start_response(f"{response.status} {_REASONS.get(response.status, 'Unknown')}", list(headers.items()))
    return [payload] if payload else []


_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


# --------------------------------------------------------------------------------------
# Facade
# --------------------------------------------------------------------------------------


class Emulator:
    """A fake App Store Connect bound to a state dir (created if missing).

    ``Emulator(state_dir).app`` is the WSGI app (use with ``httpx.WSGITransport``);
    :meth:`serve` runs it on a real socket. The first start in a state dir issues an API key
    (``AuthKey_<KEYID>.p8``); later starts reuse it and every stored object. ``sleep`` is what
    latency faults call (a test may pass a fake).
    """

    def __init__(
        self,
        state_dir: Path | str,
        *,
        rate_limit: int = 3600,
        clock: Callable[[], float] = time.time,
        access_log: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.state_dir / DB_FILENAME)
        self.credentials = self.store.credentials(self.state_dir)
        # The CA that issues certificates and signs profiles: made on first start, kept in the
        # state, its certificate mirrored to emulator-ca.pem.
        self.authority = Authority.load_or_create(
            self.store, datetime.fromtimestamp(clock(), timezone.utc), state_dir=self.state_dir
        )
        self.app = EmulatorApp(
            self.store,
            self.credentials,
            Registry(),
            rate_limit=rate_limit,
            clock=clock,
            access_log=access_log,
            authority=self.authority,
            sleep=sleep,
        )

    @property
    def faults(self) -> FaultInjector:
        """The fault rules (in memory), as the admin API's ``/_emulator/faults`` sees them."""
        return self.app.faults

    @property
    def access(self) -> KeyAccess:
        """The key's roles and the agreements flag, as ``/_emulator/access`` sees them."""
        return self.app.access

    @property
    def key_id(self) -> str:
        return self.credentials.key_id

    @property
    def issuer_id(self) -> str:
        return self.credentials.issuer_id

    @property
    def team_id(self) -> str:
        return self.credentials.team_id

    @property
    def private_key_pem(self) -> str:
        return self.credentials.private_key_pem

    @property
    def private_key_path(self) -> Path:
        return self.credentials.private_key_path

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
        """Serve on ``host:port`` (0: a free port) in a background thread; see ``.base_url``."""
        from .server import EmulatorServer

        return EmulatorServer(self.app, host, port).start()

    def close(self) -> None:
        self.store.close()
