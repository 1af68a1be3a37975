"""Regression: the API docs, schema and ReDoc answered 500 to a signed-in admin user (the
per-principal throttle expected an API Principal and got a Django User)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/schema/", "/api/v1/docs/", "/api/v1/redoc/"])
def test_docs_answer_a_signed_in_admin(staff_client, path):
    response = staff_client.get(path)
    assert response.status_code == 200


def test_schema_answers_anonymous_when_public(client):
    assert client.get("/api/v1/schema/").status_code == 200
