"""Firmware API (operations 41–45): upload/download round trips on local and S3 storage,
Range, validation, duplicates, assign/unassign, and requiredFirmwareVersion in the
property and area output."""

import hashlib
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.actors import SYSTEM
from apps.core.principal import Grant, Principal
from apps.events.models import Event
from apps.firmware.models import FirmwareAssignment, FirmwareVersion
from apps.locks import services as lock_services
from tests.factories import directory as d
from tests.firmware.conftest import TEST_SIGNING_KEY_ID

pytestmark = pytest.mark.django_db

IMAGE = os.urandom(300_000)  # several 64 KiB chunks, not a multiple of one


@pytest.fixture
def fw(client_for):
    client, _ = client_for("manage-firmware")
    return client


def upload(client, version, content, **extra):
    return client.post(
        f"/api/v1/firmware/{version}/upload",
        {"firmware": SimpleUploadedFile("image.bin", content), **extra},
        format="multipart",
    )


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture(params=["local", "s3"])
def storage(request):
    """Runs a test on local storage and on the moto S3 server."""
    if request.param == "s3":
        return "s3", request.getfixturevalue("s3_storage")
    return "local", None


def test_upload_download_round_trip(fw, storage):
    kind, bucket = storage
    data = d.ok(upload(fw, "4.2.0", IMAGE))
    sha = hashlib.sha256(IMAGE).hexdigest()
    assert data["firmwareVersion"] == "4.2.0" and data["deviceType"] == "Lock"
    assert (data["sha256"], data["size"], data["scopes"]) == (sha, len(IMAGE), [])
    assert data["manifest"] == {
        "version": "4.2.0",
        "sha256": sha,
        "size": len(IMAGE),
        "algorithm": "Ed25519",
        "keyId": TEST_SIGNING_KEY_ID,
        "signature": FirmwareVersion.objects.get().manifest_signature,
    }
    if kind == "s3":
        assert (data["s3Bucket"], data["s3Key"]) == (bucket, f"firmware/4.2.0/{sha}.bin")
    else:
        assert (data["s3Bucket"], data["s3Key"]) == (None, None)

    response = fw.get("/api/v1/firmware/4.2.0/download")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Length"] == str(len(IMAGE))
    assert response["ETag"] == f'"{sha}"' and response["Accept-Ranges"] == "bytes"
    assert response["X-Firmware-Key-Id"] == TEST_SIGNING_KEY_ID
    assert body_of(response) == IMAGE


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=0-15", 0, 15), ("bytes=-100", len(IMAGE) - 100, len(IMAGE) - 1), ("bytes=70000-", 70000, len(IMAGE) - 1)],
)
def test_range_downloads(fw, storage, header, first, last):
    upload(fw, "1.0", IMAGE)
    response = fw.get("/api/v1/firmware/1.0/download", HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(IMAGE)}"
    assert response["Content-Length"] == str(last - first + 1)
    assert body_of(response) == IMAGE[first : last + 1]


@pytest.mark.parametrize("header", [f"bytes={len(IMAGE)}-", "bytes=10-5", "bytes=-0", "bytes=x-y"])
def test_unsatisfiable_range_is_416_in_the_envelope(fw, header):
    upload(fw, "1.0", IMAGE)
    response = fw.get("/api/v1/firmware/1.0/download", HTTP_RANGE=header)
    body = d.refused(response, 416)
    assert body["error"].startswith("range not satisfiable")
    assert response["Content-Range"] == f"bytes */{len(IMAGE)}"


def test_conditional_downloads(fw):
    upload(fw, "1.0", IMAGE)
    etag = f'"{hashlib.sha256(IMAGE).hexdigest()}"'
    not_modified = fw.get("/api/v1/firmware/1.0/download", HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304 and not_modified["ETag"] == etag
    stale = fw.get("/api/v1/firmware/1.0/download", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"other"')
    assert stale.status_code == 200 and body_of(stale) == IMAGE
    fresh = fw.get("/api/v1/firmware/1.0/download", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert fresh.status_code == 206 and body_of(fresh) == IMAGE[:10]


@pytest.mark.parametrize(
    "version", ["1.0_beta", "v1 2", "-rc1", ".hidden", "..", "a" * 65, "unassign", "1.0+2", "1:0", "é1"]
)
def test_bad_version_strings_are_400_naming_version(fw, version):
    for response in (
        upload(fw, version, b"x"),
        fw.get(f"/api/v1/firmware/{version}"),
        fw.get(f"/api/v1/firmware/{version}/download"),
        fw.put(f"/api/v1/firmware/{version}/assign?scope=global"),
    ):
        if version == "unassign" and response.request["REQUEST_METHOD"] != "POST":
            continue  # /firmware/unassign is unassignFirmwareVersion's own path
        body = d.refused(response, 400)
        assert list(body["data"]["fields"]) == ["version"], body
    assert not FirmwareVersion.objects.exists()


@pytest.mark.parametrize("version", ["1", "1.0.0", "2024.06.01-rc.2", "A-b.C-9", "x" * 64])
def test_good_version_strings(fw, version):
    assert d.ok(upload(fw, version, b"x"))["firmwareVersion"] == version


def test_empty_missing_and_unknown_form_parts(fw):
    assert d.refused(upload(fw, "1.0", b""), 400)["data"]["fields"] == {"firmware": ["The submitted file is empty."]}
    missing = d.refused(fw.post("/api/v1/firmware/1.0/upload", {}, format="multipart"), 400)
    assert list(missing["data"]["fields"]) == ["firmware"]
    extra = d.refused(upload(fw, "1.0", b"x", notes="hi"), 400)
    assert extra["data"]["fields"] == {"notes": ["Unknown field."]}
    as_json = fw.post("/api/v1/firmware/1.0/upload", {"firmware": "x"}, format="json")
    d.refused(as_json, 415)
    assert not FirmwareVersion.objects.exists()


def test_oversized_files_are_413(fw, settings):
    settings.KEYHOUSE_FIRMWARE_MAX_BYTES = 1000
    assert d.ok(upload(fw, "1.0", b"x" * 1000))["size"] == 1000
    body = d.refused(upload(fw, "1.1", b"x" * 1001), 413)
    assert list(body["data"]["fields"]) == ["firmware"]
    # Far past the limit the middleware refuses the body before anything reads it.
    body = d.refused(upload(fw, "1.2", b"x" * 200_000), 413)
    assert body["error"].startswith("request body too large")
    assert list(FirmwareVersion.objects.values_list("version", flat=True)) == ["1.0"]


def test_the_firmware_limit_replaces_the_api_body_limit_on_the_upload_route_only(fw, settings):
    settings.KEYHOUSE_API_MAX_BODY_BYTES = 1024
    assert d.ok(upload(fw, "1.0", IMAGE))["size"] == len(IMAGE)
    response = fw.put("/api/v1/firmware/1.0/assign?scope=global", "x" * 5000, content_type="application/json")
    d.refused(response, 413)


def test_duplicate_identical_is_200_different_is_409(fw, storage):
    first = d.ok(upload(fw, "1.0", IMAGE))
    again = d.ok(upload(fw, "1.0", IMAGE))
    assert again == first
    body = d.refused(upload(fw, "1.0", IMAGE[:-1] + b"!"), 409)
    assert body["data"] == {"firmwareVersion": "1.0", "sha256": first["sha256"], "size": len(IMAGE)}
    assert Event.objects.filter(event_name="firmware.uploaded").count() == 1
    assert body_of(fw.get("/api/v1/firmware/1.0/download")) == IMAGE


def test_unknown_version_is_404(fw):
    for response in (
        fw.get("/api/v1/firmware/9.9"),
        fw.get("/api/v1/firmware/9.9/download"),
        fw.put("/api/v1/firmware/9.9/assign?scope=global"),
    ):
        d.refused(response, 404)


# -- assign / unassign ------------------------------------------------------------------


@pytest.fixture
def place():
    prop = d.property_create()
    area = d.area_create(prop)
    lock = lock_services.lock_install(
        lock=lock_services.lock_create(display_name="Door", prop=prop, actor=SYSTEM), area=area, actor=SYSTEM
    )
    return prop, area, lock


def test_assign_each_scope_and_show_scopes(fw, place):
    prop, area, lock = place
    upload(fw, "1.0", b"one")
    for query in (
        f"scope=lock&lockId={lock.pk}",
        f"scope=area&areaId={area.pk}",
        f"propertyId={prop.pk}&scope=property",
    ):
        d.ok(fw.put(f"/api/v1/firmware/1.0/assign?{query}"))
    data = d.ok(fw.put("/api/v1/firmware/1.0/assign?scope=global"))
    assert data["scopes"] == [
        {"scope": "lock", "lockId": str(lock.pk), "propertyId": None, "areaId": None},
        {"scope": "area", "lockId": None, "propertyId": str(prop.pk), "areaId": str(area.pk)},
        {"scope": "property", "lockId": None, "propertyId": str(prop.pk), "areaId": None},
        {"scope": "global", "lockId": None, "propertyId": None, "areaId": None},
    ]
    assert d.ok(fw.get("/api/v1/firmware/1.0"))["scopes"] == data["scopes"]
    assert Event.objects.filter(event_name="firmware.assigned").count() == 4

    assert d.ok(fw.put(f"/api/v1/firmware/unassign?scope=area&areaId={area.pk}&propertyId={prop.pk}")) == {}
    assert d.ok(fw.put("/api/v1/firmware/unassign?scope=global")) == {}
    assert d.ok(fw.put("/api/v1/firmware/unassign?scope=global")) == {}  # nothing left there: still 200
    assert [s["scope"] for s in d.ok(fw.get("/api/v1/firmware/1.0"))["scopes"]] == ["lock", "property"]
    assert Event.objects.filter(event_name="firmware.unassigned").count() == 2


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("", {"scope"}),
        ("scope=planet", {"scope"}),
        ("scope=lock", {"lockId"}),
        ("scope=area", {"areaId"}),
        ("scope=property", {"propertyId"}),
        ("scope=lock&lockId={lock}&areaId={area}", {"areaId"}),
        ("scope=area&areaId={area}&lockId={lock}", {"lockId"}),
        ("scope=property&propertyId={prop}&areaId={area}", {"areaId"}),
        ("scope=global&propertyId={prop}", {"propertyId"}),
        ("scope=global&lockId={lock}&areaId={area}", {"lockId", "areaId"}),
        ("scope=property", {"propertyId"}),
        ("scope=lock&lockId=not-a-uuid", {"lockId"}),
        ("scope=global&colour=red", {"colour"}),
    ],
)
def test_wrong_parameter_combinations_are_400_naming_them(fw, place, query, fields):
    prop, area, lock = place
    upload(fw, "1.0", b"one")
    query = query.format(prop=prop.pk, area=area.pk, lock=lock.pk)
    for url in (f"/api/v1/firmware/1.0/assign?{query}", f"/api/v1/firmware/unassign?{query}"):
        body = d.refused(fw.put(url), 400)
        assert set(body["data"]["fields"]) == fields, body
        for field in fields:
            assert field in body["error"]
    assert not FirmwareAssignment.objects.exists()


def test_targets_that_do_not_exist_or_are_in_another_property_are_404(fw, place):
    prop, area, lock = place
    other = d.property_create()
    upload(fw, "1.0", b"one")
    missing = "00000000-0000-7000-8000-000000000000"
    for query in (
        f"scope=lock&lockId={missing}",
        f"scope=area&areaId={missing}",
        f"scope=property&propertyId={missing}",
        f"scope=area&areaId={area.pk}&propertyId={other.pk}",
    ):
        d.refused(fw.put(f"/api/v1/firmware/1.0/assign?{query}"), 404)
        d.refused(fw.put(f"/api/v1/firmware/unassign?{query}"), 404)
    assert not FirmwareAssignment.objects.exists()


def test_property_scoped_key_assigns_only_inside_its_property(client_for, fw, place):
    prop, area, lock = place
    other = d.property_create()
    other_area = d.area_create(other)
    upload(fw, "1.0", b"one")
    scoped, _ = client_for(Grant("manage-firmware", property_id=prop.pk))
    for query in (
        f"scope=lock&lockId={lock.pk}",
        f"scope=area&areaId={area.pk}",
        f"scope=property&propertyId={prop.pk}",
    ):
        d.ok(scoped.put(f"/api/v1/firmware/1.0/assign?{query}"))
    for query in (f"scope=area&areaId={other_area.pk}", f"scope=property&propertyId={other.pk}"):
        d.refused(scoped.put(f"/api/v1/firmware/1.0/assign?{query}"), 404)
        d.refused(scoped.put(f"/api/v1/firmware/unassign?{query}"), 404)
    body = d.refused(scoped.put("/api/v1/firmware/1.0/assign?scope=global"), 403)
    assert "not scoped to a property" in body["error"]
    d.refused(scoped.put("/api/v1/firmware/unassign?scope=global"), 403)
    # An unscoped key's global assignment shows to the scoped key; another property's does not.
    d.ok(fw.put(f"/api/v1/firmware/1.0/assign?scope=property&propertyId={other.pk}"))
    d.ok(fw.put("/api/v1/firmware/1.0/assign?scope=global"))
    seen = d.ok(scoped.get("/api/v1/firmware/1.0"))["scopes"]
    assert [(s["scope"], s["propertyId"]) for s in seen] == [
        ("lock", None),
        ("area", str(prop.pk)),
        ("property", str(prop.pk)),
        ("global", None),
    ]


# -- requiredFirmwareVersion in property and area output --------------------------------


def test_required_firmware_version_in_property_and_area_output(fw, owner_client, place):
    prop, area, _lock = place
    child = d.area_create(prop, parent=area)
    upload(fw, "1.0", b"one")
    upload(fw, "2.0", b"two")

    def required():
        got_prop = d.ok(owner_client.get(f"/api/v1/properties/{prop.pk}"))["private"]
        listed = {p["propertyId"]: p["private"] for p in d.ok(owner_client.get("/api/v1/properties"))["properties"]}
        areas = d.ok(owner_client.get(f"/api/v1/properties/{prop.pk}/areas"))["properties"]
        got_child = d.ok(owner_client.get(f"/api/v1/properties/{prop.pk}/areas/{child.pk}"))["private"]
        assert listed[str(prop.pk)] == got_prop
        by_area = {a["areaId"]: a["private"]["requiredFirmwareVersion"] for a in areas}
        assert by_area[str(child.pk)] == got_child["requiredFirmwareVersion"]
        return got_prop["requiredFirmwareVersion"], by_area[str(area.pk)], by_area[str(child.pk)]

    assert required() == (None, None, None)
    d.ok(fw.put("/api/v1/firmware/1.0/assign?scope=global"))
    assert required() == ("1.0", "1.0", "1.0")
    d.ok(fw.put(f"/api/v1/firmware/2.0/assign?scope=area&areaId={area.pk}"))
    assert required() == ("1.0", "2.0", "2.0")
    d.ok(fw.put(f"/api/v1/firmware/1.0/assign?scope=area&areaId={child.pk}"))
    assert required() == ("1.0", "2.0", "1.0")
    d.ok(fw.put(f"/api/v1/firmware/2.0/assign?scope=property&propertyId={prop.pk}"))
    d.ok(fw.put(f"/api/v1/firmware/unassign?scope=area&areaId={area.pk}"))
    assert required() == ("2.0", "2.0", "1.0")


# -- a lock as the caller (lock credentials come with the keys issue) --------------------


def _as_lock(lock):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user=Principal(kind="lock", id=lock.pk, grants=(Grant("lock"),), label=f"lock:{lock.pk}"))
    return client


def test_a_lock_reads_and_downloads_only_its_required_version(fw, place):
    prop, area, lock = place
    neighbour = lock_services.lock_create(display_name="Other door", prop=prop, actor=SYSTEM)
    upload(fw, "1.0", b"one")
    upload(fw, "2.0", IMAGE)
    d.ok(fw.put(f"/api/v1/firmware/2.0/assign?scope=area&areaId={area.pk}"))
    d.ok(fw.put(f"/api/v1/firmware/1.0/assign?scope=lock&lockId={neighbour.pk}"))
    d.ok(fw.put("/api/v1/firmware/2.0/assign?scope=global"))
    client = _as_lock(lock)

    data = d.ok(client.get("/api/v1/firmware/2.0"))
    assert [s["scope"] for s in data["scopes"]] == ["area", "global"]  # only its own chain
    assert body_of(client.get("/api/v1/firmware/2.0/download")) == IMAGE
    d.refused(client.get("/api/v1/firmware/1.0"), 404)
    d.refused(client.get("/api/v1/firmware/1.0/download"), 404)
    d.refused(client.put("/api/v1/firmware/2.0/assign?scope=global"), 403)
    d.refused(_as_lock(neighbour).get("/api/v1/firmware/2.0/download"), 404)
