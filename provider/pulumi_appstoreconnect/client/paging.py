"""Reading a whole App Store Connect collection.

The first request carries ``limit=200`` (Apple's maximum) and the caller's parameters; every
later request is exactly the ``links.next`` URL Apple returned (it already holds the cursor,
the limit and the filters), so no parameter is sent twice. The loop ends when ``links.next``
is absent or ``null``. A ``next`` that repeats, points at another host or never ends raises
:class:`~.errors.ProtocolError`: a list is never silently truncated.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

import httpx

from .errors import ProtocolError

__all__ = ["MAX_PAGES", "PAGE_SIZE", "collect", "iter_pages"]

PAGE_SIZE = 200
MAX_PAGES = 10_000  # 2 million objects: far beyond any account; only a broken server gets here

Fetch = Callable[[str, "Mapping[str, Any] | None"], Mapping[str, Any]]


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def _next_url(document: Mapping[str, Any], base_url: httpx.URL, path: str) -> str | None:
    """The absolute URL of the next page, or None at the end."""
    links = document.get("links")
    next_url = links.get("next") if isinstance(links, Mapping) else None
    if next_url is None or next_url == "":
        return None
    if not isinstance(next_url, str):
        raise ProtocolError(f"links.next is not a URL ({type(next_url).__name__})", status=200, method="GET", url=path)
    absolute = base_url.join(next_url)
    if _origin(absolute) != _origin(base_url):
        # The token must not be sent anywhere but the configured server.
        raise ProtocolError(
            f"links.next points to {absolute.scheme}://{absolute.netloc.decode()} instead of the "
            f"configured base URL {base_url.scheme}://{base_url.netloc.decode()}",
            status=200,
            method="GET",
            url=path,
        )
    return str(absolute)


def iter_pages(
    fetch: Fetch,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    base_url: str | httpx.URL,
    max_pages: int = MAX_PAGES,
) -> Iterator[Mapping[str, Any]]:
    """Yield each page's document; ``fetch(url, params)`` performs one GET."""
    base = httpx.URL(str(base_url))
    query: dict[str, Any] | None = {"limit": PAGE_SIZE, **(params or {})}
    url = path
    seen: set[str] = set()
    for _ in range(max_pages):
        document = fetch(url, query)
        yield document
        next_url = _next_url(document, base, path)
        if next_url is None:
            return
        self_url = document["links"].get("self")
        if next_url in seen or (isinstance(self_url, str) and next_url == str(base.join(self_url))):
            raise ProtocolError(
                f"paging loop: links.next repeats a page already read after {len(seen) + 1} pages",
                status=200,
                method="GET",
                url=path,
            )
        seen.add(next_url)
        url, query = next_url, None
    raise ProtocolError(f"more than {max_pages} pages; refusing to continue", status=200, method="GET", url=path)


def collect(
    fetch: Fetch,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    base_url: str | httpx.URL,
    max_pages: int = MAX_PAGES,
) -> list[dict[str, Any]]:
    """Every ``data`` item of every page, in order."""
    items: list[dict[str, Any]] = []
    for document in iter_pages(fetch, path, params, base_url=base_url, max_pages=max_pages):
        data = document.get("data")
        if not isinstance(data, list):
            raise ProtocolError("response is not a collection (data is not a list)", status=200, method="GET", url=path)
        items.extend(data)
    return items
