"""Reading a local screenshot or preview before any request: checksum, format, pixel size, alpha,
a movie's length; each reader against files built byte by byte, and the failures named."""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

import pytest

from pulumi_appstoreconnect.media_files import JPEG, MPEG4, PNG, MediaError, read_media, resolve
from tests.media_support import jpeg, mp4, png, write


def test_a_png_gives_its_size_checksum_and_no_alpha(tmp_path: Path) -> None:
    data = png(1290, 2796, (1, 2, 3))
    media = read_media(write(tmp_path, "a.png", data))
    assert (media.format, media.width, media.height, media.alpha) == (PNG, 1290, 2796, False)
    assert media.md5 == hashlib.md5(data).hexdigest() and media.size == len(data) and media.name == "a.png"


def test_alpha_is_found_in_the_colour_type_and_in_a_trns_chunk(tmp_path: Path) -> None:
    assert read_media(write(tmp_path, "rgba.png", png(10, 10, (1, 2, 3), alpha=True))).alpha
    opaque = png(10, 10, (1, 2, 3))
    idat = opaque.index(b"IDAT") - 4
    trns = struct.pack(">I", 6) + b"tRNS" + b"\x00\x01\x00\x02\x00\x03" + struct.pack(">I", zlib.crc32(b"tRNS\x00\x01\x00\x02\x00\x03"))
    assert read_media(write(tmp_path, "keyed.png", opaque[:idat] + trns + opaque[idat:])).alpha


def test_a_jpeg_frame_header_after_other_segments(tmp_path: Path) -> None:
    media = read_media(write(tmp_path, "a.jpg", jpeg(1242, 2688)))
    assert (media.format, media.width, media.height, media.alpha) == (JPEG, 1242, 2688, False)


def test_a_movie_gives_its_video_size_and_length_even_with_the_index_last(tmp_path: Path) -> None:
    data = mp4(886, 1920, 21.5)
    assert (lambda m: (m.format, m.width, m.height, m.seconds))(read_media(write(tmp_path, "a.mp4", data))) == (MPEG4, 886, 1920, 21.5)
    # Camera files often put the media data first and moov last, some with a 64-bit box size.
    ftyp_end = struct.unpack(">I", data[:4])[0]
    moov = data[ftyp_end : data.index(b"mdat") - 4]
    big_mdat = struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 16 + 32) + bytes(32)
    media = read_media(write(tmp_path, "b.mov", data[:ftyp_end] + big_mdat + moov))
    assert (media.width, media.height, media.seconds) == (886, 1920, 21.5)


def test_files_that_cannot_be_used_say_why(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=r"'missing.png' does not exist or is not a file \(resolved against"):
        read_media("missing.png", tmp_path)
    with pytest.raises(MediaError, match="is not a PNG, JPEG or MP4/QuickTime file"):
        read_media(write(tmp_path, "a.gif", b"GIF89a...."))
    with pytest.raises(MediaError, match="without a video track"):
        read_media(write(tmp_path, "audio.mp4", mp4(886, 1920, 20).replace(b"vide", b"soun")))


def test_relative_paths_resolve_against_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "media", "a.png", png(10, 10, (0, 0, 0)))
    assert resolve("media/a.png") == tmp_path / "media" / "a.png"
    assert read_media("media/a.png").path == tmp_path / "media" / "a.png"
    assert resolve("/abs/a.png") == Path("/abs/a.png")
