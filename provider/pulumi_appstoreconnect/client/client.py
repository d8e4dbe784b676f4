"""``AppStoreConnectClient``: JSON:API documents in, typed errors out."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Callable, Mapping
from urllib.parse import quote

import httpx

from .auth import DEFAULT_TOKEN_LIFETIME, TokenProvider
from .errors import ConnectionFailed, NotFoundError, ProtocolError, error_from_response
from .paging import collect
from .transport import RateLimit, build_http_client, encode_params

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["AppStoreConnectClient"]

log = logging.getLogger("pulumi_appstoreconnect.client")

# Failures that happen before the request can have reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class AppStoreConnectClient:
    """A client for one API key: one token, one connection pool; safe to share across threads.

    Paths such as ``/v1/bundleIds`` are relative to ``settings.base_url``; absolute URLs
    (``links.next``) are used as they are. Failed requests raise
    :class:`~.errors.AppStoreConnectError` subclasses.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        token_lifetime: float = DEFAULT_TOKEN_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.tokens = TokenProvider(
            settings.key_id, settings.issuer_id, settings.private_key_pem, lifetime=token_lifetime, clock=clock
        )
        self._http, self._transport = build_http_client(
            settings.base_url, self.tokens, transport=transport, timeout=timeout
        )

    def __repr__(self) -> str:
        return f"AppStoreConnectClient(base_url={self.settings.base_url!r}, key_id={self.settings.key_id!r})"

    @property
    def last_rate_limit(self) -> RateLimit | None:
        """The ``X-Rate-Limit`` values of the latest response that carried the header."""
        return self._transport.last_rate_limit

    # -- primitives --------------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """One request (with the 401 retry); returns the response whatever its status.

        Raises :class:`~.errors.ConnectionFailed` when no response arrived.
        """
        method = method.upper()
        try:
            response = self._http.request(
                method, path, params=encode_params(params) or None, json=json
            )
        except httpx.TransportError as exc:
            url = httpx.URL(path).path
            raise ConnectionFailed(
                f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
                method=method,
                url=url,
                ambiguous=not isinstance(exc, _NOT_SENT),
            ) from exc
        log.debug(
            "%s %s -> %s (rate limit: %s)",
            method,
            response.request.url.path,
            response.status_code,
            self.last_rate_limit.describe() if self.last_rate_limit else "n/a",
        )
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> dict[str, Any] | None:
        """Send a request and return its JSON document (None for an empty body, e.g. 204)."""
        response = self.send(method, path, params=params, json=json)
        if not response.is_success:
            raise error_from_response(response, rate_limit=self.last_rate_limit)
        if response.status_code == 204 or not response.content.strip():
            return None
        try:
            document = response.json()
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise ProtocolError(
                f"response is not a JSON object (Content-Type {response.headers.get('Content-Type', 'none')})",
                status=response.status_code,
                method=response.request.method,
                url=response.request.url.path,
            )
        return document

    # -- reading -----------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET a document. 404 raises :class:`~.errors.NotFoundError`."""
        return self.request("GET", path, params=params) or {}

    def get_object(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The ``data`` object at ``path``; None when it does not exist (404)."""
        try:
            document = self.get(path, params)
        except NotFoundError:
            return None
        return document.get("data")

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a collection, following ``links.next`` to the end (``limit=200``)."""
        return collect(self.get, path, params, base_url=self.settings.base_url)

    # -- writing -----------------------------------------------------------------------

    def create(
        self,
        rest_type: str,
        attributes: Mapping[str, Any],
        relationships: Mapping[str, Any] | None = None,
        *,
        path: str | None = None,
    ) -> dict[str, Any]:
        """POST ``{"data": {type, attributes, relationships}}`` to ``/v1/<rest_type>``; the
        created object. Never retried: the caller decides what an ambiguous failure means."""
        data: dict[str, Any] = {"type": rest_type, "attributes": dict(attributes)}
        if relationships:
            data["relationships"] = dict(relationships)
        return self._data("POST", path or f"/v1/{rest_type}", {"data": data})

    def update(
        self,
        rest_type: str,
        id: str,
        attributes: Mapping[str, Any] | None = None,
        relationships: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """PATCH ``/v1/<rest_type>/<id>`` with only the given attributes; the updated object."""
        data: dict[str, Any] = {"type": rest_type, "id": id}
        if attributes is not None:
            data["attributes"] = dict(attributes)
        if relationships:
            data["relationships"] = dict(relationships)
        return self._data("PATCH", f"/v1/{rest_type}/{quote(id, safe='')}", {"data": data})

    def delete(self, path: str) -> None:
        """DELETE ``path`` (204/202). 404 raises :class:`~.errors.NotFoundError`."""
        self.request("DELETE", path)

    def _data(self, method: str, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        document = self.request(method, path, json=body)
        data = document.get("data") if document else None
        if not isinstance(data, dict):
            raise ProtocolError("response has no data object", method=method, url=httpx.URL(path).path)
        return data

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AppStoreConnectClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
