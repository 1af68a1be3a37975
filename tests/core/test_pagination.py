"""pageToken paging, exercised through a real list endpoint (GET /api/v1/api-keys)."""

import pytest

from apps.core.principal import Grant
from tests.factories import directory as d
from tests.factories.accounts import api_key_with

pytestmark = pytest.mark.django_db


def _page(client, **params):
    response = client.get("/api/v1/api-keys", params)
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    return [item["apiKeyId"] for item in data["apiKeys"]], data["pageToken"]


def _walk(client, page_size, between_pages=lambda: None):
    seen, token = [], None
    while True:
        params = {"pageSize": page_size, **({"pageToken": token} if token else {})}
        ids, token = _page(client, **params)
        seen.extend(ids)
        if token is None:
            return seen
        between_pages()


def test_walking_pages_returns_every_row_once_in_key_order(owner_client):
    for n in range(7):
        api_key_with("support", name=f"k{n}")
    seen = _walk(owner_client, 3)
    assert len(seen) == 8  # 7 + the caller's own key
    assert len(set(seen)) == 8
    assert seen == sorted(seen)


def test_rows_created_between_pages_are_neither_skipped_nor_repeated(owner_client):
    for n in range(5):
        api_key_with("support", name=f"k{n}")
    created = []

    def insert():
        api_key, _ = api_key_with("support", name="late")
        created.append(str(api_key.pk))

    seen = _walk(owner_client, 2, between_pages=insert)
    assert len(seen) == len(set(seen))
    assert set(created) <= set(seen)


def test_default_page_size_is_50_and_last_page_has_no_token(owner_client):
    for n in range(50):
        api_key_with(Grant("support"), name=f"k{n}")
    ids, token = _page(owner_client)
    assert len(ids) == 50 and token
    ids, token = _page(owner_client, pageToken=token)
    assert len(ids) == 1 and token is None


def test_tampered_page_token_is_400_naming_it(owner_client):
    for n in range(3):
        api_key_with("support", name=f"k{n}")
    _, token = _page(owner_client, pageSize=1)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = owner_client.get("/api/v1/api-keys", {"pageToken": tampered})
    assert response.status_code == 400
    assert list(response.json()["data"]["fields"]) == ["pageToken"]
    assert owner_client.get("/api/v1/api-keys", {"pageToken": "garbage"}).status_code == 400


def test_token_from_another_list_is_refused(owner_client):
    for n in range(3):
        api_key_with("support", name=f"k{n}")
    _, token = _page(owner_client, pageSize=1)
    response = owner_client.get("/api/v1/api-keys", {"pageToken": token, "someFilter": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize("size", ["0", "501", "ten"])
def test_page_size_out_of_range_is_400(owner_client, size):
    response = owner_client.get("/api/v1/api-keys", {"pageSize": size})
    assert response.status_code == 400
    assert "pageSize" in response.json()["error"]


def test_page_token_longer_than_the_limit_is_400_naming_it(owner_client):
    for n in range(3):
        api_key_with("support", name=f"k{n}")
    _, token = _page(owner_client, pageSize=1)
    assert len(token) <= 200  # the limit leaves room for a longer token version
    for oversized in ("x" * 513, token + "x" * (513 - len(token)), "x" * 4000):
        response = owner_client.get("/api/v1/api-keys", {"pageToken": oversized})
        assert response.status_code == 400
        body = response.json()
        assert body["data"]["fields"] == {"pageToken": ["At most 512 characters."]}
        assert body["error"] == "pageToken: At most 512 characters."
    assert _page(owner_client, pageSize=1, pageToken=token)[1] is not None


def test_the_schema_documents_the_page_token_limit(owner_client):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    parameters = [p for p in schema["paths"]["/api/v1/api-keys"]["get"]["parameters"] if p["name"] == "pageToken"]
    assert parameters[0]["schema"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 512,
        "pattern": "^[A-Za-z0-9_.:-]+$",  # django.core.signing's alphabet
    }


def test_an_empty_page_token_or_size_is_refused(owner_client):
    """The schema says a token is at least one character and a size an integer: `?pageToken=`
    and `?pageSize=` are 400s naming them, not the first page."""
    for name in ("pageToken", "pageSize"):
        refused = d.refused(owner_client.get("/api/v1/api-keys", {name: ""}), 400)
        assert set(refused["data"]["fields"]) == {name}
