"""Apple's OpenAPI 4.4.1 contract, checked on recorded exchanges with ``openapi-core``.

Reads only the committed excerpt (``emulator/openapi/appstoreconnect-openapi-4.4.1-excerpt.json``
in the package, which the emulator serves its surface from), cut
from Apple's spec by ``tools/openapi_excerpt.py``). For each ``/v1`` exchange:

- the operation (method + path template) must exist in Apple's spec. Requests the provider
  sends must always match one; a test's deliberate probe of a path or method Apple does not
  have must be answered 401/404/405 with a valid ``ErrorResponse``.
- the request (path, query parameters, body, bearer token) is validated against the
  operation: always for the provider's requests, and for a test's requests whenever the
  emulator accepted them (2xx: the emulator must not be laxer than Apple's schema).
- the response status must be one the operation declares, with its content type and body
  schema (every 4xx is Apple's ``ErrorResponse``); 5xx, which Apple declares nowhere, only
  come from injected faults and must still be ``ErrorResponse`` when they are JSON.
- every response carries ``X-Rate-Limit: user-hour-lim:N;user-hour-rem:M;``.

Validation is strict about members: objects may not carry properties the schema does not
declare (``additionalProperties`` forbidden by default), so the emulator cannot leak hidden
state or invent attributes. Where Apple's live API deviates from its own spec and a recorded
public response proves it, the emulator follows Apple: :data:`DEVIATIONS` lists each such
deviation, which the checker accepts explicitly (and counts), nothing else.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import parse_qsl

from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator
from rfc3339_validator import validate_rfc3339

ROOT = Path(__file__).resolve().parents[2]
EXCERPT = ROOT / "provider" / "pulumi_appstoreconnect" / "emulator" / "openapi" / "appstoreconnect-openapi-4.4.1-excerpt.json"
# sha256 of Apple's openapi.json 4.4.1 the excerpt was cut from (shared/asc-api/SOURCE.md).
SPEC_SHA256 = "d8168be3242bfd73d432d34c5b385236146dffe3accfe58f8c19e5ef1567265e"
SERVER = "https://api.appstoreconnect.apple.com"
RATE_LIMIT_HEADER = re.compile(r"^user-hour-lim:\d+;user-hour-rem:\d+;$")

# Every operation the provider sends (reconciler + resource hooks + look-ups + `doctor`), with why. The
# contract scenario must cover each, and a provider request outside this list fails.
PROVIDER_OPERATIONS: dict[str, str] = {
    "POST /v1/bundleIds": "BundleId create",
    "GET /v1/bundleIds": "natural-key lookup filter[identifier] (exact match re-checked), doctor's probe",
    "GET /v1/bundleIds/{id}": "BundleId read",
    "PATCH /v1/bundleIds/{id}": "BundleId update (name)",
    "DELETE /v1/bundleIds/{id}": "BundleId delete",
    "POST /v1/bundleIdCapabilities": "BundleIdCapability create",
    "PATCH /v1/bundleIdCapabilities/{id}": "BundleIdCapability update (settings)",
    "DELETE /v1/bundleIdCapabilities/{id}": "BundleIdCapability delete",
    "GET /v1/bundleIds/{id}/bundleIdCapabilities": "BundleIdCapability read and lookup (no GET of their own)",
    "POST /v1/devices": "Device create",
    "GET /v1/devices": "natural-key lookup filter[udid]; AllEnabledDevices selector filter[platform]+filter[status]",
    "GET /v1/devices/{id}": "Device read",
    "PATCH /v1/devices/{id}": "Device update (name, status), destroy = disable, re-enable",
    "POST /v1/certificates": "Certificate create",
    "GET /v1/certificates": "AllValidCertificates selector, limit explanation, lookup after an ambiguous POST",
    "GET /v1/certificates/{id}": "Certificate read",
    "DELETE /v1/certificates/{id}": "Certificate destroy (revoke)",
    "POST /v1/profiles": "Profile create",
    "GET /v1/profiles": "natural-key lookup filter[name]",
    "GET /v1/profiles/{id}": "Profile read",
    "DELETE /v1/profiles/{id}": "Profile delete",
    # TestFlight (issue 11): the program-side look-ups ...
    "GET /v1/apps": "get_app: filter[bundleId] (exact match re-checked)",
    "GET /v1/preReleaseVersions": "get_build: the version, filter[app]+filter[version]+filter[platform] (re-checked)",
    "GET /v1/builds": "get_build: the version's builds, filter[preReleaseVersion] (+filter[version])",
    # ... beta groups and their memberships ...
    "POST /v1/betaGroups": "BetaGroup create (builds and testers in the same request)",
    "GET /v1/betaGroups": "a tester's groups' apps (filter[id], include=app): duplicate testers, delete_on_destroy",
    "GET /v1/betaGroups/{id}": "BetaGroup read",
    "PATCH /v1/betaGroups/{id}": "BetaGroup update (name, feedback, public link)",
    "DELETE /v1/betaGroups/{id}": "BetaGroup delete",
    "GET /v1/apps/{id}/betaGroups": "BetaGroup look-up by name within its app (adopt, ambiguous POST, 409)",
    "GET /v1/betaGroups/{id}/relationships/builds": "BetaGroup builds membership read",
    "POST /v1/betaGroups/{id}/relationships/builds": "BetaGroup builds added",
    "DELETE /v1/betaGroups/{id}/relationships/builds": "BetaGroup builds removed",
    "GET /v1/betaGroups/{id}/relationships/betaTesters": "BetaGroup testers membership read",
    "POST /v1/betaGroups/{id}/relationships/betaTesters": "BetaGroup testers added",
    "DELETE /v1/betaGroups/{id}/relationships/betaTesters": "BetaGroup testers removed",
    # ... testers ...
    "POST /v1/betaTesters": "BetaTester create (its groups in the same request)",
    "GET /v1/betaTesters": "BetaTester look-up filter[email] (several may answer; ranked, re-checked ignoring case)",
    "GET /v1/betaTesters/{id}": "BetaTester read",
    "GET /v1/betaTesters/{id}/relationships/betaGroups": "BetaTester groups membership read",
    "POST /v1/betaTesters/{id}/relationships/betaGroups": "BetaTester groups added (taken-over tester, update)",
    "DELETE /v1/betaTesters/{id}/relationships/betaGroups": "BetaTester groups removed; destroy (detach)",
    "DELETE /v1/betaTesters/{id}/relationships/apps": "BetaTester destroy with delete_on_destroy (202)",
    # ... and the test information.
    "POST /v1/betaAppLocalizations": "BetaAppLocalization create",
    "GET /v1/betaAppLocalizations/{id}": "BetaAppLocalization read",
    "PATCH /v1/betaAppLocalizations/{id}": "BetaAppLocalization update",
    "DELETE /v1/betaAppLocalizations/{id}": "BetaAppLocalization delete",
    "GET /v1/apps/{id}/betaAppLocalizations": "BetaAppLocalization look-up by locale within its app",
    "POST /v1/betaBuildLocalizations": "BetaBuildLocalization create",
    "GET /v1/betaBuildLocalizations/{id}": "BetaBuildLocalization read",
    "PATCH /v1/betaBuildLocalizations/{id}": "BetaBuildLocalization update",
    "DELETE /v1/betaBuildLocalizations/{id}": "BetaBuildLocalization delete",
    "GET /v1/builds/{id}/betaBuildLocalizations": "BetaBuildLocalization look-up by locale within its build",
    "GET /v1/betaAppReviewDetails": "BetaAppReviewDetail take-over, filter[app] (required by Apple's spec)",
    "GET /v1/betaAppReviewDetails/{id}": "BetaAppReviewDetail read",
    "PATCH /v1/betaAppReviewDetails/{id}": "BetaAppReviewDetail update",
    "GET /v1/betaLicenseAgreements": "BetaLicenseAgreement take-over, filter[app]",
    "GET /v1/betaLicenseAgreements/{id}": "BetaLicenseAgreement read",
    "PATCH /v1/betaLicenseAgreements/{id}": "BetaLicenseAgreement update",
}
# App Store metadata (issue 12), exercised by tests/contract/metadata_scenario.py.
PROVIDER_OPERATIONS.update({
    "GET /v1/apps": "App adoption: filter[bundleId] (exact match re-checked)",
    "GET /v1/apps/{id}": "App read",
    "PATCH /v1/apps/{id}": "App update (primary locale, content rights, URLs)",
    "GET /v1/apps/{id}/appInfos": "AppInfo adoption: the editable app info",
    "GET /v1/appInfos/{id}": "AppInfo read (include= categories), primary locale of a localization's app (include=app)",
    "PATCH /v1/appInfos/{id}": "AppInfo update: categories in the UpdateRequest's relationships",
    "GET /v1/appInfos/{id}/ageRatingDeclaration": "AgeRatingDeclaration adoption and read (no GET of its own)",
    "PATCH /v1/ageRatingDeclarations/{id}": "AgeRatingDeclaration update",
    "GET /v1/appInfos/{id}/appInfoLocalizations": "AppInfoLocalization lookup by locale",
    "POST /v1/appInfoLocalizations": "AppInfoLocalization create",
    "GET /v1/appInfoLocalizations/{id}": "AppInfoLocalization read",
    "PATCH /v1/appInfoLocalizations/{id}": "AppInfoLocalization update",
    "DELETE /v1/appInfoLocalizations/{id}": "AppInfoLocalization delete (not the primary locale's)",
    "GET /v1/apps/{id}/appStoreVersions": "AppStoreVersion lookup (platform + version string)",
    "POST /v1/appStoreVersions": "AppStoreVersion create",
    "GET /v1/appStoreVersions/{id}": "AppStoreVersion read (include=build), state of a refused write, primary locale",
    "PATCH /v1/appStoreVersions/{id}": "AppStoreVersion update",
    "PATCH /v1/appStoreVersions/{id}/relationships/build": "AppStoreVersion build, on its own endpoint",
    "GET /v1/appStoreVersions/{id}/appStoreVersionLocalizations": "AppStoreVersionLocalization lookup by locale",
    "POST /v1/appStoreVersionLocalizations": "AppStoreVersionLocalization create",
    "GET /v1/appStoreVersionLocalizations/{id}": "AppStoreVersionLocalization read",
    "PATCH /v1/appStoreVersionLocalizations/{id}": "AppStoreVersionLocalization update",
    "DELETE /v1/appStoreVersionLocalizations/{id}": "AppStoreVersionLocalization delete (not the primary locale's)",
    "GET /v1/appStoreVersions/{id}/appStoreReviewDetail": "AppStoreReviewDetail lookup (one per version)",
    "POST /v1/appStoreReviewDetails": "AppStoreReviewDetail create",
    "GET /v1/appStoreReviewDetails/{id}": "AppStoreReviewDetail read",
    "PATCH /v1/appStoreReviewDetails/{id}": "AppStoreReviewDetail update",
})
# Screenshots and app previews (issue 13), exercised by tests/contract/media_scenario.py. The
# PUTs of the bytes go to the reservations' upload URLs, which are not API operations.
PROVIDER_OPERATIONS.update({
    f"{operation} /v1/{path}": why
    for kind, assets in (("Screenshot", "appScreenshots"), ("Preview", "appPreviews"))
    for operation, path, why in (
        ("GET", f"appStoreVersionLocalizations/{{id}}/app{kind}Sets", f"App{kind}Set look-up by type within its localization"),
        ("POST", f"app{kind}Sets", f"App{kind}Set create"),
        ("GET", f"app{kind}Sets/{{id}}", f"App{kind}Set read"),
        ("DELETE", f"app{kind}Sets/{{id}}", f"App{kind}Set delete (Apple deletes its {assets})"),
        ("GET", f"app{kind}Sets/{{id}}/{assets}", f"the set's {assets} in Apple's order: plan, processing polls, read"),
        ("PATCH", f"app{kind}Sets/{{id}}/relationships/{assets}", "a new order, one request, nothing uploaded"),
        ("POST", assets, "asset reservation (fileName, fileSize): the upload operations"),
        ("PATCH", f"{assets}/{{id}}", "commit (uploaded, sourceFileChecksum)" + (", poster frame time code" if kind == "Preview" else "")),
        ("GET", f"{assets}/{{id}}", "a commit refused as done already (its answer lost) is confirmed"),
        ("DELETE", f"{assets}/{{id}}", "files the program no longer lists, failed uploads, interrupted reservations"),
    )
})


@dataclass(frozen=True)
class Deviation:
    """A way Apple's live API departs from its spec that the emulator reproduces on purpose."""

    key: str
    summary: str
    evidence: str


DEVIATIONS: dict[str, Deviation] = {
    d.key: d
    for d in (
        Deviation(
            "timestamp-offset-without-colon",
            "date-time values carry the offset as +0000 (no colon), which is not RFC 3339",
            "codemagic/device.json (addedDate), codemagic/certificate.json and ittybittyapps certificates "
            "(expirationDate); project fixture tests/contract/fixtures/device_added_plus0000.json",
        ),
        Deviation(
            "null-attributes",
            "attributes without a value are sent as null, although no response schema is nullable",
            "codemagic/bundle_id_capability.json (settings: null), codemagic/certificate.json (csrContent: null); "
            "project fixture tests/contract/fixtures/capability_settings_null.json",
        ),
        Deviation(
            "capability-bundleId-relationship",
            "bundleIdCapabilities carry relationships.bundleId, which the BundleIdCapability schema lacks",
            "codemagic/bundle_id_capability.json; project fixture tests/contract/fixtures/capability_settings_null.json",
        ),
        Deviation(
            "empty-to-one-is-null",
            "an empty to-one relationship answers {\"data\": null} (the spec's linkage/related responses "
            "require a data object)",
            "response quoted in AvdLee/appstoreconnect-swift-sdk#263 (GET …/appStoreVersionPhasedRelease); "
            "project fixture tests/contract/fixtures/to_one_related_null.json",
        ),
        Deviation(
            "error-links-see",
            "error objects carry links.see (e.g. \"/business\" on the agreements 403), which the spec's "
            "ErrorLinks lacks",
            "codemagic/error_response_with_links.json (see: /agreements); the 403 quoted in Apple Developer "
            "Forums thread 819390 (see: /business); tests/unit/fixtures/asc_errors/agreements_links_see.json",
        ),
    )
}

_APPLE_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?[+-]\d{4}$")


def spec_date_time(value: Any) -> bool:
    return not isinstance(value, str) or validate_rfc3339(value)


def apple_date_time(value: Any) -> bool:
    """RFC 3339, or Apple's ``…+0000`` form (deviation ``timestamp-offset-without-colon``)."""
    return not isinstance(value, str) or validate_rfc3339(value) or bool(_APPLE_OFFSET.match(value))


# --------------------------------------------------------------------------------------
# Exchanges and findings
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One ``/v1`` request and the emulator's answer, as recorded."""

    method: str
    path: str
    query: str = ""
    request_body: bytes = b""
    request_content_type: str | None = None
    authorized: bool = True  # an Authorization header was sent (its value is never kept)
    status: int = 200
    response_headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    response_body: bytes = b""
    test: str = ""  # node id of the test during which it was served
    origin: str = "test"  # "provider": sent by the reconciler/resources; "test": by a test
    seeded: frozenset[str] = frozenset()  # values and keys the test wrote via the admin API

    def describe(self) -> str:
        query = f"?{self.query}" if self.query else ""
        return f"{self.method} {self.path}{query} -> {self.status} [{self.origin}] in {self.test or '?'}"


@dataclass
class Violation:
    exchange: Exchange
    part: str  # operation | request | response | header
    message: str
    seeded: bool = False  # caused by an off-spec value the test itself seeded out of band

    def __str__(self) -> str:
        return f"{self.exchange.describe()}\n    {self.part}: {self.message}"


@dataclass
class Report:
    exchanges: int = 0
    requests_validated: int = 0
    responses_validated: int = 0
    operations: Counter[str] = field(default_factory=Counter)
    probes: Counter[str] = field(default_factory=Counter)  # unmatched method/path → status
    faults: int = 0
    deviations: Counter[str] = field(default_factory=Counter)
    violations: list[Violation] = field(default_factory=list)
    seeded: list[Violation] = field(default_factory=list)

    def add(self, other: Report) -> None:
        self.exchanges += other.exchanges
        self.requests_validated += other.requests_validated
        self.responses_validated += other.responses_validated
        self.operations.update(other.operations)
        self.probes.update(other.probes)
        self.faults += other.faults
        self.deviations.update(other.deviations)
        self.violations.extend(other.violations)
        self.seeded.extend(other.seeded)

    def summary(self) -> str:
        lines = [
            f"contract (Apple OpenAPI 4.4.1): {self.exchanges} exchanges, {self.requests_validated} requests and "
            f"{self.responses_validated} responses validated over {len(self.operations)} operations; "
            f"{sum(self.probes.values())} probes of operations Apple lacks, {self.faults} injected 5xx; "
            f"{len(self.violations)} violations"
            + (f" ({len(self.seeded)} more caused by off-spec data the tests seeded)" if self.seeded else "")
        ]
        if self.deviations:
            lines.append(
                "  deliberate deviations exercised: " + ", ".join(f"{k} ×{n}" for k, n in sorted(self.deviations.items()))
            )
        return "\n".join(lines)


# --------------------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------------------


def load_excerpt(path: Path = EXCERPT) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


class Contract:
    """Validates exchanges against the excerpt. ``strict`` forbids undeclared members."""

    def __init__(self, document: dict[str, Any] | None = None, *, strict: bool = True, deviations: bool = True) -> None:
        self.document = document if document is not None else load_excerpt()
        self.deviations_allowed = deviations
        config = Config(
            extra_format_validators={"date-time": apple_date_time if deviations else spec_date_time},
            additional_properties_default_policy="forbid" if strict else "allow",
            # Apple's spec is used verbatim, and it is not a valid OpenAPI 3.0 document everywhere:
            # e.g. `"enum": []` on the fields[appKeywords] parameters of /v1/apps (SOURCE.md).
            spec_validator_cls=None,
        )
        self.openapi = OpenAPI.from_dict(self.document, config=config)
        self.templates = [
            (method.upper(), template, _template_regex(template))
            for template, item in self.document["paths"].items()
            for method in item
            if method in ("get", "post", "patch", "delete", "put")
        ]
        components = copy.deepcopy(self.document["components"])
        if strict:
            _forbid_undeclared(components)
        self._error_validator = OAS30Validator({"$ref": "#/components/schemas/ErrorResponse", "components": components})

    # -- lookups ------------------------------------------------------------------------

    def operation(self, method: str, path: str) -> str | None:
        """``"METHOD /template"`` of Apple's operation for this request, or None."""
        for m, template, regex in self.templates:
            if m == method.upper() and regex.match(path):
                return f"{m} {template}"
        return None

    def operations(self) -> list[str]:
        return [f"{m} {t}" for m, t, _ in self.templates]

    def error_document_problems(self, body: Any) -> list[str]:
        """Why ``body`` is not an ``ErrorResponse`` with at least one error (strict members)."""
        problems = [_describe(e) for e in self._error_validator.iter_errors(body)]
        if not problems and not (isinstance(body, dict) and body.get("errors")):
            problems.append("no errors[]")
        return problems

    # -- checking -------------------------------------------------------------------------

    def check(self, exchange: Exchange, report: Report | None = None) -> Report:
        report = report if report is not None else Report()
        report.exchanges += 1
        found: list[Violation] = []

        def fail(part: str, message: str, offending: Iterable[str] = ()) -> None:
            seeded = bool(exchange.seeded) and any(o in exchange.seeded for o in offending)
            found.append(Violation(exchange, part, message, seeded))

        rate = exchange.response_headers.get("x-rate-limit")
        if rate is None or not RATE_LIMIT_HEADER.match(rate):
            fail("header", f"X-Rate-Limit is {rate!r}, not 'user-hour-lim:N;user-hour-rem:M;'")

        operation = self.operation(exchange.method, exchange.path)
        body = _json(exchange.response_body)
        if exchange.status >= 500:
            report.faults += 1
            if body is not _NOT_JSON:
                for problem in self.error_document_problems(body):
                    fail("response", f"a {exchange.status} JSON body is not an ErrorResponse: {problem}")
        elif operation is None:
            if exchange.origin == "provider":
                fail("operation", f"{exchange.method} {exchange.path} is no operation in Apple's spec")
            elif exchange.status not in (401, 404, 405):
                fail("operation", f"no operation in Apple's spec, yet answered {exchange.status} (expected 401/404/405)")
            else:
                report.probes[f"{exchange.method} {exchange.status}"] += 1
                report.responses_validated += 1
                for problem in self.error_document_problems(body if body is not _NOT_JSON else None):
                    fail("response", f"not an ErrorResponse: {problem}")
        else:
            report.operations[operation] += 1
            request = self._request(exchange)
            if exchange.origin == "provider" or 200 <= exchange.status < 300:
                report.requests_validated += 1
                for error in _errors(lambda: self.openapi.validate_request(request)):
                    fail("request", error.message, error.offending)
            report.responses_validated += 1
            response_body, applied = self._apply_deviations(operation, body)
            report.deviations.update(applied)
            if response_body is _SKIP:
                pass  # {"data": null} of an empty to-one: nothing left to validate but links
            else:
                raw = exchange.response_body if response_body is body else json.dumps(response_body).encode()
                response = MockResponse(
                    raw,
                    exchange.status,
                    headers=dict(exchange.response_headers),
                    content_type=exchange.response_headers.get("content-type", ""),
                )
                for error in _errors(lambda: self.openapi.validate_response(request, response)):
                    fail("response", error.message, error.offending)
        for violation in found:
            (report.seeded if violation.seeded else report.violations).append(violation)
        return report

    def check_all(self, exchanges: Iterable[Exchange]) -> Report:
        report = Report()
        for exchange in exchanges:
            self.check(exchange, report)
        return report

    def _request(self, exchange: Exchange) -> MockRequest:
        headers = {"Authorization": "Bearer recorded"} if exchange.authorized else {}
        if exchange.request_content_type:
            headers["Content-Type"] = exchange.request_content_type
        return MockRequest(
            SERVER,
            exchange.method.lower(),
            exchange.path,
            args=dict(parse_qsl(exchange.query, keep_blank_values=True)),
            headers=headers,
            data=exchange.request_body or None,
            content_type=(exchange.request_content_type or "application/json").split(";")[0],
        )

    def _apply_deviations(self, operation: str, body: Any) -> tuple[Any, list[str]]:
        """The body with the listed deviations taken out (see :data:`DEVIATIONS`)."""
        if not self.deviations_allowed or not isinstance(body, dict):
            return body, []
        if "errors" in body:
            return _without_error_see(body)
        applied: list[str] = []
        if "data" in body and body["data"] is None and operation.startswith("GET ") and _is_to_one(operation):
            links = body.get("links")
            if set(body) <= {"data", "links"} and isinstance(links, dict) and isinstance(links.get("self"), str):
                return _SKIP, ["empty-to-one-is-null"]
            return body, []
        document = copy.deepcopy(body)
        if any(_APPLE_OFFSET.match(v) and not validate_rfc3339(v) for v in _strings(document)):
            applied.append("timestamp-offset-without-colon")  # accepted by apple_date_time
        for resource in _resources(document):
            attributes = resource.get("attributes")
            if isinstance(attributes, dict):
                nulls = [k for k, v in attributes.items() if v is None]
                for key in nulls:
                    del attributes[key]
                if nulls:
                    applied.append("null-attributes")
            relationships = resource.get("relationships")
            if isinstance(relationships, dict):
                for member in relationships.values():
                    if isinstance(member, dict) and "data" in member and member["data"] is None:
                        del member["data"]
                        applied.append("empty-to-one-is-null")
                if resource.get("type") == "bundleIdCapabilities" and set(relationships) <= {"bundleId"}:
                    del resource["relationships"]
                    applied.append("capability-bundleId-relationship")
        return document, applied


def _without_error_see(body: dict[str, Any]) -> tuple[Any, list[str]]:
    """An error document without its errors' ``links.see`` (deviation ``error-links-see``)."""
    errors = body.get("errors")
    if not isinstance(errors, list) or not any(isinstance(e, dict) and isinstance(e.get("links"), dict) and "see" in e["links"] for e in errors):
        return body, []
    document = copy.deepcopy(body)
    for item in document["errors"]:
        links = item.get("links") if isinstance(item, dict) else None
        if isinstance(links, dict) and "see" in links:
            del links["see"]
            if not links:
                del item["links"]
    return document, ["error-links-see"]


_SKIP = object()
_NOT_JSON = object()


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return _NOT_JSON


def _resources(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    data = document.get("data")
    for item in data if isinstance(data, list) else [data]:
        if isinstance(item, dict):
            yield item
    for item in document.get("included") or []:
        if isinstance(item, dict):
            yield item


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _is_to_one(operation: str) -> bool:
    # Apple's to-one related/linkage paths end in a singular relationship name.
    return operation.rsplit("/", 1)[-1] in {"app", "bundleId", "passTypeId", "appStoreReviewDetail", "ageRatingDeclaration", "build"}


def _forbid_undeclared(node: Any) -> None:
    """``additionalProperties: false`` wherever a schema lists properties and says nothing
    about others (openapi-core's ``forbid`` policy, for the stand-alone ErrorResponse check)."""
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _forbid_undeclared(value)
    elif isinstance(node, list):
        for value in node:
            _forbid_undeclared(value)


def _template_regex(template: str) -> re.Pattern[str]:
    parts = [re.escape(p) if not p.startswith("{") else "[^/]+" for p in template.split("/")]
    return re.compile("^" + "/".join(parts) + "$")


@dataclass
class _Error:
    message: str
    offending: list[str]


def _describe(error: Any) -> str:
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{error.message} (at /{where})" if where else error.message


def _errors(call: Any) -> list[_Error]:
    """Every finding of an openapi-core validation call, flattened to readable messages."""
    try:
        call()
    except PathError as exc:
        return [_Error(f"{type(exc).__name__}: {exc}", [])]
    except Exception as exc:  # openapi-core's validation errors
        return list(_flatten(exc))
    return []


def _flatten(exc: BaseException) -> Iterator[_Error]:
    schema_errors = getattr(exc, "schema_errors", None)
    if schema_errors:
        for error in schema_errors:
            offending = [str(error.instance)] if not isinstance(error.instance, (dict, list)) else []
            if error.validator in ("additionalProperties", "properties"):
                offending += re.findall(r"'([^']+)' (?:was|were) unexpected", error.message)
                offending += [m for m in re.findall(r"'([^']+)'", error.message)]
            yield _Error(_describe(error), offending)
        return
    nested = getattr(exc, "errors", None) or getattr(exc, "schema_errors", None)
    if isinstance(nested, (list, tuple)) and nested:
        for inner in nested:
            yield from _flatten(inner)
        return
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not exc:
        inner = list(_flatten(cause))
        if inner:
            prefix = f"{type(exc).__name__}"
            name = getattr(exc, "name", None)
            if name:
                prefix += f" {name!r}"
            yield from (_Error(f"{prefix}: {e.message}", e.offending) for e in inner)
            return
    yield _Error(f"{type(exc).__name__}: {exc}", [])
