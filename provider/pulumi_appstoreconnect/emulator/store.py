"""The emulator's state (one SQLite file) and its domain errors.

State is deliberately generic: every App Store Connect object is a row of
``objects(type, id, attributes, relationships, created)`` with JSON columns, so a new
resource type needs no schema change. The file uses WAL with ``synchronous=FULL`` and every
write commits before the HTTP answer is sent, so an acknowledged write survives ``kill -9``.

One connection is shared by all server threads and serialised by a re-entrant lock;
writes run inside ``BEGIN IMMEDIATE`` so check-then-insert (uniqueness rules) is atomic,
also against a second process opened on the same state dir.

Errors are :class:`ApiError` carrying one or more Apple-shaped error items. The catalogue of
codes and titles lives here, in one place, so every route answers the same way.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import string
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

DB_FILENAME = "emulator.sqlite3"

# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


@dataclass
class ErrorItem:
    """One entry of Apple's ``ErrorResponse.errors``. ``status`` is serialised as a string."""

    status: int
    code: str
    title: str
    detail: str
    source: dict[str, str] | None = None
    meta: dict[str, Any] | None = None
    links: dict[str, str] | None = None  # e.g. the agreements 403's {"see": "/business"}

    def to_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "status": str(self.status),  # Apple quirk: the status is a string ("409")
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
        }
        if self.source:
            item["source"] = dict(self.source)
        if self.meta:
            item["meta"] = self.meta
        if self.links:
            item["links"] = dict(self.links)
        return item


class ApiError(Exception):
    """An error answer: one or more items sharing the first item's HTTP status."""

    def __init__(self, *items: ErrorItem, headers: dict[str, str] | None = None) -> None:
        if not items:
            raise ValueError("ApiError needs at least one item")
        super().__init__("; ".join(f"{i.code}: {i.detail}" for i in items))
        self.items = list(items)
        self.headers = dict(headers or {})

    @property
    def status(self) -> int:
        return self.items[0].status

    @property
    def code(self) -> str:
        return self.items[0].code

    def document(self) -> dict[str, Any]:
        return {"errors": [item.to_json() for item in self.items]}


def _pointer(path: str) -> dict[str, str]:
    return {"pointer": path}


def _parameter(name: str) -> dict[str, str]:
    return {"parameter": name}


# The 401 document is Apple's, verbatim.
NOT_AUTHORIZED_DETAIL = (
    "Provide a properly configured and signed bearer token, and make sure that it has not expired. "
    "Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens"
)


def not_authorized() -> ErrorItem:
    return ErrorItem(401, "NOT_AUTHORIZED", "Authentication credentials are missing or invalid.", NOT_AUTHORIZED_DETAIL)


def not_found(rest_type: str, object_id: str, source: dict[str, str] | None = None) -> ErrorItem:
    return ErrorItem(
        404,
        "NOT_FOUND",
        "The specified resource does not exist",
        f"There is no resource of type '{rest_type}' with id '{object_id}'",
        source,
    )


def path_not_found() -> ErrorItem:
    return ErrorItem(
        404, "NOT_FOUND", "The specified resource does not exist", "The path provided does not match a defined resource type."
    )


def method_not_allowed(rest_type: str, method: str, allowed: list[str]) -> ErrorItem:
    return ErrorItem(
        405,
        "METHOD_NOT_ALLOWED",
        "The requested method is not allowed for this resource",
        f"The resource '{rest_type}' does not allow '{method}'. Allowed operations are: {', '.join(allowed)}",
    )


def parameter_invalid(parameter: str, detail: str) -> ErrorItem:
    return ErrorItem(400, "PARAMETER_ERROR.INVALID", "A parameter has an invalid value", detail, _parameter(parameter))


def parameter_illegal(parameter: str) -> ErrorItem:
    # Apple answers a parameter the endpoint does not take with .ILLEGAL (seen live for `limit`).
    return ErrorItem(
        400,
        "PARAMETER_ERROR.ILLEGAL",
        "A given parameter is not allowed for this request",
        f"The parameter '{parameter}' can not be used with this request",
        _parameter(parameter),
    )


def entity_unprocessable(detail: str, pointer: str = "") -> ErrorItem:
    return ErrorItem(422, "ENTITY_UNPROCESSABLE", "The request entity is not valid", detail, _pointer(pointer))


def type_invalid(expected: str, got: object) -> ErrorItem:
    detail = (
        f"You must provide the type '{expected}' with this request"
        if got is None
        else f"The type '{got}' does not match the resource type '{expected}'"
    )
    return ErrorItem(409, "ENTITY_ERROR.TYPE.INVALID", "The provided entity has an invalid type", detail, _pointer("/data/type"))


def id_invalid(detail: str) -> ErrorItem:
    return ErrorItem(409, "ENTITY_ERROR.ID.INVALID", "The provided entity id is invalid", detail, _pointer("/data/id"))


def id_not_allowed(operation: str) -> ErrorItem:
    return ErrorItem(
        409,
        "ENTITY_ERROR.ID.NOT_ALLOWED",
        "An id is not allowed for this request",
        f"An id can not be included in a '{operation}' request",
        _pointer("/data/id"),
    )


def attribute_required(wire: str) -> ErrorItem:
    return ErrorItem(
        409,
        "ENTITY_ERROR.ATTRIBUTE.REQUIRED",
        "The provided entity is missing a required attribute",
        f"You must provide a value for the attribute '{wire}' with this request",
        _pointer(f"/data/attributes/{wire}"),
    )


def attribute_unknown(wire: str, rest_type: str) -> ErrorItem:
    return ErrorItem(
        409,
        "ENTITY_ERROR.ATTRIBUTE.UNKNOWN",
        "The provided entity includes an unknown attribute",
        f"'{wire}' is not an attribute on the resource '{rest_type}'",
        _pointer(f"/data/attributes/{wire}"),
    )


def attribute_not_allowed(wire: str, operation: str) -> ErrorItem:
    return ErrorItem(
        409,
        "ENTITY_ERROR.ATTRIBUTE.NOT_ALLOWED",
        "An attribute in the provided entity is not allowed for this request",
        f"The attribute '{wire}' can not be included in a '{operation}' request",
        _pointer(f"/data/attributes/{wire}"),
    )


def attribute_type(wire: str, detail: str) -> ErrorItem:
    # Apple answers a value outside an enum with .TYPE (e.g. platform 'UNIVERSAL' refused live).
    return ErrorItem(
        409,
        "ENTITY_ERROR.ATTRIBUTE.TYPE",
        "An attribute in the provided entity has the wrong type",
        detail,
        _pointer(f"/data/attributes/{wire}"),
    )


def attribute_invalid(wire: str, detail: str) -> ErrorItem:
    return ErrorItem(
        409,
        "ENTITY_ERROR.ATTRIBUTE.INVALID",
        "An attribute in the provided entity has invalid value",
        detail,
        _pointer(f"/data/attributes/{wire}"),
    )


def entity_error(detail: str, pointer: str | None = None) -> ErrorItem:
    """Apple's generic 409 for its business rules on the provisioning types (seen live for a
    UDID already registered and the distribution-certificate limit; fastlane issues #17426,
    #20551 and #19349 quote the documents)."""
    return ErrorItem(
        409,
        "ENTITY_ERROR",
        "There is a problem with the request entity",
        detail,
        _pointer(pointer) if pointer else None,
    )


def relationship_required(name: str) -> ErrorItem:
    return ErrorItem(
        409,
        "ENTITY_ERROR.RELATIONSHIP.REQUIRED",
        "The provided entity is missing a required relationship",
        f"You must provide a value for the relationship '{name}' with this request",
        _pointer(f"/data/relationships/{name}"),
    )


def relationship_unknown(name: str, rest_type: str, operation: str | None = None) -> ErrorItem:
    detail = (
        f"The relationship '{name}' can not be included in a '{operation}' request"
        if operation
        else f"'{name}' is not a relationship on the resource '{rest_type}'"
    )
    return ErrorItem(
        409,
        "ENTITY_ERROR.RELATIONSHIP.UNKNOWN",
        "The provided entity includes an unknown relationship",
        detail,
        _pointer(f"/data/relationships/{name}"),
    )


def relationship_invalid(name: str, detail: str) -> ErrorItem:
    return ErrorItem(
        409,
        "ENTITY_ERROR.RELATIONSHIP.INVALID",
        "The provided entity includes a relationship with an invalid value",
        detail,
        _pointer(f"/data/relationships/{name}"),
    )


def rate_limit_exceeded() -> ErrorItem:
    return ErrorItem(
        429,
        "RATE_LIMIT_EXCEEDED",
        "The request rate limit has been reached.",
        "We've received too many requests for this API. Please wait and try again or slow down your request rate.",
    )


def unexpected_error() -> ErrorItem:
    return ErrorItem(
        500,
        "UNEXPECTED_ERROR",
        "An unexpected error occurred.",
        "An unexpected error occurred on the server side. If this issue continues, contact us at "
        "https://developer.apple.com/contact/.",
    )


# --------------------------------------------------------------------------------------
# Stored objects
# --------------------------------------------------------------------------------------

Linkage = str | list[str] | None  # to-one id, to-many ids, or no related object


@dataclass
class StoredObject:
    """One App Store Connect object as stored: wire-named attributes and relationship ids."""

    type: str
    id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    relationships: dict[str, Linkage] = field(default_factory=dict)
    created: int = 0  # insertion sequence: the default (stable) listing order


_ALNUM = string.ascii_uppercase + string.digits


def random_code(length: int = 10) -> str:
    """An Apple-style id: uppercase letters and digits (key ids, team ids, bundle ID ids)."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


@dataclass(frozen=True)
class Credentials:
    """The API key the emulator issued for its state dir."""

    key_id: str
    issuer_id: str
    team_id: str
    private_key_pem: str
    private_key_path: Path


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    attributes TEXT NOT NULL,
    relationships TEXT NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (type, id)
);
CREATE INDEX IF NOT EXISTS objects_by_type ON objects (type, created);
CREATE TABLE IF NOT EXISTS request_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    status INTEGER NOT NULL,
    time TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    fault TEXT,
    delay REAL NOT NULL DEFAULT 0,
    committed INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS upload_parts (
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    part INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (type, id, part)
);
"""
# Columns added to request_log after its first release: (name, declaration) for state files
# made before them.
_REQUEST_LOG_ADDED = (
    ("fault", "TEXT"),
    ("delay", "REAL NOT NULL DEFAULT 0"),
    ("committed", "INTEGER NOT NULL DEFAULT 0"),
    ("bytes", "INTEGER NOT NULL DEFAULT 0"),
)


class Store:
    """Thread-safe access to the state file. Use :meth:`transaction` to group writes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The file holds the issued private key: owner-only (SQLite gives -wal/-shm the same mode).
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        self._lock = threading.RLock()
        self._depth = 0
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30.0)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)
        with self.transaction():
            present = {row[1] for row in self._conn.execute("PRAGMA table_info(request_log)")}
            for name, declaration in _REQUEST_LOG_ADDED:
                if name not in present:
                    self._conn.execute(f"ALTER TABLE request_log ADD COLUMN {name} {declaration}")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the lock and an immediate (write) transaction; nested calls join the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._depth = 0
                self._conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self._conn.execute("COMMIT")  # durable (synchronous=FULL) before we answer

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # -- meta -------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def _next_seq(self) -> int:
        with self.transaction():
            current = int(self.get_meta("object_seq") or "0") + 1
            self.set_meta("object_seq", str(current))
            return current

    # -- objects ----------------------------------------------------------------------

    @staticmethod
    def _row(row: tuple[Any, ...]) -> StoredObject:
        return StoredObject(row[0], row[1], json.loads(row[2]), json.loads(row[3]), row[4])

    def get(self, rest_type: str, object_id: str) -> StoredObject | None:
        rows = self._query(
            "SELECT type, id, attributes, relationships, created FROM objects WHERE type = ? AND id = ?",
            (rest_type, object_id),
        )
        return self._row(rows[0]) if rows else None

    def all_of(self, rest_type: str) -> list[StoredObject]:
        """All objects of a type in creation order."""
        rows = self._query(
            "SELECT type, id, attributes, relationships, created FROM objects WHERE type = ? ORDER BY created",
            (rest_type,),
        )
        return [self._row(r) for r in rows]

    def get_many(self, rest_type: str, ids: list[str]) -> list[StoredObject]:
        """The objects among ``ids`` that exist, in creation order."""
        if not ids:
            return []
        found: list[StoredObject] = []
        for start in range(0, len(ids), 500):  # stay under SQLite's variable limit
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._query(
                f"SELECT type, id, attributes, relationships, created FROM objects WHERE type = ? AND id IN ({marks})",
                (rest_type, *chunk),
            )
            found.extend(self._row(r) for r in rows)
        return sorted(found, key=lambda o: o.created)

    def find_by_attribute(self, rest_type: str, wire: str, value: str) -> list[StoredObject]:
        """Objects whose attribute ``wire`` equals ``value`` ignoring ASCII case (a superset
        for natural-key matchers, which compare exactly or case-insensitively)."""
        rows = self._query(
            "SELECT type, id, attributes, relationships, created FROM objects "
            "WHERE type = ? AND lower(json_extract(attributes, ?)) = lower(?) ORDER BY created",
            (rest_type, f'$."{wire}"', value),
        )
        return [self._row(r) for r in rows]

    def count(self, rest_type: str | None = None) -> int:
        if rest_type is None:
            return int(self._query("SELECT COUNT(*) FROM objects")[0][0])
        return int(self._query("SELECT COUNT(*) FROM objects WHERE type = ?", (rest_type,))[0][0])

    def insert(self, obj: StoredObject) -> StoredObject:
        """Insert a new object (assigning its creation sequence). The id must be free."""
        with self.transaction():
            obj.created = self._next_seq()
            self._conn.execute(
                "INSERT INTO objects (type, id, attributes, relationships, created) VALUES (?, ?, ?, ?, ?)",
                (obj.type, obj.id, json.dumps(obj.attributes), json.dumps(obj.relationships), obj.created),
            )
        return obj

    def save(self, obj: StoredObject) -> StoredObject:
        """Write back an existing object's attributes and relationships."""
        with self.transaction():
            self._conn.execute(
                "UPDATE objects SET attributes = ?, relationships = ? WHERE type = ? AND id = ?",
                (json.dumps(obj.attributes), json.dumps(obj.relationships), obj.type, obj.id),
            )
        return obj

    def delete(self, rest_type: str, object_id: str) -> bool:
        with self.transaction():
            cursor = self._conn.execute("DELETE FROM objects WHERE type = ? AND id = ?", (rest_type, object_id))
            return cursor.rowcount > 0

    # -- request log ------------------------------------------------------------------

    def log_request(
        self,
        method: str,
        path: str,
        query: str,
        status: int,
        time: str,
        duration_ms: float,
        *,
        fault: str | None = None,
        delay: float = 0.0,
        committed: bool | None = None,
        size: int = 0,
    ) -> None:
        """Log one ``/v1`` or upload request. ``status`` 0: no answer was sent (a dropped
        connection); ``fault``: the injected fault's kind; ``delay``: injected latency (s);
        ``committed``: the request was carried out (default: a 2xx status); ``size``: the bytes
        of its body (``bytes`` in the log)."""
        if committed is None:
            committed = 200 <= status < 300
        with self.transaction():
            self._conn.execute(
                "INSERT INTO request_log (method, path, query, status, time, duration_ms, fault, delay, committed, bytes) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (method, path, query, status, time, round(duration_ms, 3), fault, delay, int(committed), size),
            )

    def requests(self) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT seq, method, path, query, status, time, duration_ms, fault, delay, committed, bytes "
            "FROM request_log ORDER BY seq"
        )
        keys = ("seq", "method", "path", "query", "status", "time", "duration_ms", "fault", "delay", "committed", "bytes")
        return [{**dict(zip(keys, row)), "committed": bool(row[9])} for row in rows]

    def clear_requests(self) -> None:
        with self.transaction():
            self._conn.execute("DELETE FROM request_log")

    def reset(self) -> None:
        """Forget every object, uploaded part and the request log; keep the API key (meta)."""
        with self.transaction():
            self._conn.execute("DELETE FROM objects")
            self._conn.execute("DELETE FROM request_log")
            self._conn.execute("DELETE FROM upload_parts")

    # -- uploaded bytes -----------------------------------------------------------------

    def put_part(self, rest_type: str, object_id: str, part: int, data: bytes) -> None:
        """Keep one uploaded part of an asset (a part sent again replaces the earlier one)."""
        with self.transaction():
            self._conn.execute(
                "INSERT OR REPLACE INTO upload_parts (type, id, part, data) VALUES (?, ?, ?, ?)",
                (rest_type, object_id, part, sqlite3.Binary(data)),
            )

    def part_sizes(self, rest_type: str, object_id: str) -> dict[int, int]:
        """Part number → bytes received, for the parts of one asset."""
        rows = self._query("SELECT part, length(data) FROM upload_parts WHERE type = ? AND id = ?", (rest_type, object_id))
        return {int(part): int(size) for part, size in rows}

    def assembled(self, rest_type: str, object_id: str) -> bytes:
        """The parts of one asset joined in part order."""
        rows = self._query("SELECT data FROM upload_parts WHERE type = ? AND id = ? ORDER BY part", (rest_type, object_id))
        return b"".join(bytes(row[0]) for row in rows)

    def drop_parts(self, rest_type: str, object_id: str) -> None:
        with self.transaction():
            self._conn.execute("DELETE FROM upload_parts WHERE type = ? AND id = ?", (rest_type, object_id))

    # -- the issued API key -----------------------------------------------------------

    def credentials(self, state_dir: Path) -> Credentials:
        """The state dir's API key, generated on first use and reused ever after.

        The key material is kept in ``meta`` (the source of truth) and mirrored to
        ``AuthKey_<KEYID>.p8`` (PKCS#8 PEM, mode 600), which is rewritten if it was removed.
        """
        with self.transaction():
            key_id = self.get_meta("key_id")
            if key_id is None:
                key_id = random_code()
                self.set_meta("key_id", key_id)
                self.set_meta("issuer_id", str(uuid.uuid4()))
                self.set_meta("team_id", random_code())
                self.set_meta("private_key_pem", _generate_private_key_pem())
            issuer_id = self.get_meta("issuer_id") or ""
            team_id = self.get_meta("team_id") or ""
            pem = self.get_meta("private_key_pem") or ""
        key_path = Path(state_dir).resolve() / f"AuthKey_{key_id}.p8"
        if not key_path.exists() or key_path.read_text() != pem:
            _write_private(key_path, pem)
        return Credentials(key_id, issuer_id, team_id, pem, key_path)


def _generate_private_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
