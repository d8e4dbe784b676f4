"""Records every ``/v1`` exchange an in-process emulator serves during the test session.

:meth:`Recorder.install` wraps ``EmulatorApp.__call__`` (the WSGI entry point every emulator
in this process goes through: ``httpx.WSGITransport`` in the emulator tests, the threaded
socket server the engine tests' provider processes talk to). Nothing in the emulator changes;
the wrapper only copies the request and the answer. Each exchange remembers the test that was
running and whether the provider sent it (a frame of the reconciler, a resource hook or the
CLI is on the calling stack, or the request came from the engine tier, whose programs talk
to the emulator only through the provider). Admin-API writes are not exchanges with Apple,
but the values a test seeds through them are remembered, so that an off-spec value a test
planted on purpose (platform ``SERVICES``) is told apart from one the emulator made up.
"""

from __future__ import annotations

import io
import json
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

from .contract import Exchange

_PACKAGE = Path(__import__("pulumi_appstoreconnect").__file__).resolve().parent
# Source files whose frames mark a request as the provider's own.
_PROVIDER_FILES = frozenset(
    str(p)
    for p in [_PACKAGE / "reconciler.py", _PACKAGE / "assets.py", _PACKAGE / "cli.py", _PACKAGE / "lookups.py", *(_PACKAGE / "resources").glob("*.py")]
)
_PROVIDER_SUITES = ("tests/engine/",)


def _sent_by_provider() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename in _PROVIDER_FILES:
            return True
        frame = frame.f_back
    return False


# The admin API's own structure: never evidence that a test planted an off-spec member.
_STRUCTURE = frozenset({"id", "type", "attributes", "relationships", "data"})


def _tokens(value: Any) -> Iterable[str]:
    """Every key and scalar value inside a JSON document (but the admin API's own keys)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in _STRUCTURE:
                yield str(key)
            yield from _tokens(item)
    elif isinstance(value, list):
        for item in value:
            yield from _tokens(item)
    elif value is not None:
        yield str(value)


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.exchanges: list[Exchange] = []
        self.current_test = ""
        self._seeded: dict[str, set[str]] = {}
        self._original: Callable[..., Any] | None = None
        self.checked = 0  # exchanges[:checked] have been validated
        # A test that serves a made-up surface (not Apple's) is not recorded: Apple's contract
        # says nothing about it (tests marked ``synthetic_surface``).
        self.paused = False

    # -- installation ---------------------------------------------------------------------

    def install(self) -> None:
        from pulumi_appstoreconnect.emulator.app import EmulatorApp

        if self._original is not None:
            return
        original = EmulatorApp.__call__
        recorder = self

        def recording_call(app: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            return recorder._serve(original, app, environ, start_response)

        recording_call.__wrapped__ = original  # type: ignore[attr-defined]
        EmulatorApp.__call__ = recording_call  # type: ignore[method-assign]
        self._original = original

    def uninstall(self) -> None:
        from pulumi_appstoreconnect.emulator.app import EmulatorApp

        if self._original is not None:
            EmulatorApp.__call__ = self._original  # type: ignore[method-assign]
            self._original = None

    # -- recording ------------------------------------------------------------------------

    def _serve(self, original: Callable[..., Any], app: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = str(environ.get("PATH_INFO", "") or "/")
        # Only Apple's API: the upload URLs of asset reservations (/_uploads) are not API
        # requests (no token, not in Apple's spec), nor is the admin API.
        is_api = path == "/v1" or path.startswith("/v1/")
        is_admin_write = path.startswith("/_emulator/objects") and environ.get("REQUEST_METHOD") in ("POST", "PATCH")
        if self.paused or not (is_api or is_admin_write):
            return original(app, environ, start_response)
        test = self.current_test
        provider = is_api and (test.startswith(_PROVIDER_SUITES) or _sent_by_provider())
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        stream = environ.get("wsgi.input")
        body = stream.read(length) if stream is not None and length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        answer: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer["status"], answer["headers"] = status, headers
            return start_response(status, headers, exc_info) if exc_info is not None else start_response(status, headers)

        result = original(app, environ, capture)  # a dropped connection raises: nothing to record
        try:
            chunks = list(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status = int(str(answer.get("status", "0")).split()[0] or 0)
        if is_admin_write:
            if 200 <= status < 300:
                try:
                    seeded = set(_tokens(json.loads(body or b"null")))
                except ValueError:
                    seeded = set()
                with self._lock:
                    self._seeded.setdefault(test, set()).update(seeded)
            return chunks
        with self._lock:
            seeded_now = frozenset(self._seeded.get(test, ()))
        exchange = Exchange(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path=path,
            query=str(environ.get("QUERY_STRING", "")),
            request_body=body,
            request_content_type=environ.get("CONTENT_TYPE") or None,
            authorized=bool(environ.get("HTTP_AUTHORIZATION")),
            status=status,
            response_headers={k.lower(): v for k, v in answer.get("headers", [])},
            response_body=b"".join(chunks),
            test=test,
            origin="provider" if provider else "test",
            seeded=seeded_now,
        )
        with self._lock:
            self.exchanges.append(exchange)
        return chunks

    # -- reading --------------------------------------------------------------------------

    def of_test(self, nodeid: str) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.test == nodeid]

    def unchecked(self) -> list[Exchange]:
        """Exchanges not validated yet; marks them validated."""
        with self._lock:
            pending = self.exchanges[self.checked :]
            self.checked = len(self.exchanges)
            return pending


RECORDER = Recorder()
