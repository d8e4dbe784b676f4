"""App Store Connect API client: JWT auth, paging, typed errors, one httpx stack.

>>> from pulumi_appstoreconnect.settings import resolve_settings
>>> with AppStoreConnectClient(resolve_settings()) as client:        # doctest: +SKIP
...     ids = client.list_all("/v1/bundleIds", {"filter[platform]": "IOS"})
"""

from __future__ import annotations

from .auth import BearerAuth, KeyFormatError, TokenProvider, load_private_key
from .client import AppStoreConnectClient
from .errors import (
    ApiError,
    AppStoreConnectError,
    AuthenticationError,
    BudgetExhausted,
    ConflictError,
    ConnectionFailed,
    ForbiddenError,
    NotFoundError,
    ParameterError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    UnprocessableEntityError,
    UploadFailed,
)
from .retry import RequestStats, RetryPolicy
from .transport import RateLimit

__all__ = [
    "ApiError",
    "AppStoreConnectClient",
    "AppStoreConnectError",
    "AuthenticationError",
    "BearerAuth",
    "BudgetExhausted",
    "ConflictError",
    "ConnectionFailed",
    "ForbiddenError",
    "KeyFormatError",
    "NotFoundError",
    "ParameterError",
    "ProtocolError",
    "RateLimit",
    "RateLimitedError",
    "RequestStats",
    "RetryPolicy",
    "ServerError",
    "TokenProvider",
    "UnprocessableEntityError",
    "UploadFailed",
    "load_private_key",
]
