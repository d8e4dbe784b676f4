"""bundleIds: CRUD, documents, validation errors and the related endpoints."""

from __future__ import annotations

from typing import Any, Callable

import httpx
import pytest

from pulumi_appstoreconnect.emulator import Emulator

from .support import BASE_URL, error

CreateBundleId = Callable[..., dict[str, Any]]


def _body(attributes: dict[str, Any], **data: Any) -> dict[str, Any]:
    return {"data": {"type": "bundleIds", "attributes": attributes, **data}}


VALID = {"identifier": "com.example.app", "name": "Example", "platform": "IOS"}


# -- create / read / update / delete --------------------------------------------------------


def test_create_returns_an_apple_shaped_document(api: httpx.Client, emulator: Emulator) -> None:
    response = api.post("/v1/bundleIds", json=_body(VALID))
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    doc = response.json()
    data = doc["data"]
    assert data["type"] == "bundleIds"
    assert len(data["id"]) == 10 and data["id"].isalnum() and data["id"].upper() == data["id"]
    assert data["attributes"] == {**VALID, "seedId": emulator.team_id}
    self_url = f"{BASE_URL}/v1/bundleIds/{data['id']}"
    assert data["links"] == {"self": self_url}
    assert doc["links"] == {"self": self_url}
    assert set(data["relationships"]) == {"profiles", "bundleIdCapabilities", "app"}
    for name, member in data["relationships"].items():
        assert member["links"] == {
            "self": f"{self_url}/relationships/{name}",
            "related": f"{self_url}/{name}",
        }


def test_get_patch_delete_round_trip(api: httpx.Client, create_bundle_id: CreateBundleId) -> None:
    created = create_bundle_id("com.example.app", name="Before")
    url = f"/v1/bundleIds/{created['id']}"

    got = api.get(url)
    assert got.status_code == 200
    assert got.json()["data"] == created
    assert got.json()["links"] == {"self": f"{BASE_URL}{url}"}

    patched = api.patch(url, json={"data": {"type": "bundleIds", "id": created["id"], "attributes": {"name": "After"}}})
    assert patched.status_code == 200
    assert patched.json()["data"]["attributes"] == {**created["attributes"], "name": "After"}
    assert api.get(url).json()["data"]["attributes"]["name"] == "After"

    deleted = api.delete(url)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert api.get(url).status_code == 404
    assert api.delete(url).status_code == 404


def test_patch_without_attributes_changes_nothing(api: httpx.Client, create_bundle_id: CreateBundleId) -> None:
    created = create_bundle_id("com.example.app")
    response = api.patch(f"/v1/bundleIds/{created['id']}", json={"data": {"type": "bundleIds", "id": created["id"]}})
    assert response.status_code == 200
    assert response.json()["data"] == created


def test_links_follow_the_host_the_client_used(emulator: Emulator, mint: Callable[..., str]) -> None:
    with httpx.Client(
        transport=httpx.WSGITransport(app=emulator.app),
        base_url="http://127.0.0.1:9999",
        headers={"Authorization": f"Bearer {mint()}"},
    ) as client:
        data = client.post("/v1/bundleIds", json=_body(VALID)).json()["data"]
    assert data["links"]["self"] == f"http://127.0.0.1:9999/v1/bundleIds/{data['id']}"


def test_seed_id_may_be_given_on_create(api: httpx.Client) -> None:
    response = api.post("/v1/bundleIds", json=_body({**VALID, "seedId": "LEGACY1234"}))
    assert response.status_code == 201
    assert response.json()["data"]["attributes"]["seedId"] == "LEGACY1234"


# -- 404 / 405 -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_unknown_id_is_apples_404(api: httpx.Client, method: str) -> None:
    response = api.request(method, "/v1/bundleIds/NOPE123456")
    assert response.status_code == 404
    item = error(response)
    assert item["code"] == "NOT_FOUND"
    assert item["title"] == "The specified resource does not exist"
    assert item["detail"] == "There is no resource of type 'bundleIds' with id 'NOPE123456'"
    assert item["source"] == {"parameter": "id"}


def test_patch_of_unknown_id_is_404_pointing_at_data_id(api: httpx.Client) -> None:
    response = api.patch(
        "/v1/bundleIds/NOPE123456", json={"data": {"type": "bundleIds", "id": "NOPE123456", "attributes": {"name": "x"}}}
    )
    assert response.status_code == 404
    assert error(response)["source"] == {"pointer": "/data/id"}


@pytest.mark.parametrize("path", ["/v1/bundleId", "/v1/bundleIds/", "/v1/bundleIds/X/nothing", "/v1/bundleIds/X/relationships/x"])
def test_unknown_paths_are_404(api: httpx.Client, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    assert error(response)["detail"] == "The path provided does not match a defined resource type."


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/v1/bundleIds", "GET, POST"),
        ("PUT", "/v1/bundleIds/ABC", "GET, PATCH, DELETE"),
        ("POST", "/v1/bundleIds/ABC", "GET, PATCH, DELETE"),
        ("POST", "/v1/bundleIds/ABC/profiles", "GET"),
    ],
)
def test_method_not_allowed(api: httpx.Client, method: str, path: str, allow: str) -> None:
    response = api.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    item = error(response)
    assert item["code"] == "METHOD_NOT_ALLOWED"
    assert method in item["detail"]


# -- request validation ---------------------------------------------------------------------


def test_duplicate_identifier_is_409_with_apples_wording(api: httpx.Client, create_bundle_id: CreateBundleId) -> None:
    create_bundle_id("com.example.app")
    response = api.post("/v1/bundleIds", json=_body({**VALID, "platform": "MAC_OS", "name": "Other"}))
    assert response.status_code == 409
    item = error(response)
    assert item["code"] == "ENTITY_ERROR.ATTRIBUTE.INVALID"
    assert item["detail"] == "An App ID with Identifier 'com.example.app' is not available. Please enter a different string."
    assert item["source"] == {"pointer": "/data/attributes/identifier"}
    assert len(api.get("/v1/bundleIds").json()["data"]) == 1


def test_identifier_differing_only_in_a_suffix_is_not_a_duplicate(api: httpx.Client, create_bundle_id: CreateBundleId) -> None:
    app = create_bundle_id("com.example.app")
    widget = create_bundle_id("com.example.app.widget")  # the prefix rule applies to filters, not uniqueness
    assert app["id"] != widget["id"]
    assert widget["attributes"]["identifier"] == "com.example.app.widget"


def test_missing_required_attributes_each_get_an_error(api: httpx.Client) -> None:
    response = api.post("/v1/bundleIds", json=_body({"name": None}))
    assert response.status_code == 409
    items = response.json()["errors"]
    assert {i["code"] for i in items} == {"ENTITY_ERROR.ATTRIBUTE.REQUIRED"}
    assert {i["source"]["pointer"] for i in items} == {
        "/data/attributes/identifier",
        "/data/attributes/platform",
        "/data/attributes/name",
    }
    assert "You must provide a value for the attribute 'identifier' with this request" in {i["detail"] for i in items}


def test_patch_of_identifier_is_not_allowed(api: httpx.Client, create_bundle_id: CreateBundleId) -> None:
    created = create_bundle_id("com.example.app")
    response = api.patch(
        f"/v1/bundleIds/{created['id']}",
        json={"data": {"type": "bundleIds", "id": created["id"], "attributes": {"identifier": "com.other"}}},
    )
    assert response.status_code == 409
    item = error(response)
    assert item["code"] == "ENTITY_ERROR.ATTRIBUTE.NOT_ALLOWED"
    assert item["source"] == {"pointer": "/data/attributes/identifier"}
    assert item["detail"] == "The attribute 'identifier' can not be included in a 'UPDATE' request"
    assert api.get(f"/v1/bundleIds/{created['id']}").json()["data"]["attributes"]["identifier"] == "com.example.app"


def test_computed_seed_id_is_not_allowed_on_patch(api: httpx.Client, create_bundle_id: CreateBundleId) -> None:
    created = create_bundle_id("com.example.app")
    response = api.patch(
        f"/v1/bundleIds/{created['id']}",
        json={"data": {"type": "bundleIds", "id": created["id"], "attributes": {"seedId": "X"}}},
    )
    assert response.status_code == 409
    assert error(response)["code"] == "ENTITY_ERROR.ATTRIBUTE.NOT_ALLOWED"


def test_unknown_attribute(api: httpx.Client) -> None:
    response = api.post("/v1/bundleIds", json=_body({**VALID, "colour": "blue"}))
    assert response.status_code == 409
    item = error(response)
    assert item["code"] == "ENTITY_ERROR.ATTRIBUTE.UNKNOWN"
    assert item["detail"] == "'colour' is not an attribute on the resource 'bundleIds'"
    assert item["source"] == {"pointer": "/data/attributes/colour"}


@pytest.mark.parametrize(
    ("attributes", "code", "wire"),
    [
        ({**VALID, "platform": "ANDROID"}, "ENTITY_ERROR.ATTRIBUTE.TYPE", "platform"),
        ({**VALID, "platform": 3}, "ENTITY_ERROR.ATTRIBUTE.TYPE", "platform"),
        ({**VALID, "name": 42}, "ENTITY_ERROR.ATTRIBUTE.TYPE", "name"),
        ({**VALID, "identifier": "com..bad"}, "ENTITY_ERROR.ATTRIBUTE.INVALID", "identifier"),
        ({**VALID, "name": "   "}, "ENTITY_ERROR.ATTRIBUTE.INVALID", "name"),
    ],
)
def test_bad_attribute_values(api: httpx.Client, attributes: dict[str, Any], code: str, wire: str) -> None:
    response = api.post("/v1/bundleIds", json=_body(attributes))
    assert response.status_code == 409
    item = error(response)
    assert (item["code"], item["source"]) == (code, {"pointer": f"/data/attributes/{wire}"})


def test_bad_enum_lists_the_allowed_values(api: httpx.Client) -> None:
    item = error(api.post("/v1/bundleIds", json=_body({**VALID, "platform": "ANDROID"})))
    assert item["detail"] == "'ANDROID' is not a valid value for the attribute 'platform'. Expected one of: 'IOS', 'MAC_OS', 'UNIVERSAL'"


def test_null_name_on_patch_is_refused_by_apples_rule_not_by_the_schema(api: httpx.Client, create_bundle_id: CreateBundleId) -> None:
    # Apple's BundleIdUpdateRequest marks name nullable, so the schema lets a null through; the
    # rule that an App ID has a name refuses it (issue 10, §2: the surface is Apple's spec).
    created = create_bundle_id("com.example.app", name="Kept")
    response = api.patch(
        f"/v1/bundleIds/{created['id']}", json={"data": {"type": "bundleIds", "id": created["id"], "attributes": {"name": None}}}
    )
    assert response.status_code == 409
    assert (error(response)["code"], error(response)["detail"]) == (
        "ENTITY_ERROR.ATTRIBUTE.INVALID", "An invalid value 'None' was provided for the parameter 'name'.")


def test_null_name_on_create_is_rejected(api: httpx.Client) -> None:
    # BundleIdCreateRequest's name is required and not nullable.
    response = api.post("/v1/bundleIds", json={"data": {"type": "bundleIds", "attributes": {**VALID, "name": None}}})
    assert response.status_code == 409
    assert error(response)["code"] == "ENTITY_ERROR.ATTRIBUTE.REQUIRED"


@pytest.mark.parametrize(
    ("body", "status", "code", "pointer"),
    [
        ({"data": {"type": "devices", "attributes": VALID}}, 409, "ENTITY_ERROR.TYPE.INVALID", "/data/type"),
        ({"data": {"attributes": VALID}}, 409, "ENTITY_ERROR.TYPE.INVALID", "/data/type"),
        ({"data": {"type": "bundleIds", "id": "MINE", "attributes": VALID}}, 409, "ENTITY_ERROR.ID.NOT_ALLOWED", "/data/id"),
        ({"type": "bundleIds", "attributes": VALID}, 422, "ENTITY_UNPROCESSABLE", "/data"),
        ([], 422, "ENTITY_UNPROCESSABLE", "/data"),
        ({"data": {"type": "bundleIds", "attributes": ["x"]}}, 422, "ENTITY_UNPROCESSABLE", "/data/attributes"),
        (
            {"data": {"type": "bundleIds", "attributes": VALID, "relationships": {"app": {"data": None}}}},
            409,
            "ENTITY_ERROR.RELATIONSHIP.UNKNOWN",
            "/data/relationships/app",
        ),
    ],
)
def test_malformed_create_documents(api: httpx.Client, body: Any, status: int, code: str, pointer: str) -> None:
    response = api.post("/v1/bundleIds", json=body)
    assert response.status_code == status
    item = error(response)
    assert item["code"] == code
    assert item["source"] == {"pointer": pointer}


def test_body_that_is_not_json_is_422(api: httpx.Client) -> None:
    response = api.post("/v1/bundleIds", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert error(response)["code"] == "ENTITY_UNPROCESSABLE"


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        ({"type": "bundleIds", "id": "SOMEONEELS", "attributes": {"name": "x"}}, "does not match"),
        ({"type": "bundleIds", "attributes": {"name": "x"}}, "You must provide the id"),
    ],
)
def test_patch_id_must_match_the_url(api: httpx.Client, create_bundle_id: CreateBundleId, data: dict[str, Any], detail: str) -> None:
    created = create_bundle_id("com.example.app")
    response = api.patch(f"/v1/bundleIds/{created['id']}", json={"data": data})
    assert response.status_code == 409
    item = error(response)
    assert item["code"] == "ENTITY_ERROR.ID.INVALID"
    assert item["source"] == {"pointer": "/data/id"}
    assert detail in item["detail"]


def test_failed_writes_change_nothing(api: httpx.Client, create_bundle_id: CreateBundleId) -> None:
    created = create_bundle_id("com.example.app", name="Kept")
    api.patch(
        f"/v1/bundleIds/{created['id']}",
        json={"data": {"type": "bundleIds", "id": created["id"], "attributes": {"name": "Changed", "platform": "MAC_OS"}}},
    )
    assert api.get(f"/v1/bundleIds/{created['id']}").json()["data"]["attributes"]["name"] == "Kept"


# -- listing, filters, sort, fields, include ------------------------------------------------


def _identifiers(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [o["attributes"]["identifier"] for o in response.json()["data"]]


@pytest.fixture
def catalogue(create_bundle_id: CreateBundleId) -> dict[str, dict[str, Any]]:
    made = {}
    for identifier, name, platform in [
        ("com.x.app", "Beta", "IOS"),
        ("com.x.app.widget", "Alpha", "IOS"),
        ("com.x.apple", "Gamma", "MAC_OS"),
        ("com.y.app", "Delta", "UNIVERSAL"),
    ]:
        made[identifier] = create_bundle_id(identifier, name=name, platform=platform)
    return made


def test_identifier_filter_is_a_prefix_match(api: httpx.Client, catalogue: dict[str, Any]) -> None:
    assert _identifiers(api.get("/v1/bundleIds", params={"filter[identifier]": "com.x.app"})) == [
        "com.x.app",
        "com.x.app.widget",
        "com.x.apple",
    ]
    assert _identifiers(api.get("/v1/bundleIds", params={"filter[identifier]": "com.x.app.widget"})) == ["com.x.app.widget"]
    assert _identifiers(api.get("/v1/bundleIds", params={"filter[identifier]": "com.z"})) == []


def test_other_filters_are_exact_and_values_are_ored(api: httpx.Client, catalogue: dict[str, Any]) -> None:
    assert _identifiers(api.get("/v1/bundleIds", params={"filter[name]": "Alph"})) == []
    assert _identifiers(api.get("/v1/bundleIds", params={"filter[name]": "Alpha,Delta"})) == ["com.x.app.widget", "com.y.app"]
    assert _identifiers(api.get("/v1/bundleIds", params={"filter[platform]": "MAC_OS,UNIVERSAL"})) == ["com.x.apple", "com.y.app"]
    wanted = catalogue["com.y.app"]["id"]
    assert _identifiers(api.get("/v1/bundleIds", params={"filter[id]": wanted})) == ["com.y.app"]


def test_platform_filter_also_returns_universal_bundle_ids(api: httpx.Client, catalogue: dict[str, Any]) -> None:
    # A UNIVERSAL App ID serves iOS and macOS alike, and Apple lists it under both platforms
    # (Tinder/sign-here#19: filter[platform]=IOS answered a UNIVERSAL one). An exact-match
    # filter would hide com.y.app from a client looking for its iOS App ID.
    assert _identifiers(api.get("/v1/bundleIds", params={"filter[platform]": "IOS"})) == [
        "com.x.app",
        "com.x.app.widget",
        "com.y.app",
    ]
    assert _identifiers(api.get("/v1/bundleIds", params={"filter[platform]": "MAC_OS"})) == ["com.x.apple", "com.y.app"]
    assert _identifiers(api.get("/v1/bundleIds", params={"filter[platform]": "UNIVERSAL"})) == ["com.y.app"]
    response = api.get("/v1/bundleIds", params={"filter[platform]": "IOS", "filter[identifier]": "com.y"})
    assert _identifiers(response) == ["com.y.app"] and response.json()["meta"]["paging"]["total"] == 1


def test_filters_combine_with_and(api: httpx.Client, catalogue: dict[str, Any]) -> None:
    response = api.get("/v1/bundleIds", params={"filter[identifier]": "com.x", "filter[platform]": "IOS"})
    assert _identifiers(response) == ["com.x.app", "com.x.app.widget"]
    assert response.json()["meta"]["paging"]["total"] == 2


def test_seed_id_filter(api: httpx.Client, emulator: Emulator, catalogue: dict[str, Any]) -> None:
    assert len(_identifiers(api.get("/v1/bundleIds", params={"filter[seedId]": emulator.team_id}))) == 4
    assert _identifiers(api.get("/v1/bundleIds", params={"filter[seedId]": "OTHERTEAM1"})) == []


@pytest.mark.parametrize(
    ("params", "parameter", "code"),
    [
        ({"filter[bundleId]": "x"}, "filter[bundleId]", "PARAMETER_ERROR.INVALID"),
        ({"filter[platform]": "IOS,ANDROID"}, "filter[platform]", "PARAMETER_ERROR.INVALID"),
        ({"filter[name]": ""}, "filter[name]", "PARAMETER_ERROR.INVALID"),
        ({"sort": "colour"}, "sort", "PARAMETER_ERROR.INVALID"),
        ({"fields[bundleIds]": "name,colour"}, "fields[bundleIds]", "PARAMETER_ERROR.INVALID"),
        ({"include": "devices"}, "include", "PARAMETER_ERROR.INVALID"),
        ({"limit": "201"}, "limit", "PARAMETER_ERROR.INVALID"),
        ({"limit": "0"}, "limit", "PARAMETER_ERROR.INVALID"),
        ({"limit": "ten"}, "limit", "PARAMETER_ERROR.INVALID"),
        ({"limit[profiles]": "51"}, "limit[profiles]", "PARAMETER_ERROR.INVALID"),
        ({"cursor": "bm9wZQ"}, "cursor", "PARAMETER_ERROR.INVALID"),
        ({"colour": "blue"}, "colour", "PARAMETER_ERROR.ILLEGAL"),
        ({"fields[devices]": "name"}, "fields[devices]", "PARAMETER_ERROR.ILLEGAL"),
    ],
)
def test_bad_list_parameters(api: httpx.Client, params: dict[str, str], parameter: str, code: str) -> None:
    response = api.get("/v1/bundleIds", params=params)
    assert response.status_code == 400
    item = error(response)
    assert item["code"] == code
    assert item["source"] == {"parameter": parameter}


def test_unknown_filter_names_the_filter(api: httpx.Client) -> None:
    item = error(api.get("/v1/bundleIds", params={"filter[bundleId]": "x"}))
    assert item["detail"] == "'bundleId' is not a valid filter type"


def test_repeated_parameter_is_rejected(api: httpx.Client) -> None:
    response = api.get("/v1/bundleIds?limit=5&limit=6")
    assert response.status_code == 400
    assert error(response)["source"] == {"parameter": "limit"}


def test_parameters_an_endpoint_does_not_take(api: httpx.Client, create_bundle_id: CreateBundleId) -> None:
    created = create_bundle_id("com.example.app")
    for path, parameter in [
        (f"/v1/bundleIds/{created['id']}?limit=5", "limit"),  # Apple: limit is ILLEGAL on an instance GET
        (f"/v1/bundleIds/{created['id']}?filter[name]=x", "filter[name]"),
        (f"/v1/bundleIds/{created['id']}/relationships/app?limit=5", "limit"),
    ]:
        response = api.get(path)
        assert response.status_code == 400, path
        assert (error(response)["code"], error(response)["source"]) == ("PARAMETER_ERROR.ILLEGAL", {"parameter": parameter})
    response = api.post("/v1/bundleIds?limit=5", json=_body(VALID))
    assert response.status_code == 400


def test_sort(api: httpx.Client, catalogue: dict[str, Any]) -> None:
    assert _identifiers(api.get("/v1/bundleIds", params={"sort": "name"})) == [
        "com.x.app.widget",
        "com.x.app",
        "com.y.app",
        "com.x.apple",
    ]
    assert _identifiers(api.get("/v1/bundleIds", params={"sort": "-identifier"})) == [
        "com.y.app",
        "com.x.apple",
        "com.x.app.widget",
        "com.x.app",
    ]
    # Ties (platform IOS twice) fall back to creation order.
    assert _identifiers(api.get("/v1/bundleIds", params={"sort": "-platform,identifier"})) == [
        "com.y.app",
        "com.x.apple",
        "com.x.app",
        "com.x.app.widget",
    ]


def test_sparse_fieldsets(api: httpx.Client, catalogue: dict[str, Any]) -> None:
    some = catalogue["com.x.app"]["id"]
    data = api.get(f"/v1/bundleIds/{some}", params={"fields[bundleIds]": "name,identifier"}).json()["data"]
    assert data["attributes"] == {"name": "Beta", "identifier": "com.x.app"}
    assert "relationships" not in data
    data = api.get("/v1/bundleIds", params={"fields[bundleIds]": "platform,app"}).json()["data"][0]
    assert data["attributes"] == {"platform": "IOS"}
    assert set(data["relationships"]) == {"app"}


def test_related_endpoints_when_nothing_is_related(api: httpx.Client, create_bundle_id: CreateBundleId) -> None:
    some = create_bundle_id("com.example.*")["id"]  # a wildcard App ID gets no default capabilities
    base = f"{BASE_URL}/v1/bundleIds/{some}"
    app = api.get(f"/v1/bundleIds/{some}/app")
    assert (app.status_code, app.json()) == (200, {"data": None, "links": {"self": f"{base}/app"}})
    for rel in ("bundleIdCapabilities", "profiles"):
        listing = api.get(f"/v1/bundleIds/{some}/{rel}").json()
        assert listing["data"] == [] and listing["links"] == {"self": f"{base}/{rel}"}
        assert listing["meta"]["paging"]["total"] == 0
        linkage = api.get(f"/v1/bundleIds/{some}/relationships/{rel}").json()
        assert linkage["data"] == [] and linkage["links"] == {"self": f"{base}/relationships/{rel}"}
    assert api.get(f"/v1/bundleIds/{some}/relationships/app").json()["data"] is None


def test_related_endpoints_of_an_unknown_bundle_id_are_404(api: httpx.Client) -> None:
    for path in ("/v1/bundleIds/NOPE/app", "/v1/bundleIds/NOPE/profiles", "/v1/bundleIds/NOPE/relationships/profiles"):
        response = api.get(path)
        assert response.status_code == 404
        assert "'bundleIds' with id 'NOPE'" in error(response)["detail"]


def test_related_objects_seeded_out_of_band(api: httpx.Client, admin: httpx.Client, create_bundle_id: CreateBundleId) -> None:
    bundle = create_bundle_id("com.example.app")
    other = create_bundle_id("com.example.other")
    app = admin.post("/_emulator/objects/apps", json={"id": "1234567890", "attributes": {"name": "Ex", "bundleId": "com.example.app"}})
    assert app.status_code == 201
    profiles = admin.post(
        "/_emulator/objects/profiles",
        json=[
            {"attributes": {"name": "P1"}, "relationships": {"bundleId": bundle["id"]}},
            {"attributes": {"name": "P2"}, "relationships": {"bundleId": {"data": {"type": "bundleIds", "id": bundle["id"]}}}},
            {"attributes": {"name": "Q"}, "relationships": {"bundleId": other["id"]}},
        ],
    ).json()["data"]
    mine = [p["id"] for p in profiles[:2]]

    related_app = api.get(f"/v1/bundleIds/{bundle['id']}/app").json()["data"]
    assert (related_app["type"], related_app["id"], related_app["attributes"]["name"]) == ("apps", "1234567890", "Ex")
    assert api.get(f"/v1/bundleIds/{bundle['id']}/relationships/app").json()["data"] == {"type": "apps", "id": "1234567890"}
    listed = api.get(f"/v1/bundleIds/{bundle['id']}/profiles").json()
    assert [p["id"] for p in listed["data"]] == mine
    assert listed["meta"]["paging"] == {"total": 2, "limit": 20}
    assert api.get(f"/v1/bundleIds/{bundle['id']}/relationships/profiles").json()["data"] == [
        {"type": "profiles", "id": i} for i in mine
    ]
    # fields[profiles] trims the related objects.
    trimmed = api.get(f"/v1/bundleIds/{bundle['id']}/profiles", params={"fields[profiles]": "name"}).json()["data"][0]
    assert trimmed["attributes"] == {"name": "P1"}

    included = api.get(f"/v1/bundleIds/{bundle['id']}", params={"include": "profiles,app", "limit[profiles]": "1"}).json()
    rels = included["data"]["relationships"]
    assert rels["profiles"]["data"] == [{"type": "profiles", "id": mine[0]}]
    assert rels["profiles"]["meta"]["paging"] == {"total": 2, "limit": 1}
    assert rels["app"]["data"] == {"type": "apps", "id": "1234567890"}
    assert {(o["type"], o["id"]) for o in included["included"]} == {("profiles", mine[0]), ("apps", "1234567890")}


def test_deleting_a_bundle_id_deletes_its_capabilities(api: httpx.Client, admin: httpx.Client, create_bundle_id: CreateBundleId) -> None:
    bundle = create_bundle_id("com.example.app")
    admin.post(
        "/_emulator/objects/bundleIdCapabilities",
        json={"id": f"{bundle['id']}_MAPS", "attributes": {"capabilityType": "MAPS"}, "relationships": {"bundleId": bundle["id"]}},
    )
    # Apple's two defaults (Game Center, In-App Purchase) and the one enabled by hand.
    assert len(api.get(f"/v1/bundleIds/{bundle['id']}/bundleIdCapabilities").json()["data"]) == 3
    assert api.delete(f"/v1/bundleIds/{bundle['id']}").status_code == 204
    assert admin.get("/_emulator/objects/bundleIdCapabilities").json()["data"] == []


RELATIONSHIP_WRITES = [
    ("POST", "profiles"),
    ("DELETE", "profiles"),
    ("PATCH", "profiles"),
    ("POST", "bundleIdCapabilities"),
    ("DELETE", "bundleIdCapabilities"),
    ("PATCH", "app"),
]


@pytest.mark.parametrize(("method", "relationship"), RELATIONSHIP_WRITES)
def test_relationship_writes_do_not_exist(
    api: httpx.Client, create_bundle_id: CreateBundleId, method: str, relationship: str
) -> None:
    # Apple's spec has no POST/PATCH/DELETE on any relationship of bundleIds (nor of devices,
    # certificates, profiles or capabilities): a bundle ID's profiles and capabilities change
    # by creating and deleting those objects. The linkage endpoints only answer GET.
    bundle = create_bundle_id("com.example.links")
    linkage = {"data": [{"type": relationship, "id": "X"}]} if relationship != "app" else {"data": {"type": "apps", "id": "X"}}
    response = api.request(method, f"/v1/bundleIds/{bundle['id']}/relationships/{relationship}", json=linkage)
    assert response.status_code == 405, response.text
    assert error(response)["code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["allow"] == "GET"
    assert api.get(f"/v1/bundleIds/{bundle['id']}/relationships/{relationship}").status_code == 200
