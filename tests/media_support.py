"""Media files for tests: the example's own placeholder writers (examples/app-metadata/
placeholders.py, loaded by path), plus what no example ships (a JPEG header, a wrong file)."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path
from types import ModuleType
from typing import Callable

import httpx

from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.emulator.seeding import load_seed

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "app-metadata"


def _placeholders() -> ModuleType:
    spec = importlib.util.spec_from_file_location("app_metadata_placeholders", EXAMPLE / "placeholders.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


placeholders = _placeholders()
png = placeholders.png
mp4 = placeholders.mp4
IPHONE, IPAD, PREVIEW = placeholders.IPHONE, placeholders.IPAD, placeholders.PREVIEW


def jpeg(width: int, height: int) -> bytes:
    """The header of a baseline JPEG (SOI, JFIF, SOF0 with three components, EOI): enough for
    a reader of frame headers, not for a decoder."""
    jfif = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + jfif + sof + b"\xff\xd9"


def write(folder: Path, name: str, data: bytes) -> str:
    """Write ``data`` to ``folder/name``; its path as a program would give it (absolute)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return str(folder / name)


def iphone_shots(folder: Path, count: int = 3, *, shade: int = 0) -> list[str]:
    """``count`` distinct APP_IPHONE_67 screenshots (``shade`` makes another series)."""
    return [write(folder, f"iphone-{shade}-{n}.png", png(*IPHONE, (10 * n, shade, 200))) for n in range(count)]


VERSION = "DEMOVERSION0001"  # the demo seed's version
LOCALIZATION = "MEDIALOCALIZATION"


def media_account(state_dir: Path, clock: Callable[[], float], *, part_size: int, processing_seconds: float) -> Emulator:
    """The demo account plus a localization of the demo version with a known id (the seed's own
    has a random one), with these upload settings, on ``clock``."""
    emulator = Emulator(state_dir, clock=clock)
    load_seed(emulator, "demo")
    with httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url="https://api.appstoreconnect.apple.com") as admin:
        made = admin.post("/_emulator/objects/appStoreVersionLocalizations", json={
            "id": LOCALIZATION, "attributes": {"locale": "de-DE"}, "relationships": {"appStoreVersion": VERSION}})
        assert made.status_code == 201, made.text
        settings = admin.put("/_emulator/media", json={"partSize": part_size, "processingSeconds": processing_seconds})
        assert settings.status_code == 200, settings.text
    return emulator
