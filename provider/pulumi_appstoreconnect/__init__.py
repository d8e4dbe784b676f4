"""pulumi-appstoreconnect: keep an Apple developer account in the state its code says.

Resources are Pulumi dynamic resources; credentials come from stack config
(``appstoreconnect:issuerId``, ``keyId``, ``privateKey``/``privateKeyPath``, ``baseUrl``) or the
environment (see README.md).
"""

from __future__ import annotations

from .resources import BundleId, BundleIdPlatform

__all__ = ["BundleId", "BundleIdPlatform"]
