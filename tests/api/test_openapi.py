"""The OpenAPI document: builds with zero warnings, shows the envelope and paging, and every
operation it lists is pinned to an operationId in the permission map."""

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.module_loading import import_string

from apps.core.api.views import ApiView
from apps.core.operations import OPERATIONS, SPEC_OPERATION_IDS

FILE_OPERATIONS = {  # the bytes themselves, by content type
    "downloadFirmwareVersion": {"application/octet-stream"},
    "exportProperty": {"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
}
ACCEPTED_OPERATIONS = {  # queued for the next poll
    "pollIntegrationAccount",
    "reassignLocktFob",
    "createLocktMark",
    "deleteLocktMark",
}
NO_CONTENT_OPERATIONS = {"deleteUnitUserDevice"}  # seed 002: 204, no body (docs/PORTAL.md)


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    out = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    # --fail-on-warn turns any drf-spectacular warning or error into a failure.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    return yaml.safe_load(out.read_text())


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, op in item.items():
            yield path, method, op


def test_title_and_version_come_from_the_spec(schema):
    assert schema["info"]["title"] == "DoorLock API"
    assert schema["info"]["version"] == "1.0.0"


def test_every_operation_id_is_in_the_permission_map(schema):
    ids = [op["operationId"] for _, _, op in _operations(schema)]
    assert ids and len(ids) == len(set(ids))
    assert set(ids) <= set(OPERATIONS)


def test_implemented_spec_operations_are_a_subset_of_the_47(schema):
    assert len(SPEC_OPERATION_IDS) == 47
    implemented = {op["operationId"] for _, _, op in _operations(schema)} & SPEC_OPERATION_IDS
    assert implemented <= SPEC_OPERATION_IDS


def test_envelope_and_errors_are_documented(schema):
    components = schema["components"]["schemas"]
    assert set(components["ErrorOutput"]["required"]) == {"success", "error", "data"}
    for path, method, op in _operations(schema):
        if op["operationId"] in NO_CONTENT_OPERATIONS:
            assert {"204", "400", "401", "403", "404"} <= set(op["responses"]), (path, method)
            assert "content" not in op["responses"]["204"], (path, method)
            continue
        # 202 only where work is queued, not done (a poll, a fob move pushed at the next poll); else 200
        success = "202" if op["operationId"] in ACCEPTED_OPERATIONS else "200"
        assert {success, "400", "401", "403", "404"} <= set(op["responses"]), (path, method)
        if op["operationId"] in FILE_OPERATIONS:  # spec return type `File`: the bytes themselves
            assert set(op["responses"]["200"]["content"]) == FILE_OPERATIONS[op["operationId"]], (path, method)
            continue
        ok = op["responses"][success]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert ok.endswith("Output"), (path, method, ok)
        assert set(components[ok]["properties"]) >= {"success", "error", "data"}


def test_paged_list_shows_page_token_and_items(schema):
    op = schema["paths"]["/api/v1/api-keys"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"pageToken", "pageSize"}
    components = schema["components"]["schemas"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ApiKeyListOutput")
    data = components["ApiKeyListOutput_data"]
    assert set(data["properties"]) == {"apiKeys", "pageToken"}


def test_spec_fields_are_camel_case_and_required(schema):
    api_key = schema["components"]["schemas"]["ApiKey"]
    assert {
        "apiKeyId",
        "apiPermissions",
        "displayName",
        "type",
        "typeState",
        "createdAt",
        "lastModifiedAt",
        "lastModifiedBy",
    } <= set(api_key["required"])


def _api_views(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _api_views(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "view_class", None)
            if (prefix + str(entry.pattern)).startswith("api/v1/") and view and hasattr(view, "http_method_names"):
                yield prefix + str(entry.pattern), view


def test_every_api_view_is_an_apiview_with_pinned_operations():
    checked = 0
    for route, view in _api_views():
        if "schema" in route or "docs" in route or "redoc" in route:
            continue
        assert issubclass(view, ApiView), route
        for method in view.http_method_names:
            handler = getattr(view, method, None)
            if handler is not None and method not in {"options", "head"}:
                assert getattr(handler, "operation_id", None) in OPERATIONS, (route, method)
                checked += 1
    assert checked >= 6


def test_own_email_change_operations_are_documented_with_their_envelopes(schema):
    components = schema["components"]["schemas"]
    for path, operation_id, body_fields, output in (
        ("/api/v1/me/email", "requestEmailChange", {"email"}, "EmptyOutput"),
        ("/api/v1/me/email/confirm", "confirmEmailChange", {"email", "code"}, "UserOutput"),
    ):
        op = schema["paths"][path]["post"]
        assert op["operationId"] == operation_id
        body = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert set(components[body]["properties"]) == set(components[body]["required"]) == body_fields
        ok = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ok == f"#/components/schemas/{output}"
        assert "429" in op["responses"]


@pytest.mark.parametrize(
    ("operation_id", "filterset_path"),
    [
        ("listEvents", "apps.events.filters.EventFilterSet"),
        ("listAreas", "apps.areas.filters.AreaFilterSet"),
        ("listLocks", "apps.locks.filters.LockFilterSet"),
        ("listUserGroups", "apps.access.filters.UserGroupFilterSet"),
        ("listGroupsForUser", "apps.access.filters.UserGroupFilterSet"),
        ("listGroupsForUserAtProperty", "apps.access.filters.UserGroupFilterSet"),
        ("listUsersForGroup", "apps.accounts.filters.UserFilterSet"),
    ],
)
def test_filtered_lists_document_every_filter(schema, operation_id, filterset_path):
    filterset = import_string(filterset_path)
    op = next(op for _, _, op in _operations(schema) if op["operationId"] == operation_id)
    documented = {p["name"] for p in op["parameters"] if p["in"] == "query"} - {"pageToken", "pageSize"}
    assert documented == set(filterset.base_filters)
