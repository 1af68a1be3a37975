"""The API's documentation pages answer a person signed in to the admin
(they once answered 500: the rate limit expected an API credential and got a Django user)."""

import pytest

pytestmark = pytest.mark.django_db

PAGES = ["/api/v1/docs/", "/api/v1/schema/", "/api/v1/redoc/"]


@pytest.mark.parametrize("url", PAGES)
def test_docs_pages_answer_a_signed_in_admin(staff_client, url):
    response = staff_client.get(url)
    assert response.status_code == 200, response.content[:300]


@pytest.mark.parametrize("url", PAGES)
def test_docs_pages_answer_anonymous(client, url):
    assert client.get(url).status_code == 200


def test_explain_page_with_a_malformed_person_id_shows_the_form(staff_client):
    response = staff_client.get("/admin/access/accessgrant/explain/?explain=1&user=not-a-uuid")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Explain access" in html and "errorlist" in html  # asked again, not a 500
