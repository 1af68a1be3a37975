import factory
from rest_framework.test import APIClient

from apps.accounts import services
from apps.accounts.models import User
from apps.core.actors import SYSTEM
from apps.core.principal import Grant


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    display_name = factory.Faker("name")
    password = factory.django.Password("correct horse battery")


def api_key_with(*grants: Grant | str, name: str = "test key") -> tuple:
    """(ApiKey, secret) holding the given grants (a bare string = unscoped permission)."""
    grants = [Grant(g) if isinstance(g, str) else g for g in grants]
    return services.api_key_create(display_name=name, grants=grants, actor=SYSTEM)


def api_key_client(*grants: Grant | str) -> tuple:
    """(APIClient, ApiKey): a client authenticated by a new API key holding the given grants."""
    api_key, secret = api_key_with(*grants)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client, api_key


def key_client(*grants: Grant | str) -> APIClient:
    """api_key_client without the key: the client alone."""
    client, _ = api_key_client(*grants)
    return client
