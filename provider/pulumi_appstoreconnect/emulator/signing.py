"""The emulator's cryptography: its certification authority, certificates issued from CSRs,
and signed provisioning-profile payloads.

One :class:`Authority` per state dir plays Apple's roles: it issues signing certificates
(Apple's WWDR intermediate does that for real) and signs ``.mobileprovision`` payloads (Apple's
"iPhone OS Provisioning Profile Signing" certificate). Its EC P-256 key and self-signed
certificate are generated on first start and kept in the state file beside the API key, so
certificates issued before a restart still chain to it; ``emulator-ca.pem`` in the state dir is
the certificate, for anyone who wants to verify what the emulator issued.

Nothing here knows HTTP or JSON:API: :mod:`.rules` decides *what* to issue, this module *how*.
"""

from __future__ import annotations

import base64
import binascii
import plistlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    from .store import Store

CA_FILENAME = "emulator-ca.pem"
CA_COMMON_NAME = "App Store Connect Emulator Certification Authority"
CA_VALIDITY = timedelta(days=3650)
# Apple's signing certificates and profiles live one year (the 2019-11-29 to 2020-11-28 iOS
# Development certificate in codemagic's recorded profile fixture), but for the types below.
CERTIFICATE_VALIDITY = timedelta(days=365)
PROFILE_VALIDITY = timedelta(days=365)
# Developer ID: "valid for 5 years from the date of creation" (developer.apple.com/support/
# developer-id, updated 2017-02-22). Apple Pay payment processing and merchant identity: "valid
# for 25 months" (Apple TN3206, Updating Apple Pay certificates).
FIVE_YEARS = timedelta(days=1826)
TWENTY_FIVE_MONTHS = timedelta(days=760)
# The emulated team's name (certificate subjects, ``displayName``, a profile's ``TeamName``).
TEAM_NAME = "Emulator"
# Apple signs certificates only for RSA 2048 keys (what Keychain Access and the provider make).
CSR_KEY_SIZE = 2048

_META_KEY = "ca_private_key_pem"
_META_CERT = "ca_certificate_pem"


# --------------------------------------------------------------------------------------
# Timestamps in Apple's provisioning format
# --------------------------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:?\d{2})$"
)


def apple_timestamp(moment: datetime) -> str:
    """``2026-11-22T10:11:12.000+0000``: the form the provisioning types use."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def parse_timestamp(value: Any) -> datetime | None:
    """An aware UTC datetime from Apple's forms (``+0000``, ``+00:00``, ``Z``), else None."""
    match = _TIMESTAMP.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    date, clock, fraction, zone = match.groups()
    try:
        local = datetime.fromisoformat(f"{date}T{clock}")
    except ValueError:
        return None
    local = local.replace(microsecond=int((fraction or "0")[:6].ljust(6, "0")))
    if zone in ("Z", "z"):
        offset = timedelta(0)
    else:
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        offset = -offset if zone[0] == "-" else offset
    return local.replace(tzinfo=timezone(offset)).astimezone(timezone.utc)


# --------------------------------------------------------------------------------------
# Certificate kinds
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateKind:
    """How Apple names and scopes one ``CertificateType``.

    ``label`` is the prefix of the API's ``name`` attribute ("iOS Development: <team>") and the
    word Apple's limit error uses; ``common_name`` the prefix of the X.509 subject CN;
    ``platform`` the ``platform`` attribute (None for the cross-platform Apple Development /
    Distribution types); ``usage`` the extended key usage; ``validity`` how long Apple issues it for.
    """

    label: str
    common_name: str
    platform: str | None
    usage: x509.ObjectIdentifier = ExtendedKeyUsageOID.CODE_SIGNING
    validity: timedelta = CERTIFICATE_VALIDITY


_CLIENT = ExtendedKeyUsageOID.CLIENT_AUTH

CERTIFICATE_KINDS: dict[str, CertificateKind] = {
    "DEVELOPMENT": CertificateKind("Apple Development", "Apple Development", None),
    "DISTRIBUTION": CertificateKind("Apple Distribution", "Apple Distribution", None),
    "IOS_DEVELOPMENT": CertificateKind("iOS Development", "iPhone Developer", "IOS"),
    "IOS_DISTRIBUTION": CertificateKind("iOS Distribution", "iPhone Distribution", "IOS"),
    "MAC_APP_DEVELOPMENT": CertificateKind("Mac Development", "Mac Developer", "MAC_OS"),
    "MAC_APP_DISTRIBUTION": CertificateKind("Mac App Distribution", "3rd Party Mac Developer Application", "MAC_OS"),
    "MAC_INSTALLER_DISTRIBUTION": CertificateKind(
        "Mac Installer Distribution", "3rd Party Mac Developer Installer", "MAC_OS"
    ),
    "DEVELOPER_ID_APPLICATION": CertificateKind("Developer ID Application", "Developer ID Application", "MAC_OS", validity=FIVE_YEARS),
    "DEVELOPER_ID_APPLICATION_G2": CertificateKind("Developer ID Application", "Developer ID Application", "MAC_OS", validity=FIVE_YEARS),
    "DEVELOPER_ID_KEXT": CertificateKind("Developer ID Kext", "Developer ID Application", "MAC_OS", validity=FIVE_YEARS),
    "DEVELOPER_ID_KEXT_G2": CertificateKind("Developer ID Kext", "Developer ID Application", "MAC_OS", validity=FIVE_YEARS),
    "APPLE_PAY": CertificateKind("Apple Pay Payment Processing", "Apple Pay Payment Processing", "IOS", _CLIENT, validity=TWENTY_FIVE_MONTHS),
    "APPLE_PAY_MERCHANT_IDENTITY": CertificateKind("Apple Pay Merchant Identity", "Merchant ID", "IOS", _CLIENT, validity=TWENTY_FIVE_MONTHS),
    "APPLE_PAY_PSP_IDENTITY": CertificateKind("Apple Pay PSP Identity", "Apple Pay PSP Identity", "IOS", _CLIENT),
    "APPLE_PAY_RSA": CertificateKind("Apple Pay Payment Processing", "Apple Pay Payment Processing", "IOS", _CLIENT, validity=TWENTY_FIVE_MONTHS),
    "IDENTITY_ACCESS": CertificateKind("Identity Access", "Identity Access", "IOS", _CLIENT),
    "PASS_TYPE_ID": CertificateKind("Pass Type ID", "Pass Type ID", "IOS", _CLIENT),
    "PASS_TYPE_ID_WITH_NFC": CertificateKind("Pass Type ID with NFC", "Pass Type ID", "IOS", _CLIENT),
}


def certificate_kind(certificate_type: Any) -> CertificateKind:
    """The kind of a type; unknown values (seeded out of band) get a neutral one."""
    kind = CERTIFICATE_KINDS.get(str(certificate_type))
    return kind or CertificateKind(str(certificate_type).replace("_", " ").title(), "Certificate", None)


# --------------------------------------------------------------------------------------
# CSRs
# --------------------------------------------------------------------------------------


class CsrError(ValueError):
    """The CSR cannot be used; ``str()`` says why, in words fit for an API error detail."""


def load_csr(text: Any) -> x509.CertificateSigningRequest:
    """A CSR from PEM, or from the base64 DER body Apple's form also takes; checked like Apple:
    it parses, its self-signature verifies, and its key is RSA 2048."""
    if not isinstance(text, str) or not text.strip():
        raise CsrError("The certificate signing request is empty.")
    body = text.strip()
    try:
        if body.startswith("-----BEGIN"):
            csr = x509.load_pem_x509_csr(body.encode())
        else:
            csr = x509.load_der_x509_csr(base64.b64decode("".join(body.split()), validate=True))
    except (ValueError, binascii.Error, TypeError, UnsupportedAlgorithm):
        raise CsrError(
            "The certificate signing request could not be read: expected a PEM "
            "'CERTIFICATE REQUEST' block or its base64 DER body."
        ) from None
    try:
        valid = csr.is_signature_valid
    except (ValueError, UnsupportedAlgorithm, InvalidSignature):
        valid = False
    if not valid:
        raise CsrError("The certificate signing request's signature is not valid.")
    try:
        key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise CsrError("The certificate signing request's public key could not be read.") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size != CSR_KEY_SIZE:
        raise CsrError(f"The certificate signing request must carry an RSA {CSR_KEY_SIZE}-bit public key.")
    return csr


# --------------------------------------------------------------------------------------
# The authority
# --------------------------------------------------------------------------------------


def _serial() -> int:
    """A random positive serial of 16 hex digits (the length Apple's serials have)."""
    return secrets.randbelow(2**64 - 2**60) + 2**60


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: Any, start: datetime, end: datetime, *, ca: bool
) -> x509.CertificateBuilder:
    """What the CA's own certificate and the certificates it issues share: validity, basic
    constraints, key usage (only a CA signs certificates) and the subject key identifier."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(_serial())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


class Authority:
    """The emulator's CA: issues certificates and signs profile payloads."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> None:
        self.key = key
        self.certificate = certificate

    @classmethod
    def generate(cls, now: datetime) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Emulator Certification Authority"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pulumi-appstoreconnect"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        ])
        start = now.replace(microsecond=0) - timedelta(days=1)
        certificate = _builder(name, name, key.public_key(), start, start + CA_VALIDITY, ca=True).sign(
            key, hashes.SHA256()
        )
        return cls(key, certificate)

    @classmethod
    def load_or_create(cls, store: Store, now: datetime, state_dir: Path | None = None) -> Authority:
        """The state's CA, generated on first use and kept in the state file ever after.

        With ``state_dir``, its certificate is also written to ``emulator-ca.pem`` there.
        """
        with store.transaction():
            key_pem = store.get_meta(_META_KEY)
            cert_pem = store.get_meta(_META_CERT)
            if key_pem is None or cert_pem is None:
                authority = cls.generate(now)
                store.set_meta(_META_KEY, authority.private_key_pem)
                store.set_meta(_META_CERT, authority.certificate_pem)
            else:
                key = serialization.load_pem_private_key(key_pem.encode(), password=None)
                assert isinstance(key, ec.EllipticCurvePrivateKey)
                authority = cls(key, x509.load_pem_x509_certificate(cert_pem.encode()))
        if state_dir is not None:
            path = Path(state_dir) / CA_FILENAME
            if not path.exists() or path.read_text() != authority.certificate_pem:
                path.write_text(authority.certificate_pem)
        return authority

    @property
    def private_key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    # -- certificates -------------------------------------------------------------------

    def issue(
        self,
        public_key: Any,
        certificate_type: str,
        team_id: str,
        now: datetime,
        expires: datetime | None = None,
    ) -> x509.Certificate:
        """A signing certificate for ``public_key`` as Apple would issue it for the team: valid
        from now for its type's validity, or until ``expires`` (seeded out of band; a past one
        gets its type's validity ending then)."""
        kind = certificate_kind(certificate_type)
        start = now.astimezone(timezone.utc).replace(microsecond=0)
        end = start + kind.validity
        if expires is not None:
            end = expires.astimezone(timezone.utc).replace(microsecond=0)
            if end <= start:
                start = end - kind.validity
        subject = x509.Name([
            x509.NameAttribute(NameOID.USER_ID, team_id),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{kind.common_name}: {TEAM_NAME} ({team_id})"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, team_id),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, TEAM_NAME),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        ])
        return (
            _builder(subject, self.certificate.subject, public_key, start, end, ca=False)
            .add_extension(x509.ExtendedKeyUsage([kind.usage]), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )

    # -- profiles -----------------------------------------------------------------------

    def sign(self, payload: bytes) -> bytes:
        """A DER PKCS#7 SignedData wrapping ``payload`` (the content is embedded, as in a
        ``.mobileprovision``), signed by the CA."""
        return (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(payload)
            .add_signer(self.certificate, self.key, hashes.SHA256())
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
        )


def serial_hex(certificate: x509.Certificate) -> str:
    """The ``serialNumber`` attribute: the serial in uppercase hex."""
    return f"{certificate.serial_number:X}"


def der_base64(certificate: x509.Certificate) -> str:
    """The ``certificateContent`` attribute: base64 of the DER certificate."""
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")


def throwaway_public_key() -> Any:
    """A fresh RSA 2048 public key, for certificates seeded out of band without a CSR."""
    return rsa.generate_private_key(public_exponent=65537, key_size=CSR_KEY_SIZE).public_key()


# --------------------------------------------------------------------------------------
# Provisioning profiles
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfilePayload:
    """What a ``.mobileprovision`` says. Built by :mod:`.rules` from the stored objects."""

    name: str
    uuid: str
    app_id_name: str
    seed_id: str
    identifier: str
    team_id: str
    platforms: tuple[str, ...]  # "iOS", "tvOS", "OSX"
    created: datetime
    expires: datetime
    certificates: tuple[bytes, ...]  # DER
    devices: tuple[str, ...] | None  # UDIDs; None: the type provisions no devices
    provisions_all_devices: bool = False
    get_task_allow: bool = False
    mac: bool = False  # macOS entitlements spell the application identifier differently
    store: bool = False

    def plist(self) -> dict[str, Any]:
        app_id = f"{self.seed_id}.{self.identifier}"
        entitlements: dict[str, Any] = {}
        if self.mac:
            entitlements["com.apple.application-identifier"] = app_id
        else:
            entitlements["application-identifier"] = app_id
            entitlements["get-task-allow"] = self.get_task_allow
            if self.store:
                entitlements["beta-reports-active"] = True
        entitlements["keychain-access-groups"] = [f"{self.seed_id}.*"]
        entitlements["com.apple.developer.team-identifier"] = self.team_id
        document: dict[str, Any] = {
            "AppIDName": self.app_id_name,
            "ApplicationIdentifierPrefix": [self.seed_id],
            "CreationDate": _naive_utc(self.created),
            "Platform": list(self.platforms),
            "IsXcodeManaged": False,
            "DeveloperCertificates": list(self.certificates),
            "Entitlements": entitlements,
            "ExpirationDate": _naive_utc(self.expires),
            "Name": self.name,
        }
        if self.devices is not None:
            document["ProvisionedDevices"] = list(self.devices)
        if self.provisions_all_devices:
            document["ProvisionsAllDevices"] = True
        document.update({
            "TeamIdentifier": [self.team_id],
            "TeamName": TEAM_NAME,
            "TimeToLive": max(0, round((self.expires - self.created).total_seconds() / 86400)),  # days
            "UUID": self.uuid,
            "Version": 1,
        })
        return document


def _naive_utc(moment: datetime) -> datetime:
    # plistlib writes naive datetimes as UTC <date> values; drop sub-second precision like Apple.
    return moment.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0)


def profile_content(authority: Authority, payload: ProfilePayload) -> str:
    """The ``profileContent`` attribute: base64 of the signed ``.mobileprovision``."""
    xml = plistlib.dumps(payload.plist(), fmt=plistlib.FMT_XML, sort_keys=False)
    return base64.b64encode(authority.sign(xml)).decode("ascii")
