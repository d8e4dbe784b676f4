"""What a local screenshot or app preview file is, read before any request: its MD5 (Apple's
``sourceFileChecksum``, the file's identity), size, format and pixel size (and a video's
length), from the file's own headers.

PNG (``IHDR``, and whether it carries an alpha channel), JPEG (its ``SOFn`` frame header) and
MP4/QuickTime (ISO base media boxes: ``ftyp``, ``mvhd`` for the length, the video track's
``tkhd`` for its size) are read here, a few hundred bytes each: a dependency that decodes
images (Pillow) would be a large runtime dependency for two header fields.

Relative paths are resolved against the program's directory: the Pulumi engine starts the
dynamic provider in the project directory (the one holding ``Pulumi.yaml``), where the program
runs too, so the provider's working directory is that directory (verified with the engine
v3.259.0: ``os.getcwd()`` in the provider's ``check`` and ``create`` is the project directory).
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

PNG = "png"
JPEG = "jpeg"
MPEG4 = "mp4"  # MP4, M4V and QuickTime movies share the ISO base media file format

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (baseline, extended, progressive, lossless; not DHT/JPG/DAC).
_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# Boxes a QuickTime movie may start with when it has no ftyp box.
_MOVIE_START = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"})
_CONTAINERS = frozenset({b"moov", b"trak", b"mdia"})
_CHUNK = 1 << 20


class MediaError(ValueError):
    """The file cannot be used; the message says why (a missing file, an unknown format)."""


@dataclass(frozen=True)
class MediaFile:
    """One local file as the provider sees it before uploading it."""

    declared: str  # the path as the program wrote it
    path: Path  # resolved
    size: int
    md5: str  # lowercase hex, what Apple records as sourceFileChecksum
    format: str  # PNG, JPEG or MPEG4
    width: int
    height: int
    alpha: bool = False  # a PNG with an alpha channel (colour type 4/6, or a tRNS chunk)
    seconds: float | None = None  # a movie's length

    @property
    def name(self) -> str:
        """The file name Apple is told at the reservation."""
        return self.path.name


def resolve(declared: str, base: Path | None = None) -> Path:
    """``declared`` as an absolute path: relative ones against ``base`` (default: the working
    directory, which for the provider is the program's directory)."""
    path = Path(os.path.expanduser(declared))
    return path if path.is_absolute() else (base or Path.cwd()) / path


def md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_media(declared: str, base: Path | None = None) -> MediaFile:
    """Read ``declared``'s headers and checksum; :class:`MediaError` when it cannot be used."""
    path = resolve(declared, base)
    if not path.is_file():
        where = f" (resolved against {base or Path.cwd()})" if not Path(declared).is_absolute() else ""
        raise MediaError(f"{declared!r} does not exist or is not a file{where}")
    with path.open("rb") as handle:
        head = handle.read(32)
        handle.seek(0)
        if head.startswith(_PNG_SIGNATURE):
            fmt, (width, height, alpha, seconds) = PNG, (*_png(handle), None)
        elif head.startswith(b"\xff\xd8"):
            fmt, (width, height), alpha, seconds = JPEG, _jpeg(handle), False, None
        elif head[4:8] in _MOVIE_START:
            fmt, alpha = MPEG4, False
            width, height, seconds = _movie(handle, path.stat().st_size)
        else:
            raise MediaError(f"{declared!r} is not a PNG, JPEG or MP4/QuickTime file (its first bytes are {head[:8].hex()})")
    return MediaFile(declared, path, path.stat().st_size, md5_of(path), fmt, width, height, alpha, seconds)


def _png(handle: BinaryIO) -> tuple[int, int, bool]:
    handle.seek(8)
    length, kind = struct.unpack(">I4s", handle.read(8))
    if kind != b"IHDR" or length < 13:
        raise MediaError("a PNG without its IHDR header")
    width, height, _depth, colour = struct.unpack(">IIBB", handle.read(10))
    alpha = colour in (4, 6)
    handle.seek(8 + 8 + length + 4)
    while not alpha:  # a tRNS chunk before the image data adds transparency to any colour type
        header = handle.read(8)
        if len(header) < 8:
            break
        length, kind = struct.unpack(">I4s", header)
        if kind in (b"IDAT", b"IEND"):
            break
        alpha = kind == b"tRNS"
        handle.seek(length + 4, os.SEEK_CUR)
    return width, height, alpha


def _jpeg(handle: BinaryIO) -> tuple[int, int]:
    handle.seek(2)
    while True:
        marker = handle.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            raise MediaError("a JPEG without a frame header")
        if marker[1] in (0xD8, 0x01) or 0xD0 <= marker[1] <= 0xD7:  # markers without a length
            continue
        (length,) = struct.unpack(">H", handle.read(2))
        if marker[1] in _SOF_MARKERS:
            _precision, height, width = struct.unpack(">BHH", handle.read(5))
            return width, height
        handle.seek(length - 2, os.SEEK_CUR)


def _boxes(handle: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the ISO boxes between ``start`` and ``end``."""
    at = start
    while at + 8 <= end:
        handle.seek(at)
        size, kind = struct.unpack(">I4s", handle.read(8))
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", handle.read(8))
            header = 16
        elif size == 0:
            size = end - at
        if size < header:
            raise MediaError("a movie with a malformed box")
        yield kind, at + header, min(at + size, end)
        at += size


def _movie(handle: BinaryIO, file_size: int) -> tuple[int, int, float | None]:
    """(width, height, seconds) from ``moov``: ``mvhd`` and the video track's ``tkhd``."""
    seconds: float | None = None
    video: tuple[int, int] | None = None

    def walk(start: int, end: int) -> None:
        nonlocal seconds, video
        for kind, payload, stop in _boxes(handle, start, end):
            if kind == b"mvhd":
                handle.seek(payload)
                version = handle.read(1)[0]
                handle.seek(payload + (20 if version == 1 else 12))
                scale, duration = struct.unpack(">IQ" if version == 1 else ">II", handle.read(12 if version == 1 else 8))
                seconds = duration / scale if scale else None
            elif kind == b"trak" and _is_video(handle, payload, stop):
                video = _track_size(handle, payload, stop)
            elif kind in _CONTAINERS:
                walk(payload, stop)

    walk(0, file_size)
    if video is None:
        raise MediaError("a movie without a video track")
    return video[0], video[1], seconds


def _is_video(handle: BinaryIO, start: int, end: int) -> bool:
    for kind, payload, stop in _boxes(handle, start, end):
        if kind == b"mdia":
            for inner, at, _ in _boxes(handle, payload, stop):
                if inner == b"hdlr":
                    handle.seek(at + 8)
                    return handle.read(4) == b"vide"
    return False


def _track_size(handle: BinaryIO, start: int, end: int) -> tuple[int, int]:
    for kind, payload, _stop in _boxes(handle, start, end):
        if kind == b"tkhd":
            handle.seek(payload)
            version = handle.read(1)[0]
            handle.seek(payload + (88 if version == 1 else 76))
            width, height = struct.unpack(">II", handle.read(8))
            return width >> 16, height >> 16  # 16.16 fixed point
    raise MediaError("a video track without a track header")
