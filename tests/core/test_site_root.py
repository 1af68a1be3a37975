"""Regression: `/` and `/api/v1/` were 404s (the admin's "View site" led nowhere)."""

import pytest

pytestmark = pytest.mark.django_db


def test_site_root_leads_to_the_admin(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_api_root_lists_docs_schema_and_top_resources(client):
    response = client.get("/api/v1/")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["error"] is None
    data = body["data"]
    assert data["docs"] == "http://testserver/api/v1/docs/"
    assert data["schema"] == "http://testserver/api/v1/schema/"
    assert data["redoc"] == "http://testserver/api/v1/redoc/"
    assert data["resources"]["properties"] == "http://testserver/api/v1/properties"
    # Every listed resource exists: an anonymous call is refused (401), never 404.
    for url in data["resources"].values():
        assert client.get(url.removeprefix("http://testserver")).status_code != 404, url
    for url in (data["docs"], data["schema"]):
        assert client.get(url).status_code == 200
