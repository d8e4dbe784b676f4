"""``pulumi-appstoreconnect import``: write a Pulumi program that takes over an account.

Three steps, kept apart so each can be tested alone: :func:`read_account` (the API, through the
real client) builds an :class:`Account` snapshot; :func:`render_program` turns it into the
program's source (a pure function); :func:`write_project` puts the project's files on disk.
"""

from __future__ import annotations

from .project import ProjectExists, write_project
from .reading import Progress, read_account
from .rendering import Program, render_program, render_project
from .snapshot import (
    KINDS,
    Account,
    BundleIdRecord,
    CapabilityRecord,
    CertificateRecord,
    DeviceRecord,
    ProfileRecord,
)

__all__ = [
    "KINDS", "Account", "BundleIdRecord", "CapabilityRecord", "CertificateRecord", "DeviceRecord", "ProfileRecord",
    "Program", "Progress", "ProjectExists", "read_account", "render_program", "render_project", "write_project",
]
