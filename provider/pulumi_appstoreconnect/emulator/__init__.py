"""A faithful fake App Store Connect API for offline use, demos and tests.

``Emulator(state_dir)`` gives the WSGI ``.app`` and the issued key (``.key_id``,
``.issuer_id``, ``.team_id``, ``.private_key_pem``, ``.private_key_path``);
``Emulator.serve()`` runs it on a socket. ``python -m pulumi_appstoreconnect.emulator`` is
the command line (see :func:`.server.main`).

Attributes are resolved lazily so that importing the package (e.g. for ``--help``) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import Emulator, EmulatorApp
    from .server import EmulatorServer, main
    from .store import ApiError, Store

__all__ = ["ApiError", "Emulator", "EmulatorApp", "EmulatorServer", "Store", "main"]

_WHERE = {
    "Emulator": "app",
    "EmulatorApp": "app",
    "EmulatorServer": "server",
    "main": "server",
    "ApiError": "store",
    "Store": "store",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)
