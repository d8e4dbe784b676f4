"""A threaded stdlib (wsgiref) server for the emulator, and its command line.

``python -m pulumi_appstoreconnect.emulator --port 0 --ready-file ready.json`` starts it; the
ready file (written atomically once the socket listens) tells scripts the port and the key.
SIGTERM and SIGINT stop it cleanly (in-flight requests finish; every acknowledged write is
already committed).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import socket
import socketserver
import sqlite3
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

if TYPE_CHECKING:
    from .app import Emulator

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8900
DEFAULT_STATE_DIR = ".asc-emulator"


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def server_bind(self) -> None:
        # HTTPServer.server_bind() calls socket.getfqdn(), a reverse DNS lookup that can hang
        # offline; the emulator knows its own name.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()


class _IPv6Server(_ThreadingWSGIServer):
    address_family = socket.AF_INET6


class _ServerHandler(ServerHandler):
    """wsgiref's per-request handler, plus the emulator's dropped-connection faults: when the
    app raises :func:`.faults.dropped_connection`'s exception nothing is written, and the
    request handler then closes the socket, so the client sees the connection end without an
    HTTP response (httpx: ``RemoteProtocolError``)."""

    def handle_error(self) -> None:
        from .faults import is_dropped_connection

        if is_dropped_connection(sys.exc_info()[1]):
            return  # no status line, no headers, no body; the socket closes after handle()
        super().handle_error()


class _QuietHandler(WSGIRequestHandler):
    """wsgiref's handler without its own access log (the app logs) or DNS lookups, running
    the app through :class:`_ServerHandler`."""

    def handle(self) -> None:
        # WSGIRequestHandler.handle() with our ServerHandler: one request per connection.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = ""
            self.request_version = ""
            self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():  # an error answer was sent
            return
        handler = _ServerHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=False)
        handler.request_handler = self  # type: ignore[attr-defined] # wsgiref's back-pointer for logging
        handler.run(self.server.get_app())  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return None

    def address_string(self) -> str:
        return str(self.client_address[0])


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class EmulatorServer:
    """A running emulator socket. ``base_url`` is what clients use (``http://host:port``)."""

    def __init__(self, app: Callable[..., Any], host: str = DEFAULT_HOST, port: int = 0) -> None:
        server_class = _IPv6Server if ":" in host else _ThreadingWSGIServer
        self._server = server_class((host, port), _QuietHandler)
        self._server.set_app(app)
        self.host = host
        self.port = int(self._server.server_address[1])
        self.base_url = f"http://{_url_host(host)}:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> EmulatorServer:
        """Serve in a daemon thread and return self."""
        self._thread = threading.Thread(target=self.serve_forever, name="asc-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        """Stop accepting requests, wait for the serving loop, close the socket."""
        if self._thread is not None:  # shutdown() would wait forever for a loop never started
            self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulumi-appstoreconnect emulator",
        description=(
            "Run a fake App Store Connect API on a local port. On first start in a state dir it "
            "issues an API key (AuthKey_<KEYID>.p8) and prints the environment to use it; state "
            "(objects, key) lives in SQLite in the state dir and survives restarts."
        ),
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"interface to listen on (default {DEFAULT_HOST})")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on; 0 picks a free one (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(DEFAULT_STATE_DIR),
        help=f"directory for the SQLite state and the issued .p8 key (default {DEFAULT_STATE_DIR})",
    )
    parser.add_argument(
        "--ready-file",
        type=Path,
        help=(
            "once listening, atomically write JSON {base_url, key_id, issuer_id, private_key_path, "
            "team_id, pid} here (removed again on a clean stop)"
        ),
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=3600,
        help="requests per key per rolling hour before 429 (default 3600, Apple's budget)",
    )
    parser.add_argument("--quiet", action="store_true", help="print neither the banner nor one line per request")
    parser.add_argument(
        "--seed",
        metavar="FILE",
        help=(
            "on first start (empty state), load objects Apple's API cannot create (apps, builds, a "
            "portal-made UNIVERSAL App ID, devices, certificates, profiles) from a JSON file: "
            '{"<type>": [{"id"?, "attributes", "relationships"?}, ...]}, each object shaped like the '
            "body of POST /_emulator/objects/<type>; 'demo' names the seed shipped with the package. "
            "A state dir that already holds objects is not seeded again"
        ),
    )
    parser.epilog = (
        "Admin API (no auth, loopback): /_emulator/health, /_emulator/objects/<type>[/<id>] "
        "(GET, POST, PATCH, DELETE: out-of-band changes), /_emulator/faults (fault injection), "
        "/_emulator/requests, /_emulator/reset. "
        "What the emulator models, and where it departs from Apple's spec on purpose: docs/emulator.md."
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The emulator command line. Returns the process exit code."""
    args = _parser().parse_args(argv)
    from .app import Emulator  # noqa: F811 - after argument parsing: --help stays fast

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        emulator = Emulator(args.state_dir, rate_limit=args.rate_limit, access_log=None if args.quiet else log)
    except (OSError, sqlite3.Error) as exc:
        print(f"asc-emulator: cannot open the state dir {args.state_dir}: {exc}", file=sys.stderr)
        return 2
    if args.seed is not None and _seed(emulator, args.seed, quiet=args.quiet) != 0:
        emulator.close()
        return 2
    try:
        server = EmulatorServer(emulator.app, args.host, args.port)
    except OSError as exc:
        print(f"asc-emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        emulator.close()
        return 2
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    server.start()
    try:
        _announce(args, server, emulator)
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        emulator.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if args.ready_file is not None:
            args.ready_file.unlink(missing_ok=True)
    if not args.quiet:
        print("App Store Connect emulator stopped", file=sys.stderr, flush=True)
    return 0


def _seed(emulator: Emulator, seed: str, *, quiet: bool) -> int:
    """Load ``--seed`` into a fresh state dir (see :mod:`.seeding`); 2 when it cannot."""
    from .seeding import SeedError, load_seed

    try:
        created = load_seed(emulator, seed)
    except SeedError as exc:
        print(f"asc-emulator: {exc}", file=sys.stderr)
        return 2
    if not quiet:
        if created:
            counts = ", ".join(f"{n} {rest_type}" for rest_type, n in created.items())
            print(f"asc-emulator: seeded {counts} from {seed}", file=sys.stderr, flush=True)
        else:
            print(f"asc-emulator: the state dir already holds objects; --seed {seed} not loaded", file=sys.stderr, flush=True)
    return 0


def _announce(args: argparse.Namespace, server: EmulatorServer, emulator: Emulator) -> None:
    """Write the ready file and print the banner with ready-to-paste exports."""
    if args.ready_file is not None:
        _write_atomically(
            args.ready_file,
            {
                "base_url": server.base_url,
                "key_id": emulator.key_id,
                "issuer_id": emulator.issuer_id,
                "private_key_path": str(emulator.private_key_path),
                "team_id": emulator.team_id,
                "pid": os.getpid(),
            },
        )
    if not args.quiet:
        print(
            f"App Store Connect emulator listening on {server.base_url}\n"
            f"  key id:      {emulator.key_id}\n"
            f"  issuer id:   {emulator.issuer_id}\n"
            f"  team id:     {emulator.team_id}\n"
            f"  private key: {emulator.private_key_path}\n"
            f"  state dir:   {emulator.state_dir}\n"
            f"  admin API:   {server.base_url}/_emulator/health\n"
            "Use it from a shell with:\n"
            f"export ASC_BASE_URL={shlex.quote(server.base_url)}\n"
            f"export ASC_KEY_ID={shlex.quote(emulator.key_id)}\n"
            f"export ASC_ISSUER_ID={shlex.quote(emulator.issuer_id)}\n"
            f"export ASC_PRIVATE_KEY_PATH={shlex.quote(str(emulator.private_key_path))}",
            flush=True,
        )
