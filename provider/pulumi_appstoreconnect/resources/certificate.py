"""Signing certificates: ``/v1/certificates``. Deleting a certificate revokes it."""

from __future__ import annotations

import base64
import binascii
import enum
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import pulumi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from ..client.documents import parse_timestamp
from ..client.errors import ConflictError
from ..reconciler import SpecResource
from .checks import WholeNumber
from ..spec import (
    Adoptable,
    COMPUTED,
    CREATE_ONLY,
    LOCAL,
    REVOKE,
    SECRET,
    WRITE_ONLY,
    Check,
    Hooks,
    ResourceSpec,
)


class CertificateType(str, enum.Enum):
    """Apple's ``CertificateType`` (spec 4.4.1, unchanged in 4.5.1)."""

    APPLE_PAY = "APPLE_PAY"
    APPLE_PAY_MERCHANT_IDENTITY = "APPLE_PAY_MERCHANT_IDENTITY"
    APPLE_PAY_PSP_IDENTITY = "APPLE_PAY_PSP_IDENTITY"
    APPLE_PAY_RSA = "APPLE_PAY_RSA"
    DEVELOPER_ID_KEXT = "DEVELOPER_ID_KEXT"
    DEVELOPER_ID_KEXT_G2 = "DEVELOPER_ID_KEXT_G2"
    DEVELOPER_ID_APPLICATION = "DEVELOPER_ID_APPLICATION"
    DEVELOPER_ID_APPLICATION_G2 = "DEVELOPER_ID_APPLICATION_G2"
    DEVELOPMENT = "DEVELOPMENT"
    DISTRIBUTION = "DISTRIBUTION"
    IDENTITY_ACCESS = "IDENTITY_ACCESS"
    IOS_DEVELOPMENT = "IOS_DEVELOPMENT"
    IOS_DISTRIBUTION = "IOS_DISTRIBUTION"
    MAC_APP_DISTRIBUTION = "MAC_APP_DISTRIBUTION"
    MAC_INSTALLER_DISTRIBUTION = "MAC_INSTALLER_DISTRIBUTION"
    MAC_APP_DEVELOPMENT = "MAC_APP_DEVELOPMENT"
    PASS_TYPE_ID = "PASS_TYPE_ID"
    PASS_TYPE_ID_WITH_NFC = "PASS_TYPE_ID_WITH_NFC"


DEFAULT_RENEW_BEFORE_DAYS = 30


@dataclass(frozen=True)
class Lifetime:
    """How long Apple issues a certificate type for: ``days``, and Apple's own words for it."""

    days: int
    words: str


_ONE_YEAR = Lifetime(365, "one year")
_FIVE_YEARS = Lifetime(1826, "five years")
_TWENTY_FIVE_MONTHS = Lifetime(760, "25 months")  # about 760 days

# Apple's published validity per type, checked against renew_before_days at preview:
# - development and distribution: one year. Apple's "Distributing Enterprise Apps for iOS Devices"
#   guide says "Currently, distribution certificates are valid for one year" (quoted in Stack
#   Overflow question 9216485), and an iOS Development certificate Apple issued through this
#   API (codemagic's recorded profile fixture, CN "...Created via API") runs 2019-11-29 to
#   2020-11-28: 365 days. In-house (Enterprise Program) distribution certificates
#   live three years; the table keeps the shorter lifetime so the bound holds on every team.
# - Developer ID: "valid for 5 years from the date of creation"
#   (developer.apple.com/support/developer-id, updated 2017-02-22).
# - Apple Pay payment processing and merchant identity: "valid for 25 months" (Apple TN3206,
#   Updating Apple Pay certificates; also the App Store Connect API article "Managing merchant
#   IDs and Payment Processing certificates").
# IDENTITY_ACCESS, APPLE_PAY_PSP_IDENTITY and the Pass Type ID types have no published
# lifetime here: only the 365-day cap of renew_before_days applies to them.
LIFETIMES: dict[str, Lifetime] = {
    **dict.fromkeys(
        ("DEVELOPMENT", "DISTRIBUTION", "IOS_DEVELOPMENT", "IOS_DISTRIBUTION", "MAC_APP_DEVELOPMENT",
         "MAC_APP_DISTRIBUTION", "MAC_INSTALLER_DISTRIBUTION"),
        _ONE_YEAR,
    ),
    **dict.fromkeys(
        ("DEVELOPER_ID_APPLICATION", "DEVELOPER_ID_APPLICATION_G2", "DEVELOPER_ID_KEXT", "DEVELOPER_ID_KEXT_G2"),
        _FIVE_YEARS,
    ),
    **dict.fromkeys(
        ("APPLE_PAY", "APPLE_PAY_RSA", "APPLE_PAY_MERCHANT_IDENTITY"), _TWENTY_FIVE_MONTHS
    ),
}

# Types Apple issues for another object, which CertificateCreateRequest links as a relationship
# this resource does not send (Apple's spec 4.4.1: relationships.passTypeId -> passTypeIds,
# relationships.merchantId -> merchantIds). Without it the certificate belongs to nothing.
NEEDS_RELATIONSHIP: dict[str, tuple[str, str, str]] = {
    **dict.fromkeys(("PASS_TYPE_ID", "PASS_TYPE_ID_WITH_NFC"), ("a Pass Type ID", "passTypeId", "passTypeIds")),
    **dict.fromkeys(
        ("APPLE_PAY", "APPLE_PAY_RSA", "APPLE_PAY_MERCHANT_IDENTITY", "APPLE_PAY_PSP_IDENTITY"),
        ("an Apple Pay merchant ID", "merchantId", "merchantIds"),
    ),
}


def creatable_type(value: object) -> str | None:
    """Refuse the types whose certificate belongs to an object this resource cannot link."""
    needed = NEEDS_RELATIONSHIP.get(str(value))
    if needed is None:
        return None
    owner, relationship, related_type = needed
    return (
        f"{value} is issued for {owner}, which Apple's CertificateCreateRequest takes as "
        f"relationships.{relationship} (a {related_type} id); this resource cannot send that "
        "relationship yet: create the certificate in the Certificates, Identifiers & Profiles web UI"
    )


def renewal_within_lifetime(model: Any) -> list[tuple[str, str]]:
    """A renewal window as long as the certificate lives would renew it on every ``up``."""
    lifetime = LIFETIMES.get(str(model.certificate_type))
    days = model.renew_before_days
    if lifetime is None or days is None or days < lifetime.days:
        return []
    return [(
        "renew_before_days",
        f"renew_before_days {days} would renew every {model.certificate_type} certificate as soon as it "
        f"is issued, on every up: Apple issues {model.certificate_type} certificates for {lifetime.words} "
        f"({lifetime.days} days). Use fewer days than that (the default is {DEFAULT_RENEW_BEFORE_DAYS}).",
    )]


def load_csr(value: str) -> x509.CertificateSigningRequest:
    """A CSR given as PEM, or as the base64 DER body of one (what Apple's web form takes)."""
    text = value.strip()
    if text.startswith("-----BEGIN"):
        return x509.load_pem_x509_csr(text.encode())
    return x509.load_der_x509_csr(base64.b64decode(text, validate=False))


def csr_check(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must be a certificate signing request (PEM), or left unset to let the provider make one"
    try:
        csr = load_csr(value)
    except (ValueError, binascii.Error, TypeError):
        return "is not a certificate signing request: expected a PEM block 'BEGIN CERTIFICATE REQUEST'"
    if not csr.is_signature_valid:
        return "has an invalid signature: regenerate the CSR with its private key"
    key = csr.public_key()
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size != 2048:
        return "must be made for an RSA 2048-bit key (Apple refuses other keys)"
    return None


def renewal_window(value: object) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 365:
        return "must be a whole number of days between 0 and 365"
    return None


class CertificateInputs(Adoptable):
    certificate_type: Annotated[CertificateType, CREATE_ONLY, Check(creatable_type)]
    csr_content: Annotated[str | None, CREATE_ONLY, WRITE_ONLY, Check(csr_check)] = None
    renew_before_days: Annotated[WholeNumber, LOCAL, Check(renewal_window)] = DEFAULT_RENEW_BEFORE_DAYS
    # What Apple computes.
    name: Annotated[str | None, COMPUTED] = None
    display_name: Annotated[str | None, COMPUTED] = None
    serial_number: Annotated[str | None, COMPUTED] = None
    platform: Annotated[str | None, COMPUTED] = None
    expiration_date: Annotated[str | None, COMPUTED] = None
    certificate_content: Annotated[str | None, COMPUTED] = None
    # What the provider makes: the PEM form, and when it generated the key, the key and a .p12.
    certificate_pem: Annotated[str | None, COMPUTED, LOCAL] = None
    private_key_pem: Annotated[str | None, COMPUTED, LOCAL, SECRET] = None
    p12: Annotated[str | None, COMPUTED, LOCAL, SECRET] = None
    p12_password: Annotated[str | None, COMPUTED, LOCAL, SECRET] = None


def generate_key_and_csr(inputs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Without a user CSR: an RSA 2048 key (Apple's requirement) and a CSR signed by it."""
    if inputs.get("csr_content"):
        return {}, {}
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, "pulumi-appstoreconnect"),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, "signing@pulumi-appstoreconnect.invalid"),
        ]))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {"csrContent": csr.public_bytes(serialization.Encoding.PEM).decode()}, {"private_key_pem": key_pem}


def certificate_files(outputs: dict[str, Any]) -> dict[str, Any]:
    """The certificate as PEM and, when the provider holds the key, a password-protected .p12."""
    content = outputs.get("certificate_content")
    if not content:
        return {}
    derived: dict[str, Any] = {}
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(content))
    except ValueError:  # trimmed or garbled content: report what Apple sent, derive nothing
        return {}
    derived["certificate_pem"] = certificate.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = outputs.get("private_key_pem")
    if key_pem and not outputs.get("p12"):
        password = outputs.get("p12_password") or secrets.token_urlsafe(18)
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
        bundle = pkcs12.serialize_key_and_certificates(
            name=(outputs.get("name") or "certificate").encode(),
            key=key,  # type: ignore[arg-type]
            cert=certificate,
            cas=None,
            encryption_algorithm=serialization.BestAvailableEncryption(password.encode()),
        )
        derived["p12"] = base64.b64encode(bundle).decode()
        derived["p12_password"] = password
    return derived


def in_renewal_window(expiry: str, renew_before_days: int | None, now: datetime) -> bool:
    """Whether a certificate expiring at ``expiry`` is due for renewal (or expired) at ``now``."""
    days = DEFAULT_RENEW_BEFORE_DAYS if renew_before_days is None else int(renew_before_days)
    return parse_timestamp(expiry) - timedelta(days=days) <= now


def renew_when_expiring(olds: dict[str, Any], now: datetime) -> list[str]:
    """Replace the certificate once it is within ``renew_before_days`` of its expiry."""
    expiry = olds.get("expiration_date")
    if expiry and in_renewal_window(expiry, olds.get("renew_before_days"), now):
        return ["expiration_date"]
    return []


# How Apple words its per-type certificate limit. The API answers 409 ENTITY_ERROR "There is a
# problem with the request entity" with this detail (quoted in fastlane issue #19349, 2021, for
# Developer ID Application; codemagic-docs PR #770, 2022, for Distribution); the developer portal
# words the same limit "Maximum number of certificates generated" (fastlane issues #13318, #13843).
_LIMIT_DETAIL = re.compile(
    r"already have a current .+ certificate or a pending certificate request|maximum number of certificates",
    re.IGNORECASE,
)


def at_certificate_limit(error: ConflictError) -> bool:
    """True when Apple's own code and detail say the team holds as many certificates as allowed."""
    return any(
        e.code.startswith("ENTITY_ERROR") and _LIMIT_DETAIL.search(e.detail or "") for e in error.errors
    )


def certificate_limit_hint(certificate_type: str, existing: list[dict[str, Any]], renewing: frozenset[str] = frozenset()) -> str:
    """What to tell the user when a create hit the limit: the current certificates, what to do.
    ``renewing``: ids this stack is replacing (a renewal creates the new one before the old goes)."""
    listing = "; ".join(
        f"{c['id']} (serial {(c.get('attributes') or {}).get('serialNumber')}, "
        f"expires {(c.get('attributes') or {}).get('expirationDate')}"
        f"{', being renewed by this stack' if c['id'] in renewing else ''})"
        for c in existing
    )
    held = f"this team has {len(existing)}: {listing}" if existing else "none is listed (a pending request counts too)"
    hint = f"Apple limits how many {certificate_type} certificates a team can hold, and {held}. "
    renewed = [c["id"] for c in existing if c["id"] in renewing]
    if renewed:
        return hint + (
            f"This create renews {', '.join(renewed)}: a renewal makes the new certificate before it "
            "revokes the old one, which the limit does not allow. Either revoke another certificate of "
            "this type first, or let this stack revoke the old one first by setting "
            "delete_before_replace=True in this Certificate's ResourceOptions (profiles holding it are "
            "INVALID until they are regenerated with the new certificate in the same up)."
        )
    return hint + "Revoke one (or manage it in this stack) and run again."


def explain_certificate_limit(provider: Any, error: Exception, inputs: dict[str, Any]) -> Exception | None:
    """Apple's 409 at its per-type limit, with the team's current certificates of that type.
    Any other 409 is left as Apple sent it (its code, detail and pointer say what is wrong)."""
    if not isinstance(error, ConflictError) or not at_certificate_limit(error):
        return None
    cert_type = inputs["certificate_type"]
    existing = provider.client.list_all("/v1/certificates", {"filter[certificateType]": cert_type})
    return error.with_hint(certificate_limit_hint(cert_type, existing, provider.being_replaced()))


def certificates_for_csr(provider: Any, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    """The certificates Apple issued for this CSR: those carrying the CSR's public key. A CSR
    can be used more than once (a renewal with the user's own CSR), so there may be several."""
    csr = inputs.get("csr_content")
    if not csr:
        return []
    wanted = _public_key_der(load_csr(csr).public_key())
    listed = provider.client.list_all("/v1/certificates", {"filter[certificateType]": inputs["certificate_type"]})
    found = []
    for candidate in listed:
        content = (candidate.get("attributes") or {}).get("certificateContent")
        if not content:
            continue
        try:
            issued = x509.load_der_x509_certificate(base64.b64decode(content))
        except ValueError:
            continue
        if _public_key_der(issued.public_key()) == wanted:
            found.append(candidate)
    return found


def certificates_already_issued_for_csr(provider: Any, inputs: dict[str, Any]) -> set[str]:
    """Before the POST: certificates the user's CSR already has (the one a renewal replaces,
    or one made by hand). None of them can be the one this create makes. A generated CSR is
    new, so nothing is looked up for it."""
    return {c["id"] for c in certificates_for_csr(provider, inputs)} if inputs.get("csr_content") else set()


def _public_key_der(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


CERTIFICATES = ResourceSpec(
    rest_type="certificates",
    inputs=CertificateInputs,
    delete=REVOKE,
    filters=("displayName", "certificateType", "serialNumber", "id"),
    adopt_by=("serialNumber",),
    hooks=Hooks(
        validate=renewal_within_lifetime,
        prepare_create=generate_key_and_csr,
        derive_outputs=certificate_files,
        replace_reasons=renew_when_expiring,
        on_conflict=explain_certificate_limit,
        find_existing=certificates_for_csr,
        existing_before_post=certificates_already_issued_for_csr,
    ),
)


class Certificate(SpecResource, spec=CERTIFICATES):
    """A signing certificate. **Destroy revokes it** (Apple's DELETE is a revocation).

    Give ``csr_content`` to keep the private key yourself, or leave it out and the provider
    generates an RSA 2048 key and CSR: then ``private_key_pem``, ``p12`` (base64) and
    ``p12_password`` are outputs, stored only as secrets. ``certificate_content`` is Apple's
    base64 DER, ``certificate_pem`` the same as PEM. Once the certificate is within
    ``renew_before_days`` (default 30) of its ``expiration_date``, the next ``up`` replaces it
    (the new one is created before the old one is revoked). ``renew_before_days`` must be shorter
    than the time Apple issues the type for (one year for development and distribution types,
    five years for Developer ID), or every ``up`` would renew it: preview rejects it. Changing
    ``certificate_type`` or ``csr_content`` replaces it too.

    ``PASS_TYPE_ID*`` and ``APPLE_PAY*`` certificates belong to a pass type ID or merchant ID,
    which Apple's create request links as a relationship this resource does not send yet:
    preview rejects those types (create them in the web UI).
    """

    certificate_type: pulumi.Output[str]
    renew_before_days: pulumi.Output[int]
    name: pulumi.Output[str]
    display_name: pulumi.Output[str]
    serial_number: pulumi.Output[str]
    platform: pulumi.Output[str]
    expiration_date: pulumi.Output[str]
    certificate_content: pulumi.Output[str]
    certificate_pem: pulumi.Output[str]
    private_key_pem: pulumi.Output[str | None]
    p12: pulumi.Output[str | None]
    p12_password: pulumi.Output[str | None]
