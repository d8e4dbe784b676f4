"""Placeholder screenshots and an app preview for this example, written on the first run into
``media/`` (not kept in git: they are made, a few kilobytes each, whenever they are missing).

The screenshots are solid-colour PNGs at sizes App Store Connect takes (APP_IPHONE_67
1290x2796, APP_IPAD_PRO_3GEN_129 2048x2732), RGB without alpha. The preview is a tiny MP4
whose headers say 886x1920 and 20 seconds but which holds no real frames: enough for the
provider's checks and the emulator, not for App Store Connect, which decodes the video. Use
your own files against a real account.

``python placeholders.py`` writes them; the program calls :func:`ensure` itself.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

IPHONE = (1290, 2796)
IPAD = (2048, 2732)
PREVIEW = (886, 1920)

# file name -> (size, colour); each colour makes a different image, hence a different checksum.
SCREENSHOTS: dict[str, dict[str, tuple[tuple[int, int], tuple[int, int, int]]]] = {
    "iphone": {
        "iphone-1-today.png": (IPHONE, (242, 140, 40)),
        "iphone-2-streak.png": (IPHONE, (40, 120, 200)),
        "iphone-3-share.png": (IPHONE, (60, 170, 90)),
    },
    "ipad": {
        "ipad-1-today.png": (IPAD, (242, 140, 40)),
        "ipad-2-streak.png": (IPAD, (40, 120, 200)),
    },
}
PREVIEWS = {"iphone-preview.mp4": (PREVIEW, 20.0)}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, colour: tuple[int, int, int], *, alpha: bool = False) -> bytes:
    """A solid-colour 8-bit PNG (RGB, or RGBA with ``alpha``)."""
    pixel = bytes(colour) + (b"\xff" if alpha else b"")
    rows = (b"\x00" + pixel * width) * height  # filter byte 0, then the pixels of each row
    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows, 6)) + _chunk(b"IEND", b"")


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(width: int, height: int, seconds: float) -> bytes:
    """An MP4 with a movie header (1000 units a second) and one video track of ``width`` x
    ``height`` (16.16 fixed point), and a few bytes of media data."""
    duration = int(seconds * 1000)
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _box(b"mvhd", struct.pack(">B3xIIII", 0, 0, 0, 1000, duration) + struct.pack(">IH10x", 0x10000, 0x100) + matrix + bytes(24) + struct.pack(">I", 2))
    tkhd = _box(b"tkhd", struct.pack(">B3BIIIII", 0, 0, 0, 3, 0, 0, 1, 0, duration) + bytes(8) + struct.pack(">hhhH", 0, 0, 0, 0) + matrix + struct.pack(">II", width << 16, height << 16))
    mdhd = _box(b"mdhd", struct.pack(">B3xIIIIHH", 0, 0, 0, 1000, duration, 0x55C4, 0))
    hdlr = _box(b"hdlr", struct.pack(">B3xI4s12x", 0, 0, b"vide") + b"VideoHandler\x00")
    moov = _box(b"moov", mvhd + _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr)))
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    return ftyp + moov + _box(b"mdat", b"\x00" * 16)


def ensure(directory: str | Path = "media") -> dict[str, list[str]]:
    """Write the files missing from ``directory``; their paths by set (``iphone``, ``ipad``,
    ``preview``), as the program passes them (relative to the program's directory)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, list[str]] = {}
    for group, files in SCREENSHOTS.items():
        for name, ((width, height), colour) in files.items():
            if not (folder / name).exists():
                (folder / name).write_bytes(png(width, height, colour))
            paths.setdefault(group, []).append(str(Path(directory) / name))
    for name, ((width, height), seconds) in PREVIEWS.items():
        if not (folder / name).exists():
            (folder / name).write_bytes(mp4(width, height, seconds))
        paths.setdefault("preview", []).append(str(Path(directory) / name))
    return paths


if __name__ == "__main__":
    for group, files in ensure().items():
        print(f"{group}: {', '.join(files)}")
