"""Helpers for the signing-type tests: CSRs, API shortcuts, and a reader for the emulator's
``profileContent`` that checks the PKCS#7 signature independently of the emulator's code.

``cryptography`` can build PKCS#7 SignedData and list its certificates but not read its content
or verify it, so :func:`read_profile` walks the DER itself (ContentInfo → SignedData →
encapContentInfo / SignerInfo) and verifies the signer's signature over the signed attributes
and the message digest over the content, as ``openssl cms -verify`` would.
"""

from __future__ import annotations

import base64
import hashlib
import plistlib
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

_MESSAGE_DIGEST_OID = bytes.fromhex("06092a864886f70d010904")  # 1.2.840.113549.1.9.4


def csr_for(key: Any, common_name: str = "Test Signer") -> x509.CertificateSigningRequest:
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )


def pem(csr: x509.CertificateSigningRequest) -> str:
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def new_ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def linkage(rest_type: str, ids: str | list[str]) -> dict[str, Any]:
    if isinstance(ids, list):
        return {"data": [{"type": rest_type, "id": i} for i in ids]}
    return {"data": {"type": rest_type, "id": ids}}


def create(api: httpx.Client, rest_type: str, attributes: dict[str, Any], relationships: dict[str, Any] | None = None) -> httpx.Response:
    data: dict[str, Any] = {"type": rest_type, "attributes": attributes}
    if relationships is not None:
        data["relationships"] = relationships
    return api.post(f"/v1/{rest_type}", json={"data": data})


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return response.json()["data"]


def ca_certificate(admin: httpx.Client) -> x509.Certificate:
    response = admin.get("/_emulator/ca")
    assert response.status_code == 200, response.text
    return x509.load_pem_x509_certificate(response.json()["certificate"].encode())


def der_certificate(resource: dict[str, Any]) -> x509.Certificate:
    return x509.load_der_x509_certificate(base64.b64decode(resource["attributes"]["certificateContent"]))


# --------------------------------------------------------------------------------------
# A minimal DER reader for CMS SignedData
# --------------------------------------------------------------------------------------


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the element at ``pos``."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, content start, content end, element start) of each element in [start, end)."""
    out = []
    pos = start
    while pos < end:
        tag, content, stop = _tlv(data, pos)
        out.append((tag, content, stop, pos))
        pos = stop
    return out


@dataclass
class SignedProfile:
    plist: dict[str, Any]
    content: bytes
    certificates: list[x509.Certificate]
    signature_verified_by: x509.Certificate


def read_profile(profile_content: str, ca: x509.Certificate) -> SignedProfile:
    """Decode a base64 ``.mobileprovision``, verify it was signed by ``ca``, return its plist."""
    der = base64.b64decode(profile_content)
    _, start, end = _tlv(der, 0)  # ContentInfo
    _oid, explicit = _children(der, start, end)[:2]
    _, sd_start, sd_end = _tlv(der, explicit[1])  # SignedData SEQUENCE inside [0]
    parts = _children(der, sd_start, sd_end)
    encap = next(p for p in parts if p[0] == 0x30)  # encapContentInfo
    _, wrapped = _children(der, encap[1], encap[2])[:2]
    octets = _children(der, wrapped[1], wrapped[2])[0]
    assert octets[0] == 0x04, "content must be a primitive OCTET STRING"
    content = der[octets[1] : octets[2]]
    signer_infos = parts[-1]
    assert signer_infos[0] == 0x31
    signer = _children(der, signer_infos[1], signer_infos[2])[0]
    fields = _children(der, signer[1], signer[2])
    signed_attrs = next(f for f in fields if f[0] == 0xA0)
    signature = fields[-1]
    assert signature[0] == 0x04
    # The signature covers the signed attributes re-tagged as a SET (RFC 5652 §5.4).
    attrs_der = b"\x31" + der[signed_attrs[3] + 1 : signed_attrs[2]]
    public_key = ca.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(der[signature[1] : signature[2]], attrs_der, ec.ECDSA(hashes.SHA256()))
    digest_at = attrs_der.index(_MESSAGE_DIGEST_OID)
    digest = attrs_der[digest_at + len(_MESSAGE_DIGEST_OID) :]
    # SET { OCTET STRING digest }
    _, set_start, _ = _tlv(digest, 0)
    _, d_start, d_end = _tlv(digest, set_start)
    assert digest[d_start:d_end] == hashlib.sha256(content).digest(), "message digest does not match the content"
    return SignedProfile(
        plist=plistlib.loads(content),
        content=content,
        certificates=pkcs7.load_der_pkcs7_certificates(der),
        signature_verified_by=ca,
    )
