"""Sending an asset's parts to its upload URLs: the byte ranges and headers the operations
name, no bearer token, a bound on parallel requests, re-sends after 5xx, and errors that name
the part without the URL's credentials."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulumi_appstoreconnect.client import RetryPolicy, UploadFailed
from pulumi_appstoreconnect.client.errors import ProtocolError
from pulumi_appstoreconnect.client.uploads import Uploader

DATA = bytes(range(256)) * 40  # 10,240 bytes


def operations(size: int, part: int) -> list[dict[str, Any]]:
    return [
        {"method": "PUT", "url": f"https://upload.example/asset/{n}?uploadId=SECRET&Expires=1", "offset": offset,
         "length": min(part, size - offset), "requestHeaders": [{"name": "Content-Type", "value": "image/png"}]}
        for n, offset in enumerate(range(0, size, part), 1)
    ]


@pytest.fixture
def file(tmp_path: Path) -> Path:
    path = tmp_path / "shot.png"
    path.write_bytes(DATA)
    return path


def uploader(handler: Any, **options: Any) -> Uploader:
    return Uploader(httpx.MockTransport(handler), policy=RetryPolicy(backoff_base=0.0), sleep=lambda _s: None, **options)


def test_each_part_carries_its_byte_range_and_headers_and_no_token(file: Path) -> None:
    seen: dict[str, tuple[bytes, httpx.Headers]] = {}
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            seen[request.url.path] = (request.content, request.headers)
        return httpx.Response(200)

    report = uploader(handler).upload(file, operations(len(DATA), 4096))
    assert (report.parts, report.bytes, report.attempts) == (3, len(DATA), 3)
    assert b"".join(seen[f"/asset/{n}"][0] for n in (1, 2, 3)) == DATA
    assert all(h["Content-Type"] == "image/png" and "Authorization" not in h for _, h in seen.values())


def test_no_more_parts_are_in_flight_than_the_bound(file: Path) -> None:
    lock, current, peak = threading.Lock(), [0], [0]

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            current[0] += 1
            peak[0] = max(peak[0], current[0])
        time.sleep(0.02)
        with lock:
            current[0] -= 1
        return httpx.Response(200)

    uploader(handler, max_parallel=3).upload(file, operations(len(DATA), 512))  # 20 parts
    assert peak[0] == 3


def test_a_part_is_sent_again_after_a_503_and_a_dropped_connection(file: Path) -> None:
    answers = iter([httpx.Response(503), httpx.RemoteProtocolError("dropped"), httpx.Response(200)])

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert uploader(handler).upload(file, operations(len(DATA), len(DATA))).attempts == 3


def test_a_refused_part_fails_naming_it_without_the_urls_credentials(file: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, text="<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")

    with pytest.raises(UploadFailed) as failed:
        uploader(handler, max_parallel=1).upload(file, operations(len(DATA), len(DATA)))
    message = str(failed.value)
    assert "part 1 of shot.png to https://upload.example/asset/1 failed: 403" in message and "Request has expired" in message
    assert "SECRET" not in message


def test_operations_that_do_not_fit_the_file_or_apples_shape_are_refused(file: Path) -> None:
    with pytest.raises(UploadFailed, match="shorter than the reservation says"):
        uploader(lambda r: httpx.Response(200)).upload(file, operations(len(DATA) + 10, len(DATA) + 10))
    with pytest.raises(ProtocolError, match="malformed upload operation"):
        uploader(lambda r: httpx.Response(200)).upload(file, [{"method": "PUT"}])
    with pytest.raises(ProtocolError, match="no upload operations"):
        uploader(lambda r: httpx.Response(200)).upload(file, [])
