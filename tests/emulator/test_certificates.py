"""certificates: real X.509 issued from CSRs by the emulator's CA, CSR validation, the
distribution-certificate limit, revocation (API and admin) and moving an expiry out of band."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pulumi_appstoreconnect.emulator import Emulator

from .signing_support import (
    ca_certificate,
    create,
    created,
    csr_for,
    der_certificate,
    new_ec_key,
    pem,
)
from .support import BASE_URL, error

CreateCertificate = Callable[..., dict[str, Any]]

LIMIT_DETAIL = "You already have a current {} certificate or a pending certificate request."


def _public_der(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _when(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z")


def test_a_certificate_issued_from_a_csr_chains_to_the_ca_and_carries_its_key(
    api: httpx.Client, admin: httpx.Client, emulator: Emulator, signing_key: Any, csr: str
) -> None:
    response = create(api, "certificates", {"certificateType": "IOS_DEVELOPMENT", "csrContent": csr})
    data = created(response)
    assert response.json()["links"] == {"self": f"{BASE_URL}/v1/certificates/{data['id']}"}
    attributes = data["attributes"]
    # Apple's Certificate schema order, then csrContent: null as every recorded public-API
    # certificate shows it (the CSR itself is never kept or shown).
    assert list(attributes) == [
        "name", "certificateType", "displayName", "serialNumber", "platform", "expirationDate",
        "certificateContent", "activated", "csrContent",
    ]
    assert attributes["csrContent"] is None
    certificate = der_certificate(data)
    ca = ca_certificate(admin)
    certificate.verify_directly_issued_by(ca)
    assert _public_der(certificate.public_key()) == _public_der(signing_key.public_key())
    # The API's attributes describe that very certificate.
    assert attributes["serialNumber"] == f"{certificate.serial_number:X}"
    assert attributes["serialNumber"] == attributes["serialNumber"].upper()
    assert _when(attributes["expirationDate"]) == certificate.not_valid_after_utc
    assert attributes["expirationDate"].endswith(".000+0000")
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert lifetime == timedelta(days=365)
    assert abs(certificate.not_valid_before_utc - datetime.now(timezone.utc)) < timedelta(minutes=5)
    subject = certificate.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"iPhone Developer: Emulator ({emulator.team_id})"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == emulator.team_id
    usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CODE_SIGNING in usage
    assert (attributes["name"], attributes["displayName"], attributes["platform"], attributes["activated"]) == (
        "iOS Development: Emulator", "Emulator", "IOS", True,
    )
    # Reads show the same object, and the CSR is not kept anywhere.
    assert api.get(f"/v1/certificates/{data['id']}").json()["data"] == data
    assert admin.get(f"/_emulator/objects/certificates/{data['id']}").json()["data"]["attributes"]["csrContent"] is None
    stored = emulator.store.get("certificates", data["id"])
    assert stored is not None and "csrContent" not in stored.attributes


def test_the_ca_is_written_to_the_state_dir_and_survives_a_restart(
    tmp_path: Path, admin: httpx.Client, emulator: Emulator, create_certificate: CreateCertificate
) -> None:
    certificate = der_certificate(create_certificate())
    ca_file = emulator.state_dir / "emulator-ca.pem"
    assert x509.load_pem_x509_certificate(ca_file.read_bytes()) == ca_certificate(admin)
    restarted = Emulator(emulator.state_dir)
    try:
        assert restarted.authority.certificate == ca_certificate(admin)
        certificate.verify_directly_issued_by(restarted.authority.certificate)
    finally:
        restarted.close()
    other = Emulator(tmp_path / "elsewhere")
    try:
        assert other.authority.certificate != ca_certificate(admin)  # one CA per state dir
    finally:
        other.close()


def test_a_base64_der_csr_is_accepted_too(api: httpx.Client, signing_key: Any) -> None:
    der = csr_for(signing_key).public_bytes(serialization.Encoding.DER)
    data = created(create(api, "certificates", {"certificateType": "DEVELOPMENT", "csrContent": base64.b64encode(der).decode()}))
    assert _public_der(der_certificate(data).public_key()) == _public_der(signing_key.public_key())


@pytest.mark.parametrize(
    ("certificate_type", "platform", "name", "common_name"),
    [
        ("DEVELOPMENT", None, "Apple Development: Emulator", "Apple Development"),
        ("DISTRIBUTION", None, "Apple Distribution: Emulator", "Apple Distribution"),
        ("IOS_DISTRIBUTION", "IOS", "iOS Distribution: Emulator", "iPhone Distribution"),
        ("MAC_APP_DEVELOPMENT", "MAC_OS", "Mac Development: Emulator", "Mac Developer"),
        ("MAC_INSTALLER_DISTRIBUTION", "MAC_OS", "Mac Installer Distribution: Emulator", "3rd Party Mac Developer Installer"),
        ("DEVELOPER_ID_APPLICATION_G2", "MAC_OS", "Developer ID Application: Emulator", "Developer ID Application"),
    ],
)
def test_names_and_platform_follow_the_type(
    create_certificate: CreateCertificate, emulator: Emulator, certificate_type: str, platform: str | None, name: str, common_name: str
) -> None:
    data = create_certificate(certificate_type)
    assert (data["attributes"]["platform"], data["attributes"]["name"]) == (platform, name)
    cn = der_certificate(data).subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == f"{common_name}: Emulator ({emulator.team_id})"


# Apple's published validity: Developer ID certificates are "valid for 5 years from the date of
# creation" (developer.apple.com/support/developer-id); development and distribution
# certificates one year (the 2019-11-29 to 2020-11-28 iOS Development certificate in codemagic's
# recorded profile fixture).
@pytest.mark.parametrize(
    ("certificate_type", "years"),
    [("IOS_DEVELOPMENT", 1), ("DISTRIBUTION", 1), ("DEVELOPER_ID_APPLICATION", 5), ("DEVELOPER_ID_KEXT_G2", 5)],
)
def test_a_certificate_lives_as_long_as_apple_issues_its_type_for(
    create_certificate: CreateCertificate, certificate_type: str, years: int
) -> None:
    data = create_certificate(certificate_type)
    certificate = der_certificate(data)
    start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    assert end.date() in {start.date().replace(year=start.year + years) + timedelta(days=d) for d in (-1, 0, 1)}
    assert _when(data["attributes"]["expirationDate"]) == end


def _tampered(csr: str) -> str:
    der = bytearray(x509.load_pem_x509_csr(csr.encode()).public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0xFF  # inside the signature
    return base64.b64encode(bytes(der)).decode()


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("garbage", "could not be read"),
        ("truncated", "could not be read"),
        ("bad_signature", "signature is not valid"),
        ("ec_key", "RSA 2048"),
        ("empty", "empty"),
    ],
)
def test_an_unusable_csr_is_a_conflict_on_csr_content(api: httpx.Client, csr: str, case: str, words: str) -> None:
    value = {
        "garbage": "-----BEGIN CERTIFICATE REQUEST-----\nbm9wZQ==\n-----END CERTIFICATE REQUEST-----\n",
        "truncated": csr[: len(csr) // 2],
        "bad_signature": _tampered(csr),
        "ec_key": pem(csr_for(new_ec_key())),
        "empty": "",
    }[case]
    response = create(api, "certificates", {"certificateType": "IOS_DEVELOPMENT", "csrContent": value})
    assert response.status_code == 409, response.text
    item = error(response)
    assert item["code"] == "ENTITY_ERROR.ATTRIBUTE.INVALID"
    assert item["source"] == {"pointer": "/data/attributes/csrContent"}
    assert words in item["detail"]
    assert api.get("/v1/certificates").json()["data"] == []


def test_csr_content_is_required(api: httpx.Client) -> None:
    response = create(api, "certificates", {"certificateType": "IOS_DEVELOPMENT"})
    assert response.status_code == 409
    assert (error(response)["code"], error(response)["source"]) == (
        "ENTITY_ERROR.ATTRIBUTE.REQUIRED", {"pointer": "/data/attributes/csrContent"}
    )


def test_the_fourth_distribution_certificate_is_refused(
    api: httpx.Client, csr: str, create_certificate: CreateCertificate
) -> None:
    kept = [create_certificate("IOS_DISTRIBUTION") for _ in range(3)]
    fourth = create(api, "certificates", {"certificateType": "IOS_DISTRIBUTION", "csrContent": csr})
    assert fourth.status_code == 409
    item = error(fourth)
    assert (item["code"], item["title"]) == ("ENTITY_ERROR", "There is a problem with the request entity")
    assert item["detail"] == LIMIT_DETAIL.format("iOS Distribution")
    assert len(api.get("/v1/certificates", params={"filter[certificateType]": "IOS_DISTRIBUTION"}).json()["data"]) == 3
    # The limit is per type: development certificates and other distribution types still work.
    create_certificate("IOS_DEVELOPMENT")
    create_certificate("DISTRIBUTION")
    # Revoking one makes room again.
    assert api.delete(f"/v1/certificates/{kept[0]['id']}").status_code == 204
    create_certificate("IOS_DISTRIBUTION")


def test_an_expired_certificate_does_not_count_against_the_limit(
    api: httpx.Client, admin: httpx.Client, csr: str, create_certificate: CreateCertificate
) -> None:
    first, *_ = [create_certificate("DEVELOPER_ID_APPLICATION") for _ in range(3)]
    blocked = create(api, "certificates", {"certificateType": "DEVELOPER_ID_APPLICATION", "csrContent": csr})
    assert error(blocked)["detail"] == LIMIT_DETAIL.format("Developer ID Application")
    past = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    moved = admin.patch(f"/_emulator/objects/certificates/{first['id']}", json={"attributes": {"expirationDate": past}})
    assert moved.status_code == 200, moved.text
    create_certificate("DEVELOPER_ID_APPLICATION")


def test_revoking_makes_the_certificate_disappear(api: httpx.Client, create_certificate: CreateCertificate) -> None:
    certificate = create_certificate()
    other = create_certificate()
    assert api.delete(f"/v1/certificates/{certificate['id']}").status_code == 204
    gone = api.get(f"/v1/certificates/{certificate['id']}")
    assert gone.status_code == 404
    assert error(gone)["code"] == "NOT_FOUND"
    assert [c["id"] for c in api.get("/v1/certificates").json()["data"]] == [other["id"]]
    assert api.delete(f"/v1/certificates/{certificate['id']}").status_code == 404


def test_the_admin_api_revokes_through_the_same_rule(
    api: httpx.Client, admin: httpx.Client, create_certificate: CreateCertificate
) -> None:
    certificate = create_certificate()
    response = admin.post(f"/_emulator/certificates/{certificate['id']}/revoke")
    assert response.status_code == 200, response.text
    assert response.json() == {"revoked": certificate["id"], "invalidatedProfiles": []}
    assert api.get(f"/v1/certificates/{certificate['id']}").status_code == 404
    assert admin.post(f"/_emulator/certificates/{certificate['id']}/revoke").status_code == 404


def test_moving_the_expiry_out_of_band(api: httpx.Client, admin: httpx.Client, create_certificate: CreateCertificate) -> None:
    certificate = create_certificate()
    soon = (datetime.now(timezone.utc) + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    moved = admin.patch(f"/_emulator/objects/certificates/{certificate['id']}", json={"attributes": {"expirationDate": soon}})
    assert moved.status_code == 200
    assert api.get(f"/v1/certificates/{certificate['id']}").json()["data"]["attributes"]["expirationDate"] == soon
    bad = admin.patch(f"/_emulator/objects/certificates/{certificate['id']}", json={"attributes": {"expirationDate": "soon"}})
    assert bad.status_code == 409
    assert error(bad)["source"] == {"pointer": "/data/attributes/expirationDate"}


def test_the_admin_api_seeds_real_certificates_without_a_csr(api: httpx.Client, admin: httpx.Client) -> None:
    expiry = "2020-01-02T03:04:05.000+0000"
    seeded = admin.post(
        "/_emulator/objects/certificates",
        json={"attributes": {"certificateType": "IOS_DISTRIBUTION", "expirationDate": expiry}},
    )
    assert seeded.status_code == 201, seeded.text
    data = api.get(f"/v1/certificates/{seeded.json()['data']['id']}").json()["data"]
    certificate = der_certificate(data)
    certificate.verify_directly_issued_by(ca_certificate(admin))
    assert data["attributes"]["expirationDate"] == expiry
    assert certificate.not_valid_after_utc == _when(expiry)


def test_activated_is_patched_and_nothing_else(api: httpx.Client, create_certificate: CreateCertificate) -> None:
    certificate = create_certificate()
    url = f"/v1/certificates/{certificate['id']}"

    def patch(**attributes: Any) -> httpx.Response:
        return api.patch(url, json={"data": {"type": "certificates", "id": certificate["id"], "attributes": attributes}})

    response = patch(activated=False)
    assert response.status_code == 200
    assert response.json()["data"]["attributes"] == {**certificate["attributes"], "activated": False}
    assert error(patch(activated="no"))["code"] == "ENTITY_ERROR.ATTRIBUTE.TYPE"
    assert error(patch(certificateType="DEVELOPMENT"))["code"] == "ENTITY_ERROR.ATTRIBUTE.NOT_ALLOWED"
    assert error(patch(csrContent="x"))["code"] == "ENTITY_ERROR.ATTRIBUTE.NOT_ALLOWED"


def test_filters_find_certificates_by_serial_and_type(api: httpx.Client, create_certificate: CreateCertificate) -> None:
    development = create_certificate("IOS_DEVELOPMENT")
    distribution = create_certificate("IOS_DISTRIBUTION")
    by_serial = api.get("/v1/certificates", params={"filter[serialNumber]": development["attributes"]["serialNumber"]})
    assert [c["id"] for c in by_serial.json()["data"]] == [development["id"]]
    by_type = api.get("/v1/certificates", params={"filter[certificateType]": "IOS_DISTRIBUTION"})
    assert [c["id"] for c in by_type.json()["data"]] == [distribution["id"]]
