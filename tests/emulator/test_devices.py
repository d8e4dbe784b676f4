"""devices: computed attributes, status only by PATCH, no DELETE, UDIDs unique ignoring case."""

from __future__ import annotations

import re
from typing import Any, Callable

import httpx
import pytest

from .signing_support import create, created
from .support import error

CreateDevice = Callable[..., dict[str, Any]]

APPLE_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
UDID = "00008030-001A35E11A88802E"


def patch(api: httpx.Client, device_id: str, **attributes: Any) -> httpx.Response:
    return api.patch(f"/v1/devices/{device_id}", json={"data": {"type": "devices", "id": device_id, "attributes": attributes}})


@pytest.mark.parametrize(("platform", "device_class"), [("IOS", "IPHONE"), ("MAC_OS", "MAC"), ("UNIVERSAL", "IPHONE")])
def test_registering_computes_class_model_date_and_status(api: httpx.Client, platform: str, device_class: str) -> None:
    data = created(create(api, "devices", {"udid": UDID, "platform": platform, "name": "Alice's iPhone"}))
    attributes = data["attributes"]
    assert set(attributes) == {"udid", "platform", "name", "status", "deviceClass", "model", "addedDate"}
    assert (attributes["udid"], attributes["platform"], attributes["name"]) == (UDID, platform, "Alice's iPhone")
    assert attributes["status"] == "ENABLED"
    assert attributes["deviceClass"] == device_class
    assert attributes["model"] is None or (isinstance(attributes["model"], str) and attributes["model"])
    assert APPLE_TIMESTAMP.match(attributes["addedDate"]), attributes["addedDate"]
    assert api.get(f"/v1/devices/{data['id']}").json()["data"] == data


@pytest.mark.parametrize("attribute", [("status", "DISABLED"), ("deviceClass", "IPAD"), ("addedDate", "2020-01-01T00:00:00.000+0000")])
def test_post_refuses_what_only_apple_or_a_patch_sets(api: httpx.Client, attribute: tuple[str, str]) -> None:
    wire, value = attribute
    response = create(api, "devices", {"udid": UDID, "platform": "IOS", "name": "Phone", wire: value})
    assert response.status_code == 409
    item = error(response)
    assert item["code"] == "ENTITY_ERROR.ATTRIBUTE.NOT_ALLOWED"
    assert item["source"] == {"pointer": f"/data/attributes/{wire}"}
    assert api.get("/v1/devices").json()["data"] == []  # nothing registered


def test_a_udid_registered_already_is_a_conflict_in_any_case(api: httpx.Client, create_device: CreateDevice) -> None:
    existing = create_device(udid=UDID)
    response = create(api, "devices", {"udid": UDID.lower(), "platform": "IOS", "name": "Again"})
    assert response.status_code == 409
    item = error(response)
    assert item["code"] == "ENTITY_ERROR"
    assert item["title"] == "There is a problem with the request entity"
    assert item["detail"] == f"A device with number '{UDID.lower()}' already exists on this team."
    assert item["source"] == {"pointer": "/data/attributes/udid"}
    # Disabled devices keep their UDID.
    assert patch(api, existing["id"], status="DISABLED").status_code == 200
    assert create(api, "devices", {"udid": UDID, "platform": "IOS", "name": "Again"}).status_code == 409
    assert len(api.get("/v1/devices").json()["data"]) == 1


def test_devices_cannot_be_deleted(api: httpx.Client, create_device: CreateDevice) -> None:
    device = create_device()
    response = api.delete(f"/v1/devices/{device['id']}")
    assert response.status_code == 405
    assert error(response)["code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["allow"] == "GET, PATCH"
    assert api.get(f"/v1/devices/{device['id']}").status_code == 200


def test_platform_filter_refuses_universal_as_apple_does(api: httpx.Client, create_device: CreateDevice) -> None:
    # The spec lists UNIVERSAL for devices' filter[platform]; Apple answers 400 (fastlane
    # issues #29497 and #29573 quote it; fastlane 2.227.2 stopped sending it).
    create_device(platform="IOS")
    response = api.get("/v1/devices", params={"filter[platform]": "IOS,UNIVERSAL"})
    assert response.status_code == 400
    item = error(response)
    assert (item["code"], item["source"]) == ("PARAMETER_ERROR.INVALID", {"parameter": "filter[platform]"})
    assert item["detail"] == "'UNIVERSAL' is not a valid filter value. Expected one of: IOS, MAC_OS"
    assert len(api.get("/v1/devices", params={"filter[platform]": "IOS,MAC_OS"}).json()["data"]) == 1


def test_name_and_status_are_patched(api: httpx.Client, create_device: CreateDevice) -> None:
    device = create_device(name="Old")
    response = patch(api, device["id"], name="New", status="DISABLED")
    assert response.status_code == 200, response.text
    attributes = response.json()["data"]["attributes"]
    assert (attributes["name"], attributes["status"]) == ("New", "DISABLED")
    assert {k: v for k, v in attributes.items() if k not in ("name", "status")} == {
        k: v for k, v in device["attributes"].items() if k not in ("name", "status")
    }
    disabled = api.get("/v1/devices", params={"filter[status]": "DISABLED"}).json()["data"]
    assert [d["id"] for d in disabled] == [device["id"]]
    assert api.get("/v1/devices", params={"filter[status]": "ENABLED"}).json()["data"] == []
    assert patch(api, device["id"], status="ENABLED").json()["data"]["attributes"]["status"] == "ENABLED"


@pytest.mark.parametrize(("wire", "value", "code"), [("status", "LOST", "ENTITY_ERROR.ATTRIBUTE.TYPE"),
                                                     ("udid", "00008030-0000000000000001", "ENTITY_ERROR.ATTRIBUTE.NOT_ALLOWED"),
                                                     ("platform", "MAC_OS", "ENTITY_ERROR.ATTRIBUTE.NOT_ALLOWED")])
def test_patch_refuses_other_values(api: httpx.Client, create_device: CreateDevice, wire: str, value: str, code: str) -> None:
    device = create_device()
    response = patch(api, device["id"], **{wire: value})
    assert response.status_code == 409
    assert (error(response)["code"], error(response)["source"]) == (code, {"pointer": f"/data/attributes/{wire}"})


def test_filter_udid_ignores_case(api: httpx.Client, create_device: CreateDevice) -> None:
    device = create_device(udid=UDID)
    create_device()
    for wanted in (UDID, UDID.lower(), f"{UDID.lower()},FFFFFFFF-0000000000000000"):
        found = api.get("/v1/devices", params={"filter[udid]": wanted}).json()["data"]
        assert [d["id"] for d in found] == [device["id"]], wanted


def test_a_malformed_udid_is_refused(api: httpx.Client) -> None:
    response = create(api, "devices", {"udid": "not-a-udid", "platform": "IOS", "name": "Phone"})
    assert response.status_code == 409
    assert error(response)["source"] == {"pointer": "/data/attributes/udid"}


def test_the_admin_api_may_seed_any_device_class(api: httpx.Client, admin: httpx.Client) -> None:
    seeded = admin.post(
        "/_emulator/objects/devices",
        json={"attributes": {"udid": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "platform": "IOS", "name": "TV",
                             "deviceClass": "APPLE_TV", "status": "DISABLED"}},
    )
    assert seeded.status_code == 201, seeded.text
    device = api.get(f"/v1/devices/{seeded.json()['data']['id']}").json()["data"]
    assert (device["attributes"]["deviceClass"], device["attributes"]["status"]) == ("APPLE_TV", "DISABLED")
    assert APPLE_TIMESTAMP.match(device["attributes"]["addedDate"])
